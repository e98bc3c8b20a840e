"""The Telegram Bot API, played inside the benchmark's own process.

:class:`FakeRequest` plugs into python-telegram-bot where its HTTP transport would go
(``telegram.request.BaseRequest`` is the documented place for custom transports). Each Bot API
call is answered at once, without a socket, by :class:`InProcessBotAPI`, which

* makes up the answer Telegram would give, from the call's own parameters: the sent or edited
  ``Message`` (right chat, a message id, the text and the inline keyboard), ``True`` for
  ``answerCallbackQuery`` and the like, the bench bot for ``getMe``, no updates for
  ``getUpdates``;
* counts the calls by method and adds up the time spent inside it (that time is part of what a
  benchmark measures, so it is reported beside the results);
* when ``capture`` is on, keeps what every chat is being shown: each message the bot sent, as
  it looks after the latest edit. The walker (:mod:`bench.harness.driver`) reads the buttons from
  there and presses one by its label, so it never needs the bot's ``callback_data`` format.

Private chats number their messages per chat, the person's and the bot's together; with
``capture`` on the fake does the same (the walker takes the person's message ids from it too).

A factory that takes ``request=`` gets a :class:`FakeRequest` that way. For one that builds its
transport itself, :func:`replace_default_transport` makes python-telegram-bot's default
``HTTPXRequest`` a :class:`FakeRequest` for as long as the factory runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_ID = 123456
BOT_USERNAME = "bench_triage_bot"
#: Shaped like a real token; nothing ever checks it (bench/product_bench.sh uses the same one).
TOKEN = f"{BOT_ID}:AAbench-bench-bench-bench-bench-bench"

BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Bench Bot",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

#: methods whose answer is the new message
SENDING = frozenset(
    m.lower()
    for m in (
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendAudio",
        "sendVoice",
        "sendSticker",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendDice",
        "forwardMessage",
    )
)
#: methods whose answer is the edited message (or True for a message sent via inline mode)
EDITING = frozenset(
    m.lower()
    for m in ("editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia")
)
#: everything else answers True, except these
FIXED_ANSWERS: dict[str, Any] = {
    "getupdates": [],
    "getmycommands": [],
    "getwebhookinfo": {"url": "", "has_custom_certificate": False, "pending_update_count": 0},
}


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str | None = None  # callback_data
    url: str | None = None


@dataclass(slots=True)
class Shown:
    """One message of a chat as the person sees it now."""

    message_id: int
    text: str
    #: the ``reply_markup`` as the bot sent it (a pressed button's message carries it back)
    markup: dict[str, Any] | None = None
    buttons: tuple[Button, ...] = ()

    @property
    def pressable(self) -> bool:
        return any(b.data is not None for b in self.buttons)


@dataclass(slots=True)
class ChatScreen:
    """What one chat shows: its messages by id, and which ones the bot touched lately."""

    messages: dict[int, Shown] = field(default_factory=dict)
    touched: list[int] = field(default_factory=list)
    last_message_id: int = 0


def _buttons(markup: Any) -> tuple[Button, ...]:
    if not isinstance(markup, dict):
        return ()
    return tuple(
        Button(b.get("text", ""), b.get("callback_data"), b.get("url"))
        for row in markup.get("inline_keyboard") or ()
        for b in row
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None  # an @channel name: not a chat the harness walks


class InProcessBotAPI:
    """The state behind every :class:`FakeRequest` of one run (see the module docstring).

    ``capture``: keep each chat's screen (off for bots whose replies nobody reads, such as the
    floor; then message ids come from one counter). ``encode``: JSON-encode the parameters of
    every call as python-telegram-bot's HTTP transport does before sending (on by default, so
    that work is measured; only the network is missing). ``latency_s``: an optional
    ``asyncio.sleep`` per call, a stand-in for the round trip (no network either).
    """

    def __init__(self, *, capture: bool = True, encode: bool = True, latency_s: float = 0.0):
        self.capture = capture
        self.encode = encode
        self.latency_s = latency_s
        self.calls: Counter[str] = Counter()
        self.seconds = 0.0
        self.screens: dict[int, ChatScreen] = {}
        self._ids = itertools.count(1)

    # --- for the walker ---------------------------------------------------------------------

    def new_message_id(self, chat_id: int) -> int:
        if not self.capture:
            return next(self._ids)
        screen = self.screens.setdefault(chat_id, ChatScreen())
        screen.last_message_id += 1
        return screen.last_message_id

    def take_touched(self, chat_id: int) -> list[Shown]:
        """The messages the bot sent or edited in ``chat_id`` since the last call, as they look
        now, oldest first (each once)."""
        screen = self.screens.get(chat_id)
        if screen is None or not screen.touched:
            return []
        ids = list(dict.fromkeys(screen.touched))
        screen.touched.clear()
        return [screen.messages[i] for i in ids if i in screen.messages]

    def lowest_pressable(self, chat_id: int) -> Shown | None:
        """The newest message of the chat that still has callback buttons (the bottom one)."""
        screen = self.screens.get(chat_id)
        if screen is None:
            return None
        for message_id in sorted(screen.messages, reverse=True):
            shown = screen.messages[message_id]
            if shown.pressable:
                return shown
        return None

    def forget(self, chat_id: int) -> None:
        """Drop a chat whose walk ended, so memory does not grow with the number of chats."""
        self.screens.pop(chat_id, None)

    def total_calls(self) -> int:
        return sum(self.calls.values())

    def reset_counters(self) -> None:
        self.calls.clear()
        self.seconds = 0.0

    # --- the answers ------------------------------------------------------------------------

    def answer(self, method: str, params: dict[str, Any]) -> Any:
        """The ``result`` Telegram would return for ``method`` called with ``params``."""
        name = method.lower()
        if name in SENDING or name in EDITING:
            if "inline_message_id" in params:
                return True
            return self._message(name, params)
        if name == "getme":
            return BOT_USER
        if name == "copymessage":
            chat_id = _int_or_none(params.get("chat_id"))
            return {"message_id": self.new_message_id(chat_id if chat_id is not None else 0)}
        return FIXED_ANSWERS.get(name, True)

    def _message(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int_or_none(params.get("chat_id"))
        if chat_id is None:
            chat_id = -1
        markup = params.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            markup = None  # reply keyboards and their removal are not shown on the message
        screen = self.screens.get(chat_id) if self.capture else None
        now = int(time.time())
        if name in EDITING:
            message_id = _int_or_none(params.get("message_id")) or 0
            before = screen.messages.get(message_id) if screen is not None else None
            if name == "editmessagereplymarkup":
                text = before.text if before is not None else ""
            else:
                text = str(params.get("text", params.get("caption", "")))
        else:
            message_id = self.new_message_id(chat_id)
            screen = self.screens.get(chat_id) if self.capture else None
            text = str(params.get("text", params.get("caption", "")))
        result: dict[str, Any] = {
            "message_id": message_id,
            "date": now,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": BOT_USER,
            "caption" if "caption" in params else "text": text,
        }
        if markup is not None:
            result["reply_markup"] = markup
        if name in EDITING:
            result["edit_date"] = now
        if screen is not None:
            screen.messages[message_id] = Shown(message_id, text, markup, _buttons(markup))
            screen.touched.append(message_id)
        return result


class FakeRequest(BaseRequest):
    """A python-telegram-bot transport answered by an :class:`InProcessBotAPI`."""

    __slots__ = ("api",)

    def __init__(self, api: InProcessBotAPI | None = None) -> None:
        self.api = api if api is not None else InProcessBotAPI(capture=False)

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api = self.api
        started = time.perf_counter()
        endpoint = url.rpartition("/")[2]
        params: dict[str, Any] = {}
        if request_data is not None:
            if api.encode:
                _ = request_data.json_parameters  # what the HTTP transport would put on the wire
            params = request_data.parameters
        api.calls[endpoint] += 1
        body = json.dumps({"ok": True, "result": api.answer(endpoint, params)}).encode()
        api.seconds += time.perf_counter() - started
        if api.latency_s:
            await asyncio.sleep(api.latency_s)
        return 200, body


@contextlib.contextmanager
def replace_default_transport(api: InProcessBotAPI) -> Iterator[None]:
    """While inside, every ``HTTPXRequest`` python-telegram-bot creates is a FakeRequest on ``api``.

    For factories that accept no ``request=``. ``ApplicationBuilder`` and ``Bot`` look the class
    up as a global of their own modules, ``telegram.ext._applicationbuilder`` and
    ``telegram._bot`` in python-telegram-bot 22 (private names: a new major version may move
    them, and :func:`bench.harness.driver.build_app` then refuses to run rather than reach the
    network). A ``request=`` the factory passes itself is left alone.
    """
    import telegram._bot as bot_module
    import telegram.ext._applicationbuilder as builder_module

    class DefaultTransport(FakeRequest):
        __slots__ = ()
        http_version = "1.1"  # Bot.__init__ reads it off an HTTPXRequest

        def __init__(self, *args: Any, **kwargs: Any) -> None:  # pool sizes, timeouts: unused
            super().__init__(api)

    modules = (builder_module, bot_module)
    saved = [module.HTTPXRequest for module in modules]
    for module in modules:
        setattr(module, "HTTPXRequest", DefaultTransport)  # noqa: B010 - a class, on purpose
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            setattr(module, "HTTPXRequest", original)  # noqa: B010
