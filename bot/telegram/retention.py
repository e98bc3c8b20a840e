"""Retention: personal data older than ``RETENTION_DAYS`` is deleted, once a day.

What goes: sessions (counted from when they last changed), leads, follow-ups and queued
messages older than that (:meth:`bot.storage.Store.purge_older_than`). The same run forgets
the ids of updates processed more than :data:`PROCESSED_KEEP_S` ago: they are kept only to
recognise a redelivered update, and Telegram redelivers for at most 24 hours (after a week of
silence it may even start again from a random id, which an old stored id could otherwise
shadow). And it forgets the anonymous events for statistics older than :data:`STATS_DAYS`
(the longest period /stats shows), or than ``RETENTION_DAYS`` when that is longer: they name
no one, but a row per answer for ever is a table without end. So every table is bounded.

The time of the last run is kept in the database (``meta``), so a restart neither skips a day
nor runs twice in one: at start the job runs if a day has passed since then, and afterwards
every 24 hours while the bot runs.

The first check is awaited at start, before the bot serves anyone, so data past its time is
gone before a single update is read; it is a few deletes along indexes, cheap when there is
little to delete. Logs carry counts only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.storage import StorageError, Store

log = logging.getLogger(__name__)

DAY = 24 * 3600.0
LAST_RUN_KEY = "retention_last_run"
RETRY_AFTER_FAILURE = 3600.0  # a failed run (database busy, disk full) is tried again in an hour
PROCESSED_KEEP_S = 2 * DAY  # twice Telegram's 24 hours of redelivery
STATS_DAYS = 90  # the longest period /stats shows (bot.telegram.practice.admin.PERIODS)

Clock = Callable[[], float]


class Retention:
    """The daily deletion job for one database."""

    def __init__(self, storage: Store, days: int, *, clock: Clock = time.time) -> None:
        self.storage = storage
        self.days = days
        self.clock = clock

    @property
    def keep_seconds(self) -> float:
        return self.days * DAY

    @property
    def events_keep_seconds(self) -> float:
        """The anonymous events stay as long as statistics look back, or as personal data
        stays when that is longer."""
        return max(self.days, STATS_DAYS) * DAY

    async def last_run(self) -> float | None:
        """When the job last ran (epoch seconds), by any run of the bot on this database."""
        value = await self.storage.get_meta(LAST_RUN_KEY)
        try:
            return float(value) if value is not None else None
        except ValueError:  # hand-edited: treat as never, which only means one run too many
            return None

    async def due_in(self) -> float:
        """Seconds until the next run is due (0 or less: due now)."""
        last = await self.last_run()
        if last is None:
            return 0.0
        return last + DAY - self.clock()

    async def run_if_due(self) -> dict[str, int] | None:
        """Run when a day has passed since the last run; returns the counts deleted, or
        None when it was not due."""
        if await self.due_in() > 0:
            return None
        return await self.run()

    async def run(self) -> dict[str, int]:
        now = self.clock()
        pruned = await self.storage.prune_processed(keep_seconds=PROCESSED_KEEP_S, now=now)
        events = await self.storage.prune_events(keep_seconds=self.events_keep_seconds, now=now)
        counts = await self.storage.purge_older_than(self.keep_seconds, now=now)
        counts["processed_updates"] = pruned
        counts["events"] = events
        await self.storage.set_meta(LAST_RUN_KEY, repr(now))
        deleted = ", ".join(f"{count} {table}" for table, count in counts.items())
        log.info("Retention (%d days): deleted %s", self.days, deleted)
        return counts

    # -- running with the bot ------------------------------------------------------------------

    async def catch_up(self) -> None:
        """At start, before the bot serves anyone: run now if a day has passed."""
        try:
            await self.run_if_due()
        except StorageError as error:
            log.error("Retention could not run: %s", error)

    async def daily(self) -> None:
        """Run whenever a day has passed, forever: a background job of the runtime."""
        while True:
            try:
                wait = await self.due_in()
                if wait <= 0:
                    await self.run()
                    wait = DAY
            except StorageError as error:
                log.error("Retention could not run: %s", error)
                wait = RETRY_AFTER_FAILURE
            # Woken by the clock, not by a timer chain: a suspended laptop or a slow run
            # only delays the next run, it never makes two.
            await asyncio.sleep(max(wait, 1.0))
