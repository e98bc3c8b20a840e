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
import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from tests.support.botapi_methods import ApiError, BotApiMethods
from tests.support.driver import FakeUser
from tests.support.http_server import DROP, BotApiServer
from tests.support.records import JSON, Call, ChatMessage, UploadedFile

T = TypeVar("T")

# A well-formed token (digits, colon, 35 characters) that is easy to grep for in logs.
FAKE_BOT_ID = 7000000001
FAKE_TOKEN = f"{FAKE_BOT_ID}:AAFakeTokenNeverLogMe_0123456789abc"

BLOCKED = "Forbidden: bot was blocked by the user"


@dataclass(frozen=True)
class _Fault:
    status: int | None  # None: drop the connection without any response
    description: str = ""
    retry_after: int | None = None


class FakeBotApi(BotApiMethods):
    """The fake server and everything it has seen. Thread-safe; start it before use."""

    def __init__(
        self,
        *,
        username: str = "triage_test_bot",
        first_name: str = "Back Pain Check",
        long_poll_cap: float = 0.5,
        hold_limit: float = 20.0,
        valid_tokens: Iterable[str] | None = None,
        port: int = 0,
    ) -> None:
        self.bot_id = FAKE_BOT_ID
        self._port = port  # 0: any free port
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
        # True: offsets sent by the bot never reach "Telegram", so every update handed out
        # stays queued and comes again (a crash before the confirmation got through).
        self.losing_confirmations = False
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
        self._server: BotApiServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeBotApi:
        self._server = BotApiServer(self, self._port)
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

    @contextmanager
    def at_once(self) -> Iterator[None]:
        """Updates queued inside the block reach the bot together, in one getUpdates answer
        (as when several people press at the same moment)."""
        with self._cond:
            yield

    def redeliver(self, update: JSON) -> None:
        """Hand an already seen update out once more, whatever the offset (a duplicate)."""
        with self._cond:
            self._redeliveries.append(update)
            self._cond.notify_all()

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

    def set_webhook_state(
        self, url: str, *, last_error: tuple[int, str] | None = None, secret: str | None = None
    ) -> None:
        """What getWebhookInfo reports: a webhook set by someone, and its last failed delivery
        as (unix time, description), as Telegram keeps them."""
        with self._cond:
            self._webhook = {"url": url, "secret_token": secret, "last_error": last_error}

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

    def user(self, user_id: int, **person: Any) -> FakeUser:
        """A FakeUser in a private chat with the bot (see tests.support.driver)."""
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
            with self._cond:
                if key != "getupdates" and call.chat_id in self._blocked:
                    raise ApiError(403, BLOCKED)
                result = self.answer(key, params, files)
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


def _copy(message: ChatMessage) -> ChatMessage:
    return replace(
        message,
        history=list(message.history),
        reply_markup=json.loads(json.dumps(message.reply_markup)),
    )
