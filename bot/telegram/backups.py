"""The daily backup: with BACKUP_DIR set, a copy of the database once a day, newest BACKUP_KEEP
kept.

Like retention (:mod:`bot.telegram.retention`), the time of the last run is kept in the
database (``meta``), so a restart neither skips a day nor makes a second copy in one: when the
job starts it backs up at once if a day has passed since the last run (or there never was
one), and then every 24 hours while the bot runs. The copy is SQLite's online backup
(:func:`bot.ops.backup.take_backup`), made on a worker thread from a connection of its own,
so the bot keeps answering while it runs and the copy holds exactly what was committed when it
began.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from bot.ops.backup import Backup, BackupError, default_target, prune, take_backup
from bot.storage import StorageError, Store

log = logging.getLogger(__name__)

DAY = 24 * 3600.0
LAST_RUN_KEY = "backup_last_run"
RETRY_AFTER_FAILURE = 3600.0  # a failed backup (disk full, folder gone) is tried in an hour

Clock = Callable[[], float]


class BackupJob:
    """The daily backup of one database into one folder."""

    def __init__(
        self,
        storage: Callable[[], Store],
        database: Path,
        folder: Path,
        keep: int,
        *,
        clock: Clock = time.time,
    ) -> None:
        self._storage = storage  # the runtime's, once it is open
        self.database = database
        self.folder = folder
        self.keep = keep
        self.clock = clock

    async def last_run(self) -> float | None:
        value = await self._storage().get_meta(LAST_RUN_KEY)
        try:
            return float(value) if value is not None else None
        except ValueError:  # hand-edited: one backup too many is the only cost
            return None

    async def due_in(self) -> float:
        """Seconds until the next backup is due (0 or less: due now)."""
        last = await self.last_run()
        return 0.0 if last is None else last + DAY - self.clock()

    async def run_if_due(self) -> Backup | None:
        if await self.due_in() > 0:
            return None
        return await self.run()

    async def run(self) -> Backup:
        now = self.clock()
        target = default_target(self.folder, now)
        backup = await asyncio.to_thread(take_backup, self.database, target, now=now)
        removed = await asyncio.to_thread(prune, self.folder, self.keep)
        await self._storage().set_meta(LAST_RUN_KEY, repr(now))
        log.info(
            "Backup written to %s (%d KB); %d older removed, newest %d kept",
            backup.path, backup.size // 1024, len(removed), self.keep,
        )  # fmt: skip
        return backup

    async def daily(self) -> None:
        """Back up whenever a day has passed, forever: a background job of the runtime."""
        while True:
            try:
                wait = await self.due_in()
                if wait <= 0:
                    await self.run()
                    wait = DAY
            except (BackupError, StorageError) as error:
                log.error("The daily backup failed: %s", error)
                wait = RETRY_AFTER_FAILURE
            await asyncio.sleep(max(wait, 1.0))
