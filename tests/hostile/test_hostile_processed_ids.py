"""No table piles up forever: retention bounds every one.

Every update leaves its id in ``processed_updates`` (that is how a redelivered update is
recognised), and nothing removed them: a row per update, for ever. Telegram redelivers an
update for at most 24 hours, so the daily retention job now forgets ids older than 48 hours.
Thousands of updates over simulated days, through the Storage API into a real SQLite file.

The anonymous ``events`` behind /stats grew the same way (a row per answer, for ever): they
now go once older than the longest period /stats shows (90 days), or than ``RETENTION_DAYS``
when that is longer. Real conversations through the bot (leads, check-ins, replies) fill every
table, and retention, run at later dates, empties each in its time.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from bot.storage import Storage
from bot.telegram.retention import DAY, PROCESSED_KEEP_S, STATS_DAYS, Retention
from tests.bot_inprocess import running_bot
from tests.practice_bot import ADMIN, CHECKIN, CONSENT, CONSENT_SENT, at_booking_outcome
from tests.support.storage import is_processed

PER_DAY = 1500
DAYS = 6
START = 1_800_000_000.0  # epoch seconds: a fixed, simulated calendar


def stored_ids(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM processed_updates").fetchone()[0])


async def test_processed_ids_older_than_two_days_are_pruned_daily(tmp_path: Path) -> None:
    database = tmp_path / "triage.db"
    assert PROCESSED_KEEP_S == 2 * DAY  # twice Telegram's 24 hours of redelivery
    clock = [START]
    update_id = 0
    async with await Storage.open(database) as storage:
        retention = Retention(storage, days=90, clock=lambda: clock[0])
        for day in range(DAYS):
            for n in range(PER_DAY):  # a day's updates, spread over the day
                update_id += 1
                clock[0] = START + day * DAY + n * (DAY / PER_DAY)
                assert await storage.mark_processed([update_id], now=clock[0]) == 1
            clock[0] = START + (day + 1) * DAY
            counts = await retention.run()
            # At most two days of ids stay, whatever has gone before.
            assert stored_ids(database) <= 2 * PER_DAY + 1, day
            assert counts["processed_updates"] == (PER_DAY if day >= 2 else 0), day

        # The newest are still recognised: a redelivery within 48 hours is still a duplicate.
        assert is_processed(storage, update_id)
        assert is_processed(storage, update_id - PER_DAY)
        assert not is_processed(storage, 1)


PEOPLE = 4
BOOKED = "I'll check in with you"
PERSONAL = ("chats", "leads", "followups", "outbox", "processed_updates")


def table_counts(database: Path) -> dict[str, int]:
    """Rows in every table of the database (read beside the running bot)."""
    with sqlite3.connect(database) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}


@pytest.mark.long  # 9 s: scripts/test-long, run by .ci/run
async def test_every_table_is_emptied_in_its_time_after_real_conversations(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        for n in range(PEOPLE):  # a lead, a check-in and a stray message each
            person, _ = await at_booking_outcome(bot, 8100 + n)
            person.press(CONSENT)
            await person.wait_for_text(CONSENT_SENT)
            person.press(CHECKIN)
            await person.wait_for_text(BOOKED)
            person.say("thank you")  # committed, like everything, before it is confirmed
        await bot.quiet()
        database = bot.settings.database_path
        before = table_counts(database)
        assert set(before) == {*PERSONAL, "events", "meta"}, before  # a new table: bound it
        for table in ("chats", "leads", "followups", "processed_updates", "events"):
            assert before[table] > 0, before
        storage, now = bot.runtime.storage, time.time()

        # Three days on: the ids of processed updates go, the rest stays.
        await Retention(storage, days=90, clock=lambda: now + 3 * DAY).run()
        later = table_counts(database)
        assert later["processed_updates"] == 0
        for table in ("chats", "leads", "followups", "events"):
            assert later[table] == before[table], (table, later)

        # Past the statistics' 90 days, with answers kept for 120: the events stay as long.
        await Retention(storage, days=120, clock=lambda: now + (STATS_DAYS + 5) * DAY).run()
        later = table_counts(database)
        assert later["events"] == before["events"] and later["chats"] == before["chats"]

        # Past both (a check-in goes 90 days after it was due): only small facts are left.
        await Retention(storage, days=90, clock=lambda: now + (STATS_DAYS + 5) * DAY).run()
        later = table_counts(database)
        assert {t: n for t, n in later.items() if t != "meta"} == dict.fromkeys(
            [*PERSONAL, "events"], 0
        ), later
        assert later["meta"] <= before["meta"] + 1  # when retention last ran
