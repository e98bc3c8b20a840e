"""Backups of the database while the bot runs, keeping the newest few, and restoring one.

A copy made with ``cp`` while the bot writes can catch the file between two pages of a commit,
and it leaves the WAL (``-wal``, where the newest commits live) behind. SQLite's online backup
API (:meth:`sqlite3.Connection.backup`) copies the database as one read transaction, in one
step here (``pages=-1``): the copy holds exactly what was committed when it began, WAL
included, and in WAL mode it never blocks the bot's writes. The copy is then switched to the
ordinary rollback journal, so a backup is one self-contained file, checked with
``PRAGMA quick_check``, and renamed into place only when complete: a backup name never points
to half a file.

Backups hold people's health answers, so they are written readable by the bot's user only
(0600). Their names sort by time: ``triage-20261206-031500.db`` (UTC).

A restore refuses while a bot runs on the database (:mod:`bot.ops.dblock`), checks the file
it is given (a SQLite database, intact, a schema version this bot can run), and keeps the file
it replaces next to it as ``<db>.replaced-<time>``, WAL included, so nothing is ever lost by a
restore of the wrong file.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bot.errors import StorageError
from bot.ops.database import (
    DatabaseProblem,
    check_schema,
    connect_existing,
    integrity_problems,
    schema_version_of,
)
from bot.ops.dblock import holding_lock

PREFIX = "triage-"
SUFFIX = ".db"
STAMP = "%Y%m%d-%H%M%S"
# triage-20261206-031500.db, or triage-20261206-031500-2.db for a second one in that second
NAME = re.compile(rf"^{re.escape(PREFIX)}(\d{{8}}-\d{{6}})(?:-(\d+))?{re.escape(SUFFIX)}$")
SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupError(StorageError):
    """A backup or restore could not be done; the message is one sentence (no full stop)."""


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    size: int  # bytes
    schema_version: int
    taken_at: float  # epoch seconds, when the copy began


@dataclass(frozen=True, slots=True)
class Restored:
    database: Path
    source: Path
    schema_version: int
    replaced: Path | None  # where the file it replaced was put, if there was one


# --- taking a backup ---------------------------------------------------------------------------


def backup_name(when: float) -> str:
    return f"{PREFIX}{time.strftime(STAMP, time.gmtime(when))}{SUFFIX}"


def default_target(backup_dir: Path, when: float) -> Path:
    """A new file in ``backup_dir`` named after ``when`` (never an existing one)."""
    target = backup_dir / backup_name(when)
    number = 2
    while target.exists():
        target = backup_dir / backup_name(when).replace(SUFFIX, f"-{number}{SUFFIX}")
        number += 1
    return target


def take_backup(database: Path, target: Path, *, now: float | None = None) -> Backup:
    """Copy ``database`` to ``target`` consistently, even while a bot writes to it.

    Blocking (seconds for a large file): the bot runs it on a worker thread.
    """
    taken_at = time.time() if now is None else now
    if target.exists() and target.is_dir():
        raise BackupError(f"{target} is a folder; give a file name such as {target}/triage.db")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"cannot create the folder {target.parent}: {_reason(error)}") from error
    partial = target.with_name(f".{target.name}.partial")
    try:
        with _open_source(database) as source:
            version = schema_version_of(source, database)
            check_schema(version, database)
            _copy(source, partial)
        _finish_file(partial)
        _own_like(partial, target.parent)
        os.replace(partial, target)
        _sync_folder(target.parent)
    except DatabaseProblem as problem:
        raise BackupError(str(problem)) from problem
    except (OSError, sqlite3.Error) as error:
        raise BackupError(f"cannot write the backup {target}: {_reason(error)}") from error
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    return Backup(target, target.stat().st_size, version, taken_at)


def _open_source(database: Path) -> contextlib.AbstractContextManager[sqlite3.Connection]:
    """Read-write when we may (the last connection to close then removes the ``-wal`` and
    ``-shm`` files, which a read-only one would leave behind, owned by whoever ran the
    backup), read-only for a file or folder we cannot write."""
    writable = os.access(database, os.W_OK) and os.access(database.parent, os.W_OK)
    return connect_existing(database, readonly=not writable)


def _copy(source: sqlite3.Connection, partial: Path) -> None:
    """The online backup, in one step, into a fresh self-contained file that is checked."""
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    copy = sqlite3.connect(partial, isolation_level=None)
    try:
        source.backup(copy, pages=-1)  # one step: one read transaction, one snapshot
        copy.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
        problems = integrity_problems(copy, quick=True)
        if problems:
            raise BackupError(f"the copy failed its check: {problems[0]}")
    finally:
        copy.close()


# --- keeping the newest ------------------------------------------------------------------------


def backups_in(backup_dir: Path) -> list[Path]:
    """Our backup files in ``backup_dir``, oldest first (other files are never touched)."""
    if not backup_dir.is_dir():
        return []
    return sorted(
        (p for p in backup_dir.iterdir() if NAME.match(p.name) and p.is_file()), key=_age_order
    )


def _age_order(path: Path) -> tuple[str, int]:
    """By the time in the name, then the number of a second backup in the same second."""
    match = NAME.match(path.name)
    assert match is not None
    return match.group(1), int(match.group(2) or 1)


def newest_backup(backup_dir: Path) -> tuple[Path, float] | None:
    """The newest backup in ``backup_dir`` and when it was written (epoch seconds)."""
    found = [(p.stat().st_mtime, p) for p in backups_in(backup_dir)]
    if not found:
        return None
    mtime, path = max(found)
    return path, mtime


def prune(backup_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns what was deleted."""
    found = backups_in(backup_dir)
    old = found[: max(len(found) - keep, 0)]
    for path in old:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return old


# --- restoring ---------------------------------------------------------------------------------


def check_backup(source: Path) -> int:
    """Is ``source`` a database this bot can run? Returns its schema version."""
    try:
        with connect_existing(source, readonly=True) as conn:
            version = schema_version_of(conn, source)
            check_schema(version, source)
            problems = integrity_problems(conn)
    except DatabaseProblem as problem:
        raise BackupError(str(problem)) from problem
    if problems:
        raise BackupError(f"{source} is damaged (integrity check: {problems[0]})")
    return version


def restore(source: Path, database: Path, *, now: float | None = None) -> Restored:
    """Replace ``database`` by a copy of ``source``; the old file is kept beside it.

    Refuses while a bot runs on ``database``, and holds its lock throughout, so no bot can
    start on a half-restored file.
    """
    when = time.time() if now is None else now
    if source.resolve() == database.resolve():
        raise BackupError(f"{source} is the database itself; give a backup file")
    with holding_lock(database):
        version = check_backup(source)
        incoming = database.with_name(f".{database.name}.restoring")
        try:
            with _open_source(source) as conn:
                _copy(conn, incoming)
            _finish_file(incoming)
            _own_like(incoming, database.parent)
            replaced = _set_aside(database, when)
            os.replace(incoming, database)
            _sync_folder(database.parent)
        except DatabaseProblem as problem:
            raise BackupError(str(problem)) from problem
        except (OSError, sqlite3.Error) as error:
            raise BackupError(f"cannot restore into {database}: {_reason(error)}") from error
        finally:
            with contextlib.suppress(OSError):
                incoming.unlink()
    return Restored(database, source, version, replaced)


def _set_aside(database: Path, when: float) -> Path | None:
    """Move the current database (and its WAL, which may hold its newest commits) to
    ``<db>.replaced-<time>``; SQLite pairs ``X`` with ``X-wal``, so the pair stays usable."""
    if not database.exists():
        return None
    name = f"{database.name}.replaced-{time.strftime(STAMP, time.gmtime(when))}"
    aside, number = database.with_name(name), 2
    while aside.exists():
        aside, number = database.with_name(f"{name}-{number}"), number + 1
    # Fold the WAL into the file first, when it can be read; else it moves with it.
    with contextlib.suppress(sqlite3.Error, DatabaseProblem), connect_existing(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(database, aside)
    for side in SIDE_FILES:
        extra = database.with_name(database.name + side)
        if extra.exists():
            os.replace(extra, aside.with_name(aside.name + side))
    return aside


# --- helpers -----------------------------------------------------------------------------------


def _finish_file(path: Path) -> None:
    """Make the file's contents durable before it is renamed into place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make a rename durable (best effort: some file systems refuse to open folders)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _own_like(path: Path, folder: Path) -> None:
    """Run as root (``sudo triage-bot restore``), give a new file to the owner of the folder
    it goes into: the bot runs as its own user and must be able to write what we put there."""
    if os.geteuid() != 0:
        return
    owner = folder.stat()
    if (owner.st_uid, owner.st_gid) != (0, 0):
        os.chown(path, owner.st_uid, owner.st_gid)


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error)
