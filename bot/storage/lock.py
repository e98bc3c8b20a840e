"""One bot per database: an exclusive lock on ``<database>.lock``, held while the bot runs.

Two bots on one SQLite file break each other's conversations: each keeps a cache of the chats
it wrote (:mod:`bot.storage.cache` assumes one writer), each fetches updates, each sends the
outbox. SQLite's own locks only keep transactions apart, so the bot takes ``fcntl.flock`` on a
file beside the database before opening it, and keeps it until the database is closed. The
kernel drops the lock when the process dies however it dies (even ``kill -9``), so a crash
never leaves a stale lock behind; the file itself stays, holding the last owner's process id.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from bot.storage.records import StorageError

SUFFIX = ".lock"


def lock_path(database: Path) -> Path:
    """The lock file beside ``database``: the running bot holds it; backups, restores and
    ``doctor`` look at it."""
    return database.with_name(database.name + SUFFIX)


class DatabaseLock:
    """The held lock; :meth:`release` lets the next bot start."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, database: Path) -> DatabaseLock:
        """Take the lock beside ``database`` (whose folder exists) or raise StorageError."""
        path = lock_path(database)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            raise StorageError(f"cannot create the lock file {path}: {reason}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            owner = _owner(fd)
            os.close(fd)
            raise StorageError(
                f"another triage-bot{owner} is already running on {database} (it holds "
                f"{path}): stop it first, or give this one its own DATABASE_PATH"
            ) from exc
        _record_owner(fd)
        return cls(path, fd)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the last descriptor releases the flock


def _owner(fd: int) -> str:
    """The owner as " (process 1234)" from the lock file, or "" when it is unreadable."""
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).decode("ascii").strip())
        return f" (process {pid})"
    return ""


def _record_owner(fd: int) -> None:
    """Write our process id into the lock file: only for the message a second bot shows."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
