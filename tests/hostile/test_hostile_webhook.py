"""The webhook against strangers and against Telegram's own odd requests.

* A request without the right secret is refused from its headers, before its body is read:
  a stranger cannot make the bot hold half-sent bodies in memory.
* Refusals are logged once a minute, not once a request.
* A malformed update, or a lone surrogate in callback data, with the right secret, is
  answered 200 (Telegram would retry anything else forever) without a traceback.
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
