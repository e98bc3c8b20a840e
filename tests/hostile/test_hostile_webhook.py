"""The webhook against strangers and against Telegram's own odd requests.

* A request without the right secret is refused from its headers, before its body is read:
  a stranger cannot make the bot hold half-sent bodies in memory.
* Refusals are logged once a minute, not once a request.
* A malformed update, or a lone surrogate in callback data, with the right secret, is
  answered 200 (Telegram would retry anything else forever) without a traceback. So is valid
  JSON whose fields have the wrong types (a number for a text, a word for a chat id), which
  used to fail its handler with a traceback and a 500 at every delivery.
* An update whose handler keeps failing (a bug) is given up after as many tries as polling
  gives it: recorded as processed and answered 200, so Telegram stops sending it.
* A GET or any other method is answered 405 without a traceback.

The real bot in webhook mode (in-process, tornado on 127.0.0.1), real HTTP and raw sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import build_application
from bot.config import load_settings
from bot.run import serve
from bot.telegram import practice
from bot.telegram.conversation import Change, ChatView
from bot.telegram.runtime import MAX_TRIES
from tests.support import FAKE_TOKEN, SECRET_HEADER, FakeBotApi, FakeUser, post_update, updates
from tests.support.conversation import wait_for_question

SECRET = "hostile-Secret_42"
PATH = "/telegram/updates"
FLOW = Path(__file__).resolve().parents[2] / "flows" / "sciatica.yaml"


@dataclass
class WebhookBot:
    fake: FakeBotApi
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    def person(self, user_id: int) -> FakeUser:
        """A person whose updates Telegram posts to the webhook (with the secret)."""
        return self.fake.user(user_id, deliver=lambda update: post_update(self.url, update, SECRET))

    def request(
        self, method: str, body: bytes | None = None, secret: str | None = SECRET
    ) -> tuple[int, dict[str, str]]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        request = urllib.request.Request(self.url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status), dict(response.headers)
        except urllib.error.HTTPError as error:
            return int(error.code), dict(error.headers)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def webhook_bot(tmp_path: Path) -> AsyncIterator[WebhookBot]:
    """The real bot in webhook mode on a free port, against the fake Bot API."""
    port = free_port()
    with FakeBotApi() as fake:
        settings = load_settings(
            {
                "TELEGRAM_BOT_TOKEN": FAKE_TOKEN,
                "TELEGRAM_API_BASE_URL": fake.base_url,
                "DATABASE_PATH": str(tmp_path / "triage.db"),
                "FLOW_FILE": str(FLOW),
                "WEBHOOK_URL": f"https://clinic.example{PATH}",
                "WEBHOOK_SECRET_TOKEN": SECRET,
                "WEBHOOK_PORT": str(port),
            },
            env_file=None,
        )
        stop = asyncio.Event()
        running = asyncio.create_task(serve(settings, stop, app=build_application(settings)))
        try:
            await fake.wait_for(lambda: fake.webhook["url"] or running.done(), 20, "the webhook")
            assert not running.done(), running.result()
            yield WebhookBot(fake, port)
        finally:
            stop.set()
            assert await asyncio.wait_for(running, timeout=20) == 0


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.exc_info
    ]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


async def test_a_request_without_the_secret_is_refused_before_its_body_is_read(
    tmp_path: Path,
) -> None:
    async with webhook_bot(tmp_path) as bot:
        for secret in ("", "wrong"):
            answer = await asyncio.to_thread(half_sent_post, bot.port, secret, 900_000)
            # Refused from the headers alone, and the connection is closed: no body is held.
            assert answer.startswith(b"HTTP/1.1 403"), answer


def half_sent_post(port: int, secret: str, length: int) -> bytes:
    """Headers announcing a large body, a few bytes of it, then wait for the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"{SECRET_HEADER}: {secret}\r\nContent-Length: {length}\r\n\r\n{{".encode()
        )
        received = b""
        with contextlib.suppress(TimeoutError):
            while chunk := conn.recv(4096):  # until the server closes (bounded by the timeout)
                received += chunk
        return received


async def test_wrong_secrets_are_logged_once_a_minute(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with webhook_bot(tmp_path) as bot:
        body = json.dumps({"update_id": 1}).encode()
        for secret in [None, "", "nope", SECRET.upper()] * 5:
            status, _ = await asyncio.to_thread(bot.request, "POST", body, secret)
            assert status == 403
    refused = [w for w in warnings(caplog) if "403" in w or "secret" in w.lower()]
    assert len(refused) == 1, refused
    assert not tracebacks(caplog), tracebacks(caplog)


BROKEN = [
    b"not json at all",
    b"[1, 2, 3]",
    b'"just a string"',
    b'{"no_update_id": true}',
    b'{"update_id": "seven", "message": 5}',
    b'{"update_id": 7, "message": {"chat": "not a chat"}}',
    b'{"update_id": 8, "message": {"text": "\xed\xa0\x80"}}',  # a surrogate, raw: not UTF-8
    b"",
]


async def test_malformed_updates_with_the_right_secret_get_200_and_no_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with webhook_bot(tmp_path) as bot:
        for body in BROKEN:
            status, _ = await asyncio.to_thread(bot.request, "POST", body)
            assert status == 200, body  # Telegram would retry anything else, for a day
        person = bot.person(7101)  # and the bot still works
        await asyncio.to_thread(person.start)
        agree = "agree and start"  # consent first, pressed off the loop like the /start
        await bot.fake.wait_for(lambda: person.has_button(agree), 10, "the consent question")
        await asyncio.to_thread(person.press, agree)
        await wait_for_question(person, "location")
    assert not tracebacks(caplog), tracebacks(caplog)
    ignored = [w for w in warnings(caplog) if "could not be read" in w]
    assert len(ignored) == 1, warnings(caplog)  # once a minute


async def test_a_lone_surrogate_in_callback_data_is_a_stale_button(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with webhook_bot(tmp_path) as bot:
        person = bot.person(7201)
        await asyncio.to_thread(person.start)
        agree = "agree and start"  # past the consent question, at the first real question
        await bot.fake.wait_for(lambda: person.has_button(agree), 10, "the consent question")
        await asyncio.to_thread(person.press, agree)
        await wait_for_question(person, "location")
        question = await bot.fake.wait_for(lambda: person.keyboard() and person.last_message())
        query = updates.callback_query(
            bot.fake.new_query_id(),
            person.person,
            bot.fake.message_json(person.chat_id, question.message_id),
            "1|c|location|\ud800",
        )
        update = bot.fake.stamp(query)
        body = json.dumps(update).encode()  # JSON escapes it: "\ud800", valid JSON
        assert b"\\ud800" in body
        status, _ = await asyncio.to_thread(bot.request, "POST", body)
        assert status == 200
        await person.wait_for_text("That question has moved on")
    assert not tracebacks(caplog), tracebacks(caplog)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
async def test_other_methods_get_405_and_no_traceback(
    method: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with webhook_bot(tmp_path) as bot:
        body = b"{}" if method in ("PUT", "PATCH") else None
        status, headers = await asyncio.to_thread(bot.request, method, body)
        assert status == 405
        assert headers.get("Allow") == "POST"
        status, _ = await asyncio.to_thread(bot.request, method, body, None)  # no secret
        assert status == 405
    assert not tracebacks(caplog), tracebacks(caplog)


def type_invalid(bot: WebhookBot, person: FakeUser) -> dict[str, bytes]:
    """Valid JSON, shaped like an update, with one field of the wrong type each."""
    sender, chat = person.person, person.chat
    question = bot.fake.message_json(person.chat_id, person.bot_messages()[-1].message_id)
    bodies = {
        "a number for a text": updates.text_message(chat, sender, 900, "hello"),
        "a number for button data": updates.callback_query("q-7", sender, question, "x"),
        "a word for a chat id": updates.text_message(chat, sender, 901, "hello"),
        "a chat id beyond 64 bits": updates.text_message(chat, sender, 902, "hello"),
        "a number for a language": updates.text_message(chat, sender, 903, "hello"),
        "a word for a command's offset": updates.text_message(chat, sender, 904, "/start"),
        "a list for an edited text": updates.edited_message(chat, sender, 905, "hello"),
    }
    bodies["a number for a text"]["message"]["text"] = 123
    bodies["a number for button data"]["callback_query"]["data"] = 7
    bodies["a word for a chat id"]["message"]["chat"]["id"] = "five"
    bodies["a chat id beyond 64 bits"]["message"]["chat"]["id"] = 2**70
    bodies["a number for a language"]["message"]["from"]["language_code"] = 5
    bodies["a word for a command's offset"]["message"]["entities"][0]["offset"] = "0"
    bodies["a list for an edited text"]["edited_message"]["text"] = ["hello"]
    return {name: json.dumps(bot.fake.stamp(body)).encode() for name, body in bodies.items()}


def deliver(bot: WebhookBot, body: bytes) -> list[int]:
    """Post an update the way Telegram does: again after anything but 200, a bounded number
    of times. Returns the statuses, one per delivery."""
    statuses: list[int] = []
    for _ in range(2 * MAX_TRIES):
        status, _ = bot.request("POST", body)
        statuses.append(status)
        if status == 200:
            break
    return statuses


async def at_first_question(bot: WebhookBot, person: FakeUser) -> None:
    await asyncio.to_thread(person.start)
    agree = "agree and start"
    await bot.fake.wait_for(lambda: person.has_button(agree), 10, "the consent question")
    await asyncio.to_thread(person.press, agree)
    await wait_for_question(person, "location")


async def test_updates_with_fields_of_the_wrong_type_get_200_at_once_and_no_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with webhook_bot(tmp_path) as bot:
        sender, other = bot.person(7301), bot.person(7302)
        await at_first_question(bot, sender)
        await asyncio.to_thread(other.start)  # another chat, in the middle of it all
        for name, body in type_invalid(bot, sender).items():
            statuses = await asyncio.to_thread(deliver, bot, body)
            assert statuses == [200], name  # answered at once: Telegram does not send it again
        # The sender's and the other person's conversations carry on.
        await asyncio.to_thread(sender.press, "Deep in one buttock")
        await wait_for_question(sender, "radiation")
        agree = "agree and start"
        await bot.fake.wait_for(lambda: other.has_button(agree), 10, "the other consent")
        await asyncio.to_thread(other.press, agree)
        await wait_for_question(other, "location")
    assert not tracebacks(caplog), tracebacks(caplog)
    ignored = [w for w in warnings(caplog) if "could not be read" in w]
    assert len(ignored) == 1, warnings(caplog)  # one line a minute, whatever the number


BUG = "this message trips a bug"


async def test_an_update_whose_handler_keeps_failing_is_given_up_after_the_limit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in for a bug: the check-in's reader (which reads typed words before the
    engine) raises for one message. Telegram is answered 500 (it sends it again) until the
    update has failed as often as polling allows, then 200, with one line saying so; the
    update is recorded as processed, so a later delivery is answered 200 as well."""
    read_checkin = practice.typed_answer

    def buggy(chat: ChatView, text: str) -> Change | None:
        if text == BUG:
            raise RuntimeError("a bug")
        return read_checkin(chat, text)

    monkeypatch.setattr(practice, "typed_answer", buggy)
    async with webhook_bot(tmp_path) as bot:
        person, other = bot.person(7401), bot.person(7402)
        await at_first_question(bot, person)
        body = updates.text_message(person.chat, person.person, 950, BUG)
        update = json.dumps(bot.fake.stamp(body)).encode()
        statuses = await asyncio.to_thread(deliver, bot, update)
        assert statuses == [500] * (MAX_TRIES - 1) + [200]
        assert await asyncio.to_thread(deliver, bot, update) == [200]  # a late redelivery
        await at_first_question(bot, other)  # another chat is served all along
        await asyncio.to_thread(person.press, "Deep in one buttock")  # and this one too
        await wait_for_question(person, "radiation")
    given_up = [r for r in caplog.records if "given up" in r.getMessage()]
    assert len(given_up) == 1 and not given_up[0].exc_info, given_up
