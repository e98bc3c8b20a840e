"""Making the running bot's database unwritable mid-run, and writable again.

The faults are SQLite's own, set on the bot's connection (the one its Storage writes through):

* a full disk: ``PRAGMA max_page_count`` pinned to the file's size, and the free pages inside
  it taken by filler rows (another program filled the disk); every write that needs a new
  page then fails with "database or disk is full" (SQLITE_FULL), as on a real full disk;
* a read-only database: ``PRAGMA query_only``; every write fails with "attempt to write a
  readonly database" (SQLITE_READONLY), as when the file's permissions change under the bot.

Lifting the fault gives the space back (the filler goes) or the permission.

Before the bot starts: :func:`read_only_file` and :func:`damage` (a garbage page).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiosqlite
import pytest

from bot.storage import Storage

UNLIMITED_PAGES = 1_073_741_823  # SQLite's default max_page_count
FILLER = "test-disk-filler-"
FILLER_BYTES = 512
MAX_FILLERS = 20_000  # bounds the loop: far more than a test database has free pages


def _connection(storage: Storage) -> aiosqlite.Connection:
    """The bot's own connection (aiosqlite runs these PRAGMAs between its units of work)."""
    return storage._db


async def fill_disk(storage: Storage) -> int:
    """The disk is full: no page can be added to the database. Returns the filler rows."""
    db = _connection(storage)
    await db.execute("PRAGMA max_page_count = 1")  # SQLite keeps it at the current size
    rows = 0
    for size in (FILLER_BYTES * 16, FILLER_BYTES, 64, 8):
        while rows < MAX_FILLERS:
            try:
                await db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, zeroblob(?))",
                    (f"{FILLER}{rows}", size),
                )
            except sqlite3.OperationalError as error:
                assert "full" in str(error), error
                break
            rows += 1
    return rows


async def free_disk(storage: Storage) -> None:
    db = _connection(storage)
    await db.execute(f"PRAGMA max_page_count = {UNLIMITED_PAGES}")
    await db.execute("DELETE FROM meta WHERE key LIKE ?", (f"{FILLER}%",))


async def make_read_only(storage: Storage) -> None:
    await _connection(storage).execute("PRAGMA query_only = 1")


async def make_writable(storage: Storage) -> None:
    await _connection(storage).execute("PRAGMA query_only = 0")


@contextmanager
def read_only_file(path: Path) -> Iterator[None]:
    """The file cannot be written, even by root: immutable (``chattr +i``) when we are root,
    who ignores permissions, else plain permissions. Undone at the end."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("needs chattr to make a file read-only for root")
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def damage(path: Path, page: int, page_size: int = 4096) -> None:
    """Overwrite one whole page of a (closed) database file with garbage."""
    with path.open("r+b") as file:
        file.seek((page - 1) * page_size)
        file.write(bytes((n * 37 + 11) % 256 for n in range(page_size)))
