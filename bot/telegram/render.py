"""Engine replies and offers -> Bot API calls. The one place that decides how the bot looks on
Telegram.

The engine says what to show (texts, buttons, the offers an outcome makes); this module alone
turns that into Bot API parameters: inline keyboards, the booking link, the buttons to send
one's answers to the therapist and to be checked on later, edits. Everything is rendered to
plain ``dict`` parameters (not python-telegram-bot objects): they go into the outbox as JSON
and are sent with ``bot.do_api_request``, which skips building ``Message`` objects for results
nobody reads.

All text is HTML-escaped first (user-derived text included: a typed answer echoed back can
never inject markup), then ``**bold**`` becomes ``<b>bold</b>`` (:mod:`bot.markup`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot import callback, markup
from bot.engine import Action, Answered, Button, Link, Reply, ReplyKind, Result
from bot.storage import OutgoingMessage
from bot.telegram.texts import checkin_button, say

PARSE_MODE = "HTML"
MAX_TEXT = 4096  # Telegram's limit for a message's visible text
PROMPT = "prompt"  # outbox tag: a question whose message id we remember for typed answers
TICKED = "✅"
UNTICKED = "▫️"
ANSWER_MARK = "→"
NUMBER_COLUMNS = 6  # a 0-10 scale as two compact rows when the flow does not say otherwise

# The transport's own buttons: "x|<action>|<argument>" (bot.telegram.handlers routes them).
ACTION_PREFIX = "x|"
LEAD_ACTION = "lead"
LEAD = f"{ACTION_PREFIX}{LEAD_ACTION}|send"  # "Send my answers to the therapist"
CHECKIN_ACTION = "checkin"
CHECKIN = f"{ACTION_PREFIX}{CHECKIN_ACTION}|book"  # "Check in with me in N days"

Keyboard = dict[str, list[list[dict[str, str]]]]


@dataclass(frozen=True, slots=True)
class Offering:
    """What the practice has set up for the offers under an outcome (the flow says which
    offers an outcome makes; this says which of them this bot can keep)."""

    leads: bool = False  # admin chats to send a summary to (ADMIN_CHAT_IDS)
    checkin_days: int | None = None  # FOLLOWUP_DAYS; None: no check-ins

    def shows(self, offer: str) -> bool:
        if offer == "lead":
            return self.leads
        if offer == "checkin":
            return self.checkin_days is not None
        return True


NO_PRACTICE = Offering()  # the booking link alone (the terminal, tests of the conversation)


@functools.lru_cache(maxsize=1024)
def to_html(text: str) -> str:
    """Escape ``text`` for Telegram's HTML mode, then turn ``**x**`` into ``<b>x</b>``.

    Cached: a flow's questions and notices are the same few texts over and over.
    """
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return markup.to_html(text)


def result_messages(
    chat_id: int,
    result: Result,
    *,
    pressed_message_id: int | None = None,
    prompt_message_id: int | None = None,
    answered_message_id: int | None = None,
    offering: Offering = NO_PRACTICE,
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
        return [keyboard_edit(chat_id, pressed_message_id, result.replies[-1], offering)]
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
    messages.extend(send(chat_id, reply, offering) for reply in result.replies)
    return messages


def send(chat_id: int, reply: Reply, offering: Offering = NO_PRACTICE) -> OutgoingMessage:
    text = to_html(reply.text)
    if "lead" in reply.offers and offering.leads:
        # What pressing "Send my answers" shares, said before anyone presses it.
        line = f"\n\n<i>{markup.to_html(say('consent_line', reply.language))}</i>"
        if len(text) + len(line) <= MAX_TEXT:
            text += line
    params: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": PARSE_MODE}
    buttons = keyboard(reply, offering)
    if buttons is not None:
        params["reply_markup"] = buttons
    tag = PROMPT if reply.kind is ReplyKind.QUESTION else None
    return OutgoingMessage(chat_id, "sendMessage", params, tag)


def answered_edit(
    chat_id: int, message_id: int, answered: Answered, link: Link | None = None
) -> OutgoingMessage:
    """The question as it was asked, with the answer under it and no buttons left (but
    ``link``, when given: the booking page stays under a check-in answered calmly)."""
    text = f"{to_html(answered.question)}\n\n{ANSWER_MARK} <b>{to_html(answered.answer)}</b>"
    params: dict[str, Any] = {
        "chat_id": chat_id,
        "message_id": message_id,
        "text": text,
        "parse_mode": PARSE_MODE,
    }
    if link is not None:
        params["reply_markup"] = {"inline_keyboard": [[url_button(link)]]}
    return OutgoingMessage(chat_id, "editMessageText", params)


def keyboard_edit(
    chat_id: int, message_id: int, reply: Reply, offering: Offering = NO_PRACTICE
) -> OutgoingMessage:
    """Redraw a message's buttons in place: a multi-select's ticks, or an outcome's offers
    once one of them is used."""
    params = {
        "chat_id": chat_id,
        "message_id": message_id,
        "reply_markup": keyboard(reply, offering) or {"inline_keyboard": []},
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


def url_button(link: Link) -> dict[str, str]:
    return {"text": link.label, "url": link.url}


def data_button(label: str, data: str) -> dict[str, str]:
    if len(data.encode("utf-8")) > callback.MAX_BYTES:
        raise ValueError(f"callback data over {callback.MAX_BYTES} bytes: {data!r}")
    return {"text": label, "callback_data": data}


def keyboard(reply: Reply, offering: Offering = NO_PRACTICE) -> Keyboard | None:
    """The inline keyboard for a reply: its buttons, then its offers (the booking link, "Send
    my answers to the therapist", "Check in with me in N days"), one a row. The result is
    shared (cached): never change it."""
    offers = tuple(offer for offer in reply.offers if offering.shows(offer))
    language = reply.language if offers else None
    return _keyboard(reply.buttons, reply.columns, reply.link, offers, language, offering)


@functools.lru_cache(maxsize=1024)
def _keyboard(
    buttons: tuple[Button, ...],
    columns: int,
    link: Link | None,
    offers: tuple[str, ...],
    language: str | None,
    offering: Offering,
) -> Keyboard | None:
    rows: list[list[dict[str, str]]] = []
    if buttons:
        choices = [b for b in buttons if b.action is not Action.DONE]
        done = [b for b in buttons if b.action is Action.DONE]
        if choices and choices[0].action is Action.NUMBER and columns <= 1:
            columns = NUMBER_COLUMNS
        rows.extend(_rows((_button(b) for b in choices), columns))
        rows.extend([_button(b)] for b in done)
    if link is not None:
        rows.append([url_button(link)])
    if "lead" in offers:
        rows.append([data_button(say("consent_button", language), LEAD)])
    if "checkin" in offers and offering.checkin_days is not None:
        rows.append([data_button(checkin_button(offering.checkin_days, language), CHECKIN)])
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
