"""Webhook mode: only Telegram (with the secret) gets in, and 200 means committed."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from bot.storage import Storage
from tests.support import FakeBotApi, post_update, updates
from tests.support.botprocess import BotProcess, BotProcesses
from tests.support.conversation import (
    PATHS,
    agree,
    converse,
    wait_for_outcome,
    wait_for_question,
)
from tests.support.records import JSON
from tests.support.storage import is_processed

pytestmark = pytest.mark.slow

SECRET = "s3cret-Token_42"
PUBLIC_URL = "https://clinic.example/telegram/updates"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def start_webhook_bot(fake: FakeBotApi, bots: BotProcesses, port: int) -> BotProcess:
    bot = bots.start(
        WEBHOOK_URL=PUBLIC_URL,
        WEBHOOK_SECRET_TOKEN=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    await fake.wait_for(
        lambda: (fake.webhook["url"] == PUBLIC_URL and listening(port)) or not bot.running(),
        timeout=20,
        what="the webhook to be set and listening",
    )
    assert bot.running(), bot.output()
    assert fake.webhook["secret_token"] == SECRET
    return bot


async def test_webhook_refuses_a_wrong_or_missing_secret_and_answers_200_after_commit(
    fake: FakeBotApi, bots: BotProcesses, tmp_path: Path
) -> None:
    port = free_port()
    await start_webhook_bot(fake, bots, port)
    url = f"http://127.0.0.1:{port}/telegram/updates"
    statuses: list[int] = []

    def post(update: JSON) -> None:  # what Telegram does with each update the person causes
        statuses.append(post_update(url, update, SECRET))

    person = fake.user(7001, deliver=post)

    start = fake.stamp(
        updates.command(person.chat, person.person, fake.next_message_id(7001), "start")
    )
    for wrong in (None, "", "s3cret-Token_4", SECRET + "x", SECRET.upper()):
        assert await asyncio.to_thread(post_update, url, start, wrong) == 403
    assert fake.bot_messages(7001) == [], "a refused request changes nothing"

    storage = await Storage.open(tmp_path / "triage.db")
    try:
        assert not is_processed(storage, start["update_id"])
        assert await asyncio.to_thread(post_update, url, start, SECRET) == 200
        # 200 only after the transaction: the update is on disk the moment we hear 200.
        assert is_processed(storage, start["update_id"])
    finally:
        await storage.close()
    await agree(person)
    await wait_for_question(person, "location")

    # Telegram retries the same update: still 200, nothing sent twice.
    sent = len(fake.bot_messages(7001))
    assert await asyncio.to_thread(post_update, url, start, SECRET) == 200
    await converse(person, PATHS["emergency"], start=False)
    await wait_for_outcome(person, "emergency")
    assert statuses and set(statuses) == {200}
    texts = [m.text for m in fake.bot_messages(7001)]
    assert len(texts) == len(set(texts)) and sent >= 2, person.transcript()
    assert not fake.calls("getUpdates"), "webhook mode never polls"
