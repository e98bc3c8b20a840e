"""Retention: personal data older than RETENTION_DAYS goes, once a day, across restarts.

Rows are written with old timestamps through the Storage API into a real SQLite file; the bot
(in-process, over real HTTP to the fake Bot API) runs the job when it starts if a day has
passed since the last run, which it keeps in the database.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from bot.engine import Session
from bot.storage import Event, NewLead, Storage
from bot.telegram.retention import DAY, LAST_RUN_KEY, PROCESSED_KEEP_S, Retention
from tests.bot_inprocess import USERNAME, running_bot
from tests.support import FakeBotApi
from tests.support.storage import add_lead, commit, is_processed, schedule_followup

AGED, RECENT, LATER = 5001, 5002, 5003


async def seed_person(storage: Storage, chat_id: int, *, at: float) -> None:
    """A conversation, a lead and a follow-up, all last touched at ``at``."""
    session = Session("sciatica", "1", "age", "en", answers={"location": "buttock"})
    await commit(
        storage,
        update_id=None,
        chat_id=chat_id,
        session_json=session.to_json(),
        events=[Event.started("website"), Event.reached("age")],
        now=at,
    )
    lead = NewLead(chat_id, "Ann", "ann_x", {"Where?": "buttock"}, "non_specific")
    await add_lead(storage, lead, now=at)
    await schedule_followup(storage, chat_id, at + 3600)


def personal(held: dict[str, Any]) -> bool:
    chat = held["chat"] or {}
    return bool(chat.get("session") or held["leads"] or held["followups"])


async def held_in(path: Path, *chat_ids: int) -> tuple[list[bool], int, str | None]:
    """For each chat: is anything personal left? And the events' count, the last run."""
    async with await Storage.open(path) as storage:
        left = [personal(await storage.export_chat(chat_id)) for chat_id in chat_ids]
        started = (await storage.stats(since=0)).started
        return left, started, await storage.get_meta(LAST_RUN_KEY)


async def test_aged_rows_go_at_start_and_only_once_a_day_across_restarts(tmp_path: Path) -> None:
    database = tmp_path / "triage.db"
    now = time.time()
    async with await Storage.open(database) as storage:
        await seed_person(storage, AGED, at=now - 40 * DAY)
        await seed_person(storage, RECENT, at=now - 10 * DAY)

    with FakeBotApi(username=USERNAME) as fake:
        # First start: never ran before, so it runs (with the settings' 30 days).
        async with running_bot(tmp_path, fake=fake, RETENTION_DAYS="30"):
            pass  # the job's first check is part of start-up, before the first poll
        left, started, first_run = await held_in(database, AGED, RECENT)
        assert left == [False, True]
        assert started == 2  # the anonymous counts stay
        assert first_run is not None and float(first_run) >= now

        # Old data appears (say, restored from a backup); a restart within the day leaves it.
        async with await Storage.open(database) as storage:
            await seed_person(storage, LATER, at=now - 40 * DAY)
        async with running_bot(tmp_path, fake=fake, RETENTION_DAYS="30"):
            pass
        left, _, second_run = await held_in(database, LATER)
        assert left == [True]
        assert second_run == first_run

        # A day after the last run, the next start runs it again.
        async with await Storage.open(database) as storage:
            await storage.set_meta(LAST_RUN_KEY, repr(time.time() - DAY - 60))
        async with running_bot(tmp_path, fake=fake, RETENTION_DAYS="30"):
            pass
        left, started, third_run = await held_in(database, LATER, RECENT)
        assert left == [False, True]
        assert started == 3
        assert third_run is not None and float(third_run) > float(first_run)


async def test_while_running_it_runs_again_when_the_day_is_over(tmp_path: Path) -> None:
    database = tmp_path / "triage.db"
    async with await Storage.open(database) as storage:
        clock_at_start = time.time()
        # Last run almost a day ago: not due at start, due a moment later.
        await storage.set_meta(LAST_RUN_KEY, repr(clock_at_start - DAY + 0.5))
        await seed_person(storage, AGED, at=clock_at_start - 100 * DAY)
        retention = Retention(storage, 90)
        await retention.catch_up()
        job = asyncio.create_task(retention.daily())
        try:
            assert personal(await storage.export_chat(AGED))  # not due yet at start
            for _ in range(100):  # bounded: the run is due within a second or two
                if not personal(await storage.export_chat(AGED)):
                    break
                await asyncio.sleep(0.05)
        finally:
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)
        assert not personal(await storage.export_chat(AGED))
        last = await retention.last_run()
        assert last is not None and last > clock_at_start


async def test_a_run_reports_counts_by_table_and_keeps_what_is_young(tmp_path: Path) -> None:
    now = 2_000_000_000.0
    async with await Storage.open(tmp_path / "triage.db") as storage:
        await seed_person(storage, AGED, at=now - 91 * DAY)
        await seed_person(storage, RECENT, at=now - 89 * DAY)
        retention = Retention(storage, 90, clock=lambda: now)
        counts = await retention.run_if_due()
        again = await retention.run_if_due()
        young = await storage.export_chat(RECENT)
    assert counts is not None
    assert counts["chats"] == 1 and counts["leads"] == 1 and counts["followups"] == 1
    assert again is None  # ran a moment ago
    assert personal(young)
    assert json.loads(json.dumps(counts)) == counts  # counts only: nothing personal to log


async def test_the_run_forgets_update_ids_past_the_redelivery_window(tmp_path: Path) -> None:
    """Update ids are kept only to recognise a redelivery (Telegram redelivers for 24 hours):
    the daily run removes those older than PROCESSED_KEEP_S, so the table does not grow by a
    row per update forever, and keeps the younger ones, whose redelivery stays a no-op."""
    assert PROCESSED_KEEP_S > DAY
    now = 2_000_000_000.0
    async with await Storage.open(tmp_path / "triage.db") as storage:
        aged, young = 11, 12
        await commit(storage, update_id=aged, chat_id=1, now=now - PROCESSED_KEEP_S - 60)
        await commit(storage, update_id=young, chat_id=1, now=now - PROCESSED_KEEP_S + 60)
        counts = await Retention(storage, 90, clock=lambda: now).run()
        assert counts["processed_updates"] == 1
        assert not is_processed(storage, aged) and is_processed(storage, young)
        assert not await commit(storage, update_id=young, chat_id=1)  # still recognised
