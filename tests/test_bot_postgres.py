"""The whole bot in-process on PostgreSQL (``DATABASE_URL``): a conversation end to end, and
replies a dead process left behind, sent by this one's sweep."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.storage import ChatChange, OutgoingMessage, UpdateWrite
from bot.storage.pg_units import LEASE_S
from bot.storage.postgres import PostgresStorage
from tests.bot_inprocess import running_bot
from tests.support.conversation import PATHS, converse, wait_for_outcome

SWEEP_WAIT_S = 60.0  # the sweep looks every few seconds; bounded, never assumed
WAIT_STEPS = 500


async def test_a_conversation_end_to_end_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    async with running_bot(tmp_path, DATABASE_URL=pg_url) as bot:
        assert bot.runtime.shared
        person = bot.fake.user(7001)
        await converse(person, PATHS["likely_piriformis"])
        await wait_for_outcome(person, "likely_piriformis")
        await bot.quiet()
    assert not (tmp_path / "triage.db").exists()  # DATABASE_URL won: no SQLite file
    async with await PostgresStorage.open(pg_url) as store:
        stats = await store.stats(0)
        assert stats.started == 1 and stats.outcomes == {"likely_piriformis": 1}
        assert await store.pending_outbox() == []


async def test_replies_a_dead_process_left_are_sent_by_the_sweep(
    tmp_path: Path, pg_url: str
) -> None:
    async with running_bot(tmp_path, DATABASE_URL=pg_url) as bot:
        # Another process committed an update's reply and died before sending it: no update
        # of that chat comes again to carry it, so only the sweep can.
        reply = OutgoingMessage(7002, "sendMessage", {"chat_id": 7002, "text": "left behind"})
        write = UpdateWrite(900, 7002, ChatChange(outbox=[reply]), now=time.time() - LEASE_S)
        async with await PostgresStorage.open(pg_url) as dead:
            assert await dead.commit(write) is not None
        await bot.fake.wait_for(
            lambda: [m for m in bot.fake.bot_messages(7002) if m.text == "left behind"],
            SWEEP_WAIT_S,
            "the sweep to send the reply",
        )
        async with await PostgresStorage.open(pg_url) as store:
            for _ in range(WAIT_STEPS):  # recorded as sent right after Telegram took it
                if not await store.pending_outbox():
                    break
                await asyncio.sleep(0.02)
            assert await store.pending_outbox() == []
        assert len([m for m in bot.fake.bot_messages(7002) if m.text == "left behind"]) == 1
