"""The ids of processed updates do not pile up forever.

Every update leaves its id in ``processed_updates`` (that is how a redelivered update is
recognised), and nothing removed them: a row per update, for ever. Telegram redelivers an
update for at most 24 hours, so the daily retention job now forgets ids older than 48 hours.
Thousands of updates over simulated days, through the Storage API into a real SQLite file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.storage import Storage
from bot.telegram.retention import DAY, PROCESSED_KEEP_S, Retention
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
