"""A fake Telegram Bot API server on 127.0.0.1, for end-to-end tests over real HTTP.

python-telegram-bot talks to it through ``base_url=fake.base_url`` (``http://127.0.0.1:<port>/bot``;
PTB appends the token, so requests arrive at ``/bot<token>/<method>``). It works for a bot in
the test process and for a bot started as a subprocess, because it is a real TCP server running
in a background thread of the test process.

It behaves like Telegram where the bot's correctness depends on it: ``getUpdates`` drops every
update below a confirmed ``offset`` and long-polls (capped, so tests never hang); message ids
grow per chat; edits replace text and keyboard (no ``reply_markup`` removes the keyboard);
unchanged edits, bad HTML, oversized callback data and unknown callback queries answer 400 with
Telegram's own descriptions. Failures can be injected: 429 with ``retry_after``, 5xx, dropped
connections, 403 for a chat that blocked the bot, and calls that are held and never answered.

    with FakeBotApi() as fake:
        bot = telegram.Bot(FAKE_TOKEN, base_url=fake.base_url)
        person = fake.user(1001)
        person.start()
        fake.wait_for_sync(lambda: fake.last_bot_message(1001))
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from tests.support.records import (
    JSON,
    Call,
    ChatMessage,
    UploadedFile,
    html_problem,
    visible_text,
)

T = TypeVar("T")

# A well-formed token (digits, colon, 35 characters) that is easy to grep for in logs.
FAKE_BOT_ID = 7000000001
FAKE_TOKEN = f"{FAKE_BOT_ID}:AAFakeTokenNeverLogMe_0123456789abc"

# Parameters that are plain strings even when they look like JSON ("123", "true").
STRING_PARAMS = frozenset(
    (  # noqa: SIM905 - a word list reads better than 18 quoted strings
        "text caption parse_mode callback_query_id url secret_token action emoji "
        "language_code inline_message_id description short_description name file_id "
        "certificate ip_address document photo"
    ).split(" ")
)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class _Fault:
    status: int | None  # None: drop the connection without any response
    description: str = ""
    retry_after: int | None = None


class _Drop:
    """Answer nothing and close the connection."""


DROP = _Drop()


class FakeBotApi:
    """The fake server and everything it has seen. Thread-safe; start it before use."""

    def __init__(
        self,
        *,
        username: str = "triage_test_bot",
        first_name: str = "Back Pain Check",
        long_poll_cap: float = 0.5,
        hold_limit: float = 20.0,
        valid_tokens: Iterable[str] | None = None,
    ) -> None:
        self.username = username
        self.first_name = first_name
        self.long_poll_cap = long_poll_cap  # seconds; getUpdates never waits longer
        self.hold_limit = hold_limit  # seconds a held call waits before its connection drops
        self.valid_tokens = set(valid_tokens) if valid_tokens is not None else None
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._updates: list[JSON] = []  # not yet confirmed, ascending update_id
        self._redeliveries: deque[JSON] = deque()
        self._deliveries: Counter[int] = Counter()
        self._confirmed_offset = 0
        self._next_update_id = 500_000_001
        self._allowed_updates: set[str] | None = None
        self._message_ids: Counter[int] = Counter()
        self._chats: dict[int, list[ChatMessage]] = {}
        self._chat_json: dict[int, JSON] = {}
        self._open_queries: set[str] = set()
        self._answered_queries: dict[str, JSON] = {}
        self._next_query = 9_000_000_000
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._webhook: JSON = {"url": "", "secret_token": None}
        self._faults: dict[str, deque[_Fault]] = {}
        self._blocked: set[int] = set()
        self._held: dict[str, threading.Event] = {}
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeBotApi:
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-botapi",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.release()
        with self._cond:
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """For python-telegram-bot's ``base_url`` and ``TELEGRAM_API_BASE_URL``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def bot_user(self) -> JSON:
        return {
            "id": FAKE_BOT_ID,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    # ------------------------------------------------------- updates (person -> bot)

    def stamp(self, body: JSON) -> JSON:
        """Give an update body the next global update id (without queueing it)."""
        with self._cond:
            update = {"update_id": self._next_update_id, **body}
            self._next_update_id += 1
            self._remember_person_side(update)
            return update

    def enqueue(self, body: JSON) -> JSON:
        """Stamp an update and queue it for getUpdates; returns the full update."""
        with self._cond:
            update = self.stamp(body)
            self._updates.append(update)
            self._cond.notify_all()
            return update

    def redeliver(self, update: JSON) -> None:
        """Hand an already seen update out once more, whatever the offset (a duplicate)."""
        with self._cond:
            self._redeliveries.append(update)
            self._cond.notify_all()

    def next_message_id(self, chat_id: int) -> int:
        """Message ids are per chat, shared by the person's and the bot's messages."""
        with self._cond:
            self._message_ids[chat_id] += 1
            return self._message_ids[chat_id]

    def new_query_id(self) -> str:
        with self._cond:
            self._next_query += 1
            return str(self._next_query)

    @property
    def confirmed_offset(self) -> int:
        """The highest offset the bot has confirmed; every update below it is gone."""
        with self._cond:
            return self._confirmed_offset

    def pending_updates(self) -> list[JSON]:
        with self._cond:
            return list(self._updates)

    def deliveries(self, update_id: int) -> int:
        """How many times getUpdates has handed this update out."""
        with self._cond:
            return self._deliveries[update_id]

    def is_confirmed(self, update_id: int) -> bool:
        with self._cond:
            return self._confirmed_offset > update_id

    # ---------------------------------------------------------------- records

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [
                replace(c, params=dict(c.params))
                for c in self._calls
                if method is None or c.method.lower() == method.lower()
            ]

    def chat(self, chat_id: int) -> list[ChatMessage]:
        """Every message in the chat as it looks now (copies), oldest first."""
        with self._cond:
            return [_copy(m) for m in self._chats.get(chat_id, [])]

    def chat_ids(self) -> list[int]:
        with self._cond:
            return sorted(self._chats)

    def message(self, chat_id: int, message_id: int) -> ChatMessage | None:
        with self._cond:
            found = self._find(chat_id, message_id)
            return _copy(found) if found else None

    def bot_messages(self, chat_id: int) -> list[ChatMessage]:
        return [m for m in self.chat(chat_id) if m.from_bot]

    def last_bot_message(self, chat_id: int, *, with_buttons: bool = False) -> ChatMessage | None:
        for m in reversed(self.bot_messages(chat_id)):
            if not with_buttons or m.flat_buttons:
                return m
        return None

    def message_json(self, chat_id: int, message_id: int) -> JSON:
        """The Message object for a message as it looks now (used in callback queries)."""
        with self._cond:
            found = self._find(chat_id, message_id)
            if found is None:
                raise KeyError(f"no message {message_id} in chat {chat_id}")
            return self._message_json(found)

    def transcript(self, chat_id: int) -> str:
        return "\n".join(m.describe() for m in self.chat(chat_id))

    def answered_queries(self) -> dict[str, JSON]:
        with self._cond:
            return dict(self._answered_queries)

    def unanswered_queries(self) -> set[str]:
        with self._cond:
            return set(self._open_queries)

    def commands(self, scope: str = "default", language_code: str = "") -> list[JSON]:
        with self._cond:
            return list(self._commands.get((scope, language_code), []))

    @property
    def webhook(self) -> JSON:
        with self._cond:
            return dict(self._webhook)

    def describe(self, limit: int = 12) -> str:
        """Recent calls and every chat: printed when a wait times out."""
        with self._cond:
            calls = [f"  {c.method} -> {c.outcome} {c.description}" for c in self._calls[-limit:]]
            chats = [f"chat {cid}:\n{self.transcript(cid)}" for cid in sorted(self._chats)[:6]]
            pending = [u["update_id"] for u in self._updates]
        return "\n".join(["last calls:", *calls, f"unconfirmed updates: {pending}", *chats])

    # ----------------------------------------------------------- failure injection

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        status: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` ("*" for any) answer this error."""
        text = description or {
            429: f"Too Many Requests: retry after {retry_after}",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }.get(status, f"Error {status}")
        self._add_faults(method, times, _Fault(status, text, retry_after))

    def rate_limit_next(self, method: str, times: int = 1, *, retry_after: int = 1) -> None:
        self.fail_next(method, times, status=429, retry_after=retry_after)

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection of the next ``times`` calls without answering."""
        self._add_faults(method, times, _Fault(None))

    def block(self, chat_id: int) -> None:
        """The person blocked the bot: everything sent to this chat answers 403."""
        with self._cond:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        with self._cond:
            self._blocked.discard(chat_id)

    def hold(self, method: str) -> None:
        """Calls of ``method`` are received and recorded but never answered (until release)."""
        with self._cond:
            self._held.setdefault(method.lower(), threading.Event())

    def release(self, method: str | None = None) -> None:
        """Stop holding (held connections are then dropped, never answered)."""
        with self._cond:
            names = [method.lower()] if method else list(self._held)
            for name in names:
                event = self._held.pop(name, None)
                if event is not None:
                    event.set()

    def held_calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self.calls(method) if c.outcome == "held"]

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()
            self._blocked.clear()
        self.release()

    def _add_faults(self, method: str, times: int, fault: _Fault) -> None:
        with self._cond:
            self._faults.setdefault(method.lower(), deque()).extend([fault] * times)

    def _take_fault(self, key: str) -> _Fault | None:
        for name in (key, "*"):
            queue = self._faults.get(name)
            if queue:
                return queue.popleft()
        return None

    # ---------------------------------------------------------------- waiting

    async def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 5.0, what: str = "condition"
    ) -> T:
        """Poll ``predicate`` until it returns something truthy; bounded by ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}\n" + self.describe()
                )
            await asyncio.sleep(0.01)

    def wait_for_sync(
        self, predicate: Callable[[], T | None], timeout: float = 5.0, what: str = "condition"
    ) -> T:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {what}\n" + self.describe()
                    )
                self._cond.wait(min(remaining, 0.1))

    # -------------------------------------------------------------- drivers

    def user(self, user_id: int, **person: Any) -> Any:
        """A FakeUser in a private chat with the bot (see tests.support.driver)."""
        from tests.support.driver import FakeUser

        return FakeUser(self, user_id, **person)

    # ------------------------------------------------------ request handling

    def handle(self, token: str, method: str, params: JSON, files: dict[str, UploadedFile]) -> Any:
        """Answer one request: (status, body) or DROP. Runs in a server thread."""
        key = method.lower()
        call = Call(method, params, token, files)
        with self._cond:
            self._calls.append(call)
            hold = self._held.get(key)
            fault = None if hold else self._take_fault(key)
            self._cond.notify_all()
        if hold is not None:
            return self._hold(call, hold)
        try:
            if fault is not None:
                if fault.status is None:
                    return self._finish(call, "dropped", DROP)
                extra = {"retry_after": fault.retry_after} if fault.retry_after else None
                raise ApiError(fault.status, fault.description, extra)
            if self.valid_tokens is not None and token not in self.valid_tokens:
                raise ApiError(401, "Unauthorized")
            handler = _METHODS.get(key, FakeBotApi._generic_ok)
            with self._cond:
                if key != "getupdates" and call.chat_id in self._blocked:
                    raise ApiError(403, BLOCKED)
                result = handler(self, params, files)
            return self._finish(call, "ok", (200, {"ok": True, "result": result}))
        except ApiError as error:
            call.description = error.description
            return self._finish(call, str(error.code), (error.code, error.body()))

    def _finish(self, call: Call, outcome: str, answer: Any) -> Any:
        with self._cond:
            call.outcome = outcome
            self._cond.notify_all()
        return answer

    def _hold(self, call: Call, release: threading.Event) -> Any:
        self._finish(call, "held", None)
        release.wait(self.hold_limit)
        return DROP

    # ------------------------------------------------------------ Bot API methods
    # Each runs with the lock held and returns the ``result`` or raises ApiError.

    def _generic_ok(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        return True

    def _get_me(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_updates(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        if self._webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params.get("offset"), 0)
        limit = max(1, min(_int(params.get("limit"), 100), 100))
        timeout = max(0.0, float(_int(params.get("timeout"), 0)))
        if isinstance(params.get("allowed_updates"), list) and params["allowed_updates"]:
            self._allowed_updates = set(params["allowed_updates"])
        if offset > 0:
            self._confirm(offset)
        elif offset < 0:
            self._updates = self._updates[offset:]
        deadline = time.monotonic() + min(timeout, self.long_poll_cap)
        while not (self._visible_updates() or self._redeliveries) and not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
        batch = list(self._redeliveries)[:limit]
        for _ in batch:
            self._redeliveries.popleft()
        batch += self._visible_updates()[: limit - len(batch)]
        self._deliveries.update(u["update_id"] for u in batch)
        return batch

    def _confirm(self, offset: int) -> None:
        self._confirmed_offset = max(self._confirmed_offset, offset)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._cond.notify_all()

    def _visible_updates(self) -> list[JSON]:
        if self._allowed_updates is None:
            return self._updates
        # Telegram never delivers (and forgets) kinds the bot did not ask for.
        self._updates = [u for u in self._updates if _update_kind(u) in self._allowed_updates]
        return self._updates

    def _send_message(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        shown = self._checked_text(text, params.get("parse_mode"))
        if _utf16_len(shown) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        message = ChatMessage(
            chat_id=chat_id,
            message_id=self.next_message_id(chat_id),
            from_bot=True,
            date=int(time.time()),
            text=shown,
            raw_text=text,
            parse_mode=params.get("parse_mode"),
            reply_markup=self._checked_markup(params.get("reply_markup")),
        )
        self._chats.setdefault(chat_id, []).append(message)
        return self._message_json(message)

    def _send_file(self, params: JSON, files: dict[str, UploadedFile], field: str) -> Any:
        chat_id = self._chat_id(params)
        upload = files.get(field)
        reference = params.get(field)
        if upload is None and isinstance(reference, str) and reference.startswith("attach://"):
            upload = files.get(reference.removeprefix("attach://"))
        if upload is None and not reference:
            raise ApiError(400, f"Bad Request: there is no {field} in the request")
        caption = params.get("caption")
        shown = self._checked_text(caption, params.get("parse_mode")) if caption else None
        message = ChatMessage(
            chat_id=chat_id,
            message_id=self.next_message_id(chat_id),
            from_bot=True,
            date=int(time.time()),
            kind=field,
            text=shown,
            raw_text=caption,
            parse_mode=params.get("parse_mode"),
            reply_markup=self._checked_markup(params.get("reply_markup")),
            file=upload,
        )
        self._chats.setdefault(chat_id, []).append(message)
        return self._message_json(message)

    def _send_document(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        return self._send_file(params, files, "document")

    def _send_photo(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        return self._send_file(params, files, "photo")

    def _edit_message_text(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        if params.get("inline_message_id"):
            return True
        message = self._editable(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        shown = self._checked_text(text, params.get("parse_mode"))
        markup = self._checked_markup(params.get("reply_markup"))
        if shown == message.text and markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        if message.text is not None:
            message.history.append(message.text)
        message.text, message.raw_text = shown, text
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = markup  # no reply_markup: Telegram removes the keyboard
        message.edits += 1
        return self._message_json(message)

    def _edit_message_reply_markup(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        if params.get("inline_message_id"):
            return True
        message = self._editable(params)
        markup = self._checked_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        message.edits += 1
        return self._message_json(message)

    def _delete_message(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        message = self._editable(params, verb="delete")
        self._chats[message.chat_id].remove(message)
        return True

    def _answer_callback_query(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_queries:
            raise ApiError(400, QUERY_TOO_OLD)
        self._open_queries.discard(query_id)
        self._answered_queries[query_id] = dict(params)
        return True

    def _set_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        commands = _json(params.get("commands"))
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for entry in commands:
            name = str(entry.get("command", ""))
            if not (1 <= len(name) <= 32) or not all(
                ch.islower() or ch.isdigit() or ch == "_" for ch in name
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(str(entry.get("description", ""))) <= 256):
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._command_key(params)] = commands
        return True

    def _get_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        return self._commands.get(self._command_key(params), [])

    def _delete_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        self._commands.pop(self._command_key(params), None)
        return True

    def _set_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        url = params.get("url")
        if not isinstance(url, str):
            raise ApiError(400, "Bad Request: bad webhook: URL must be provided")
        self._webhook = {"url": url, "secret_token": params.get("secret_token")}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        self._webhook = {"url": "", "secret_token": None}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        return {
            "url": self._webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    # --------------------------------------------------------------- helpers

    def _command_key(self, params: JSON) -> tuple[str, str]:
        scope = _json(params.get("scope")) or {}
        return (str(scope.get("type", "default")), str(params.get("language_code") or ""))

    def _chat_id(self, params: JSON) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _find(self, chat_id: int, message_id: int) -> ChatMessage | None:
        for message in self._chats.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def _editable(self, params: JSON, verb: str = "edit") -> ChatMessage:
        chat_id = self._chat_id(params)
        message = self._find(chat_id, _int(params.get("message_id"), -1))
        if message is None:
            raise ApiError(400, f"Bad Request: message to {verb} not found")
        if not message.from_bot and verb == "edit":
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _checked_text(self, text: str, parse_mode: Any) -> str:
        if isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
            problem = html_problem(text)
            if problem:
                raise ApiError(400, f"Bad Request: can't parse entities: {problem}")
        return visible_text(text, parse_mode if isinstance(parse_mode, str) else None)

    def _checked_markup(self, markup: Any) -> JSON | None:
        markup = _json(markup)
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                if data is not None and not (1 <= len(str(data).encode("utf-8")) <= 64):
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                    raise ApiError(
                        400,
                        f"Bad Request: inline keyboard button URL '{url}' is "
                        "invalid: Wrong HTTP URL",
                    )
        # Telegram only echoes inline keyboards in the returned Message.
        return markup if "inline_keyboard" in markup else None

    def _chat_of(self, chat_id: int) -> JSON:
        known = self._chat_json.get(chat_id)
        if known:
            return known
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Alex"}
        return {"id": chat_id, "type": "group", "title": "Some group"}

    def _message_json(self, message: ChatMessage) -> JSON:
        body: JSON = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat_of(message.chat_id),
        }
        if message.from_bot:
            body["from"] = self.bot_user
        if message.edits and message.from_bot:
            body["edit_date"] = int(time.time())
        if message.kind == "text":
            body["text"] = message.text or ""
        elif message.text:
            body["caption"] = message.text
        if message.kind == "document":
            name = message.file.filename if message.file else "file"
            size = message.file.size if message.file else 0
            body["document"] = {
                "file_id": f"doc-{message.chat_id}-{message.message_id}",
                "file_unique_id": f"udoc-{message.message_id}",
                "file_name": name,
                "file_size": size,
            }
        elif message.kind == "photo":
            body["photo"] = [
                {
                    "file_id": f"photo-{message.chat_id}-{message.message_id}",
                    "file_unique_id": f"uphoto-{message.message_id}",
                    "width": 800,
                    "height": 600,
                    "file_size": message.file.size if message.file else 0,
                }
            ]
        if message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body

    def _remember_person_side(self, update: JSON) -> None:
        """Keep what the person typed in the chat transcript, and open callback queries."""
        query = update.get("callback_query")
        if query:
            self._open_queries.add(str(query["id"]))
            return
        for kind in ("message", "edited_message", "channel_post"):
            body = update.get(kind)
            if not body:
                continue
            chat_id = body["chat"]["id"]
            self._chat_json[chat_id] = body["chat"]
            self._message_ids[chat_id] = max(self._message_ids[chat_id], body["message_id"])
            if kind == "edited_message":
                earlier = self._find(chat_id, body["message_id"])
                if earlier is not None:
                    if earlier.text is not None:
                        earlier.history.append(earlier.text)
                    earlier.text = earlier.raw_text = body.get("text")
                    earlier.edits += 1
                    return
            self._chats.setdefault(chat_id, []).append(
                ChatMessage(
                    chat_id=chat_id,
                    message_id=body["message_id"],
                    from_bot=False,
                    date=body["date"],
                    kind=_content_kind(body),
                    text=body.get("text") or body.get("caption"),
                    raw_text=body.get("text"),
                )
            )


_METHODS: dict[str, Callable[[FakeBotApi, JSON, dict[str, UploadedFile]], Any]] = {
    "getme": FakeBotApi._get_me,
    "getupdates": FakeBotApi._get_updates,
    "sendmessage": FakeBotApi._send_message,
    "senddocument": FakeBotApi._send_document,
    "sendphoto": FakeBotApi._send_photo,
    "editmessagetext": FakeBotApi._edit_message_text,
    "editmessagereplymarkup": FakeBotApi._edit_message_reply_markup,
    "deletemessage": FakeBotApi._delete_message,
    "answercallbackquery": FakeBotApi._answer_callback_query,
    "setmycommands": FakeBotApi._set_my_commands,
    "getmycommands": FakeBotApi._get_my_commands,
    "deletemycommands": FakeBotApi._delete_my_commands,
    "setwebhook": FakeBotApi._set_webhook,
    "deletewebhook": FakeBotApi._delete_webhook,
    "getwebhookinfo": FakeBotApi._get_webhook_info,
}

_CONTENT_KINDS = (  # noqa: SIM905
    "text sticker photo voice video video_note audio animation document location "
    "venue contact dice poll"
).split(" ")


def _content_kind(body: JSON) -> str:
    return next((kind for kind in _CONTENT_KINDS if kind in body), "other")


def _update_kind(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def _copy(message: ChatMessage) -> ChatMessage:
    return replace(
        message,
        history=list(message.history),
        reply_markup=json.loads(json.dumps(message.reply_markup)),
    )


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# ---------------------------------------------------------------- HTTP plumbing


def _form_value(name: str, raw: str) -> Any:
    """PTB sends form fields JSON-encoded, except plain strings, which it sends as they are."""
    if name in STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_request(
    content_type: str, body: bytes, query: str
) -> tuple[JSON, dict[str, UploadedFile]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    params: JSON = {k: _form_value(k, v[-1]) for k, v in parse_qs(query).items()}
    files: dict[str, UploadedFile] = {}
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return params, files
    if kind == "application/json":
        loaded = json.loads(body)
        if not isinstance(loaded, dict):
            raise ValueError("the JSON body is not an object")
        params.update(loaded)
    elif kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        parsed = BytesParser(policy=HTTP).parsebytes(head + body)
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                files[name] = UploadedFile(name, filename, part.get_content_type(), data)
            else:
                params[name] = _form_value(name, data.decode("utf-8"))
    else:
        parsed_form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        params.update({k: _form_value(k, v[-1]) for k, v in parsed_form.items()})
    return params, files


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, fake: FakeBotApi) -> None:
        super().__init__(address, handler)
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        with self.connections_lock:
            for connection in list(self.connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output stays readable (and the token stays out of it)."""

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        parts = url.path.split("/")
        if len(parts) != 3 or not parts[1].startswith("bot") or not parts[2]:
            self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method = parts[1].removeprefix("bot"), parts[2]
        try:
            params, files = parse_request(self.headers.get("Content-Type", ""), body, url.query)
        except (ValueError, UnicodeDecodeError) as error:
            self._send(
                400, {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"}
            )
            return
        answer = self.server.fake.handle(token, method, params, files)
        if isinstance(answer, _Drop):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, payload = answer
        self._send(status, payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: JSON) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True
