"""Looking at a SQLite file from outside the running bot, without changing or creating it.

The bot's own :class:`bot.storage.Storage` creates and migrates the database it is given;
a backup, a restore or ``doctor`` must not. Here a file is opened only if it exists (SQLite's
``mode=rw`` URI, never ``rwc``), and each question (is it a database, is it intact, which
schema version, can we write to it) gets one plain answer or a :class:`DatabaseProblem` with one
sentence.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from bot.errors import StorageError
from bot.storage.schema import SCHEMA_VERSION

BUSY_TIMEOUT_MS = 5000  # the running bot's write transactions are milliseconds long


class DatabaseProblem(StorageError):
    """A database file cannot be used; the message is one sentence (no full stop)."""


@contextlib.contextmanager
def connect_existing(path: Path, *, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to ``path``, which must exist already (nothing is created)."""
    if not path.is_file():
        what = "a folder" if path.is_dir() else "nothing"
        raise DatabaseProblem(f"there is no database at {path} ({what} there)")
    mode = "ro" if readonly else "rw"
    uri = f"file:{quote(str(path.resolve()))}?mode={mode}"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as error:
        raise DatabaseProblem(f"cannot open {path}: {error}") from error
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        yield conn
    finally:
        conn.close()


def schema_version_of(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version (its ``user_version``); reading it proves it is SQLite."""
    try:
        version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise DatabaseProblem(f"{path} is not a SQLite database (or it is damaged)") from error
    return version


def check_schema(version: int, path: Path) -> None:
    """Refuse a file this version of the bot cannot run (newer) or that is no bot database."""
    if version > SCHEMA_VERSION:
        raise DatabaseProblem(
            f"{path} has schema version {version}, but this version of the bot knows only up "
            f"to {SCHEMA_VERSION}: upgrade the bot first"
        )
    if version < 1:
        raise DatabaseProblem(f"{path} holds no triage-bot data (schema version 0)")


def integrity_problems(conn: sqlite3.Connection, *, quick: bool = False) -> list[str]:
    """``PRAGMA integrity_check`` (or the faster ``quick_check``): empty when all is well."""
    pragma = "quick_check" if quick else "integrity_check"
    try:
        rows = [str(row[0]) for row in conn.execute(f"PRAGMA {pragma}")]
    except sqlite3.DatabaseError as error:
        return [str(error)]
    return [] if rows == ["ok"] else rows


def check_writable(conn: sqlite3.Connection, path: Path) -> None:
    """Take the write lock and give it back: fails on a read-only file, folder or mount, or
    while another connection holds the lock for longer than the busy timeout."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.Error as error:
        text = str(error)
        if "readonly" in text or "read-only" in text:
            raise DatabaseProblem(f"{path} is read-only for this user") from error
        raise DatabaseProblem(f"cannot write to {path}: {text}") from error
