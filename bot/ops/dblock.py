"""The lock a running bot holds on its database: an exclusive ``flock`` on ``<db>.lock``.

The bot takes this lock at start and keeps it while it runs (so a second bot on the same file
refuses to start). Operations that must not happen under a running bot, such as replacing the
file in a restore, take the same lock without waiting: if they cannot get it, a bot is running.
The kernel releases a ``flock`` when its process ends, even after ``kill -9``, so a stale lock
file never blocks anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from bot.errors import StorageError
from bot.storage.lock import lock_path


class DatabaseInUse(StorageError):
    """Another process (a running bot) holds the database's lock."""


@contextlib.contextmanager
def holding_lock(database: Path) -> Iterator[Path]:
    """Hold ``<database>.lock`` for the ``with`` block, or raise :class:`DatabaseInUse` at once."""
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    _own_like_folder(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(
                f"a bot is running on {database} (it holds {path}): stop it first"
            ) from None
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def in_use(database: Path) -> bool:
    """Is a bot running on ``database`` right now? Looking only: nothing is created (no lock
    file, no folder), so ``doctor`` may ask. No lock file, or one nobody holds, is no bot."""
    try:
        fd = os.open(lock_path(database), os.O_RDONLY)  # flock needs no write access
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def holder(database: Path) -> int | None:
    """The process id the running bot wrote into the lock file, if it can be read."""
    try:
        return int(lock_path(database).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def replaced_under(database: Path, pid: int) -> bool:
    """Does process ``pid`` hold open a file of this name that is no longer the one there (it
    was replaced by a rename, a careless restore)? Linux tells through /proc/<pid>/fd, where
    such a file reads "<path> (deleted)"; elsewhere, or without the right to look, no."""
    gone = f"{database.resolve()} (deleted)"
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for name in names:
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{name}") == gone:
                return True
    return False


def _own_like_folder(path: Path) -> None:
    """A lock file root created (``sudo triage-bot restore``) must stay usable by the bot's
    own user, who owns the data folder."""
    if os.geteuid() != 0:
        return
    owner = path.parent.stat()
    here = path.stat()
    if (here.st_uid, here.st_gid) == (0, 0) and (owner.st_uid, owner.st_gid) != (0, 0):
        os.chown(path, owner.st_uid, owner.st_gid)
