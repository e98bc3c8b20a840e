"""Engine replies -> Bot API calls. The one place that decides how the bot looks on Telegram.

Everything is rendered to plain ``dict`` parameters (not python-telegram-bot objects): they go
into the outbox as JSON and are sent with ``bot.do_api_request``, which skips building
``Message`` objects for results nobody reads.

All text is HTML-escaped first (user-derived text included: a typed answer echoed back can
never inject markup), then the engine's ``**bold**`` becomes ``<b>bold</b>``.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

from bot import callback
from bot.engine import Action, Answered, Button, Link, Reply, ReplyKind, Result
from bot.storage import OutgoingMessage

PARSE_MODE = "HTML"
MAX_TEXT = 4096  # Telegram's limit for a message's visible text
PROMPT = "prompt"  # outbox tag: a question whose message id we remember for typed answers
TICKED = "✅"
UNTICKED = "▫️"
ANSWER_MARK = "→"
NUMBER_COLUMNS = 6  # a 0-10 scale as two compact rows when the flow does not say otherwise

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)

Keyboard = dict[str, list[list[dict[str, str]]]]


@functools.lru_cache(maxsize=1024)
def to_html(text: str) -> str:
    """Escape ``text`` for Telegram's HTML mode, then turn ``**x**`` into ``<b>x</b>``.

    Cached: a flow's questions and notices are the same few texts over and over.
    """
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return _BOLD.sub(r"<b>\1</b>", html.escape(text, quote=False))


def result_messages(
    chat_id: int,
    result: Result,
    *,
    pressed_message_id: int | None = None,
    prompt_message_id: int | None = None,
    answered_message_id: int | None = None,
) -> list[OutgoingMessage]:
    """What to send for one engine result, in order.

    ``pressed_message_id`` is the message whose button was pressed (``None`` for typed input);
    ``prompt_message_id`` the last question we sent: edited when a typed answer settles it, and
    stripped of its buttons when the question is asked again below it (after a notice, /back,
    /restart ...), so that only the newest question in the chat has live buttons.
    ``answered_message_id`` is an earlier question whose answer the person corrected by
    editing their message: the new answer is shown there instead.
    """
    if result.refresh and pressed_message_id is not None and result.replies:
        return [keyboard_edit(chat_id, pressed_message_id, result.replies[-1])]
    messages: list[OutgoingMessage] = []
    answered_id = pressed_message_id
    if answered_id is None:
        answered_id = answered_message_id if answered_message_id is not None else prompt_message_id
    if result.answered is not None and answered_id is not None:
        messages.append(answered_edit(chat_id, answered_id, result.answered))
    else:
        answered_id = None
    if (
        prompt_message_id is not None
        and prompt_message_id != answered_id
        and any(reply.kind is ReplyKind.QUESTION for reply in result.replies)
    ):
        messages.append(keyboard_removal(chat_id, prompt_message_id))
    messages.extend(send(chat_id, reply) for reply in result.replies)
    return messages


def send(chat_id: int, reply: Reply) -> OutgoingMessage:
    params: dict[str, Any] = {"chat_id": chat_id, "text": to_html(reply.text)}
    params["parse_mode"] = PARSE_MODE
    markup = keyboard(reply)
    if markup is not None:
        params["reply_markup"] = markup
    tag = PROMPT if reply.kind is ReplyKind.QUESTION else None
    return OutgoingMessage(chat_id, "sendMessage", params, tag)


def answered_edit(chat_id: int, message_id: int, answered: Answered) -> OutgoingMessage:
    """The question as it was asked, with the answer under it and no buttons left."""
    text = f"{to_html(answered.question)}\n\n{ANSWER_MARK} <b>{to_html(answered.answer)}</b>"
    params = {"chat_id": chat_id, "message_id": message_id, "text": text, "parse_mode": PARSE_MODE}
    return OutgoingMessage(chat_id, "editMessageText", params)


def keyboard_edit(chat_id: int, message_id: int, reply: Reply) -> OutgoingMessage:
    """Redraw a multi-select's ticks in place."""
    params = {
        "chat_id": chat_id,
        "message_id": message_id,
        "reply_markup": keyboard(reply) or {"inline_keyboard": []},
    }
    return OutgoingMessage(chat_id, "editMessageReplyMarkup", params)


def keyboard_removal(chat_id: int, message_id: int) -> OutgoingMessage:
    """Take the buttons off a question that is asked again further down."""
    params = {"chat_id": chat_id, "message_id": message_id, "reply_markup": {"inline_keyboard": []}}
    return OutgoingMessage(chat_id, "editMessageReplyMarkup", params)


def text_message(
    chat_id: int, text: str, buttons: Sequence[Sequence[dict[str, str]]] = ()
) -> OutgoingMessage:
    """A message of the transport's own (help, privacy, ...), ``**bold**`` allowed."""
    params: dict[str, Any] = {"chat_id": chat_id, "text": to_html(text), "parse_mode": PARSE_MODE}
    if buttons:
        params["reply_markup"] = {"inline_keyboard": [list(row) for row in buttons]}
    return OutgoingMessage(chat_id, "sendMessage", params)


def text_edit(chat_id: int, message_id: int, text: str) -> OutgoingMessage:
    params = {
        "chat_id": chat_id,
        "message_id": message_id,
        "text": to_html(text),
        "parse_mode": PARSE_MODE,
    }
    return OutgoingMessage(chat_id, "editMessageText", params)


def url_button(label: str, url: str) -> dict[str, str]:
    return {"text": label, "url": url}


def data_button(label: str, data: str) -> dict[str, str]:
    if len(data.encode("utf-8")) > callback.MAX_BYTES:
        raise ValueError(f"callback data over {callback.MAX_BYTES} bytes: {data!r}")
    return {"text": label, "callback_data": data}


def keyboard(reply: Reply) -> Keyboard | None:
    """The inline keyboard for a reply. The result is shared (cached): never change it."""
    return _keyboard(reply.buttons, reply.columns, reply.link)


@functools.lru_cache(maxsize=1024)
def _keyboard(buttons: tuple[Button, ...], columns: int, link: Link | None) -> Keyboard | None:
    rows: list[list[dict[str, str]]] = []
    if buttons:
        choices = [b for b in buttons if b.action is not Action.DONE]
        done = [b for b in buttons if b.action is Action.DONE]
        if choices and choices[0].action is Action.NUMBER and columns <= 1:
            columns = NUMBER_COLUMNS
        rows.extend(_rows((_button(b) for b in choices), columns))
        rows.extend([_button(b)] for b in done)
    if link is not None:
        rows.append([url_button(link.label, link.url)])
    return {"inline_keyboard": rows} if rows else None


def _button(button: Button) -> dict[str, str]:
    label = button.label
    if button.action is Action.TOGGLE:
        label = f"{TICKED if button.selected else UNTICKED} {label}"
    return data_button(label, callback.encode(button))


def _rows(buttons: Iterable[dict[str, str]], columns: int) -> list[list[dict[str, str]]]:
    columns = max(1, columns)
    rows: list[list[dict[str, str]]] = []
    for button in buttons:
        if not rows or len(rows[-1]) >= columns:
            rows.append([])
        rows[-1].append(button)
    return rows
