"""The storage interface the bot codes against: :class:`Storage`, over one SQLite file.

How it talks to SQLite: every operation below is one synchronous *unit of work*
(``conversations``, ``practice``, ``privacy``) that runs whole in a single call, however many
statements it needs, and one connection runs one unit at a time, so two transactions never
interleave.

Where the SQL runs: aiosqlite owns the connection and runs units on its worker thread, so the
event loop never waits on the disk. A trip to that thread and back costs more than the SQL of
a short unit: on the 2-vCPU virtual machine of our benchmarks, ~250 µs between the bot's other
work (the idle thread's vCPU has to be woken), against ~40 µs back to back. So the two short
units on every update's path, the commit of an update (``commit_writes``, ~0.2 ms: WAL with
``synchronous = NORMAL`` writes no fsync at COMMIT) and a chat's row, run on the event loop's
own thread whenever the worker thread is idle (:meth:`Storage._run_short`), and queue on the
thread behind whatever runs there otherwise.
Everything long, which may read many pages or wait (statistics, retention, exports, integrity
checks, checkpoints on their own connection), always runs on a thread. What an update's commit
can still wait on, holding up the loop: another connection with the write lock, which only
ever holds it for milliseconds (a TRUNCATE checkpoint after /forget or retention, the probe of
``triage-bot doctor``); a second bot on the file cannot start (:mod:`bot.storage.lock`). And
the disk, in the rare case the kernel makes a write wait for earlier ones to reach it (no
COMMIT here waits for an fsync: checkpoints, which do, run on their own connection).

Updates from many chats at once share transactions (:mod:`bot.storage.group_commit`): one
COMMIT for all the writes handed over in the same turn of the event loop, or while the previous
transaction was in flight.

aiosqlite has no public "run this function on your thread"; ``Connection._execute`` is the
method all its public ones are built on, and :meth:`Storage._run` is the only place that uses it
(and, with :meth:`Storage._run_short`, ``_conn``, the sqlite3 connection, opened with
``check_same_thread=False`` for that). Through the public methods alone an update took five
round trips, ~4× the cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, Final, ParamSpec, TypeVar, cast

import aiosqlite

from bot.storage import conversations, practice, privacy
from bot.storage.cache import MISSING, ChatCache
from bot.storage.conversations import Outcome, Pending
from bot.storage.group_commit import GroupCommit
from bot.storage.lock import DatabaseLock
from bot.storage.outage import Outage
from bot.storage.records import (
    UNCHANGED,
    ChatState,
    Followup,
    Lead,
    OutboxItem,
    OutgoingMessage,
    Stats,
    StorageError,
    StorageUnavailable,
    UpdateWrite,
)
from bot.storage.schema import migrate
from bot.throttle import Throttle

T = TypeVar("T")
P = ParamSpec("P")

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS: Final = 5000
DEFAULT_CACHE_SIZE: Final = 4096  # chats; a few MB at most
# WAL checkpoints (copying committed pages from the WAL into the database file, with an fsync)
# are ours to run, not SQLite's: by default SQLite runs one inside whichever commit pushes the
# WAL past 1,000 pages, about one commit in ninety here, ~5 ms each. We run one when the
# database has been idle this long ...
CHECKPOINT_IDLE_S: Final = 0.5
# ... or, when it never is, after this many writes (~11 pages each: the WAL stays under
# ~100 MB and is rewound after each checkpoint). Larger batches copy a page written many times
# once, so the total is lower than SQLite's; it runs between two updates, not inside a commit.
CHECKPOINT_AFTER_WRITES: Final = 2000
JOURNAL_SIZE_LIMIT: Final = 64 * 1024 * 1024  # bytes the WAL file is cut back to once rewound
MIN_SQLITE: Final = (3, 35, 0)  # RETURNING
# How often the running bot looks whether the file at its database's path is still the one it
# opened (see Storage.watch_file): a stat, microseconds.
FILE_CHECK_S: Final = 10.0
# What :meth:`Storage.writable` writes (and gives back) to see whether the database can grow
# again: room for a few updates, not just for the one small row that happens to fit.
PROBE_BYTES: Final = 64 * 1024
# SQLite's primary result codes for a database that cannot be written now, whatever the write:
# trying again later may work, and the update is not to blame.
_UNAVAILABLE_CODES: Final = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
    }
)


class Storage:
    """Sessions, exactly-once updates, the outbox, leads, follow-ups and anonymous events.

    Open with ``await Storage.open(path)``; every method raises :class:`StorageError` (one
    sentence) when the database fails. Times are epoch seconds; ``now`` defaults to the clock.
    """

    def __init__(
        self,
        db: aiosqlite.Connection,
        name: str,
        cache_size: int,
        checkpoint_after_writes: int = CHECKPOINT_AFTER_WRITES,
        checkpoint_idle_s: float = CHECKPOINT_IDLE_S,
    ) -> None:
        self._db = db
        self.name = name
        self._cache = ChatCache(cache_size)
        self._closed = False
        self._on_thread = 0  # units handed to the database thread and not back yet
        self._checkpoint_after_writes = checkpoint_after_writes
        self._checkpoint_idle_s = checkpoint_idle_s
        self._writes = 0  # since the last checkpoint
        self._last_write = 0.0  # monotonic
        self._idle_timer: asyncio.TimerHandle | None = None
        self._checkpointing: asyncio.Task[None] | None = None
        # Checkpoints run on a connection (and thread) of their own, so that copying the WAL
        # into the file, with its fsync, never holds up an update's commit on the writer's.
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpointer_opening = asyncio.Lock()
        self._closing = False
        self._lock: DatabaseLock | None = None  # held by the bot's own storage (exclusive=True)
        self.outage = Outage(name)  # reported from the first write after opening
        self._opened = False
        self._file: tuple[int, int] | None = None  # (device, inode) of the file opened
        # Updates' writes, batched; ``group.transactions`` and ``group.writes`` count them.
        self.group = GroupCommit(self._commit_batch)

    # --- opening and closing ------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
        checkpoint_after_writes: int = CHECKPOINT_AFTER_WRITES,
        checkpoint_idle_s: float = CHECKPOINT_IDLE_S,
        exclusive: bool = False,
        verify: bool = False,
    ) -> Storage:
        """Open (creating it and its folders on first run) and migrate the database.

        ``exclusive``: the running bot's own storage, the only one allowed; it holds
        ``<database>.lock`` until :meth:`close`, and a second one raises StorageError (see
        :mod:`bot.storage.lock`). Other connections (tests, tools) only read beside it.

        ``verify``: refuse a database that is damaged (``PRAGMA quick_check``) or cannot be
        written (one write, given back), rather than start and then fail every update.
        """
        name = str(path)
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise StorageError(
                f"SQLite {'.'.join(map(str, MIN_SQLITE))} or newer is needed, "
                f"this Python has {sqlite3.sqlite_version}"
            )
        lock = None
        if name != ":memory:":
            _create_folder(Path(path))
            lock = DatabaseLock.acquire(Path(path)) if exclusive else None
        try:
            storage = await cls._connect(
                name, cache_size, checkpoint_after_writes, checkpoint_idle_s, verify
            )
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        storage._lock = lock
        return storage

    @classmethod
    async def _connect(
        cls,
        name: str,
        cache_size: int,
        checkpoint_after_writes: int,
        checkpoint_idle_s: float,
        verify: bool,
    ) -> Storage:
        try:
            # isolation_level=None: no implicit transactions, each unit of work says BEGIN itself
            db = await aiosqlite.connect(name, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise _open_error(name, exc) from exc
        storage = cls(db, name, cache_size, checkpoint_after_writes, checkpoint_idle_s)
        try:
            await storage._run(_prepare, name, verify)
        except BaseException:
            await db.close()
            raise
        storage._opened = True
        storage._file = _identity(name)
        return storage

    async def close(self) -> None:
        if self._closed:
            return
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        try:
            await self.group.idle()  # every write handed over is committed first
            if self._checkpointing is not None:
                await self._checkpointing  # never raises: it logs
            async with self._checkpointer_opening:
                self._closing = True
                if self._checkpointer is not None:  # closed first: the last connection to
                    checkpointer, self._checkpointer = self._checkpointer, None  # close
                    with contextlib.suppress(sqlite3.Error):  # checkpoints, removes the WAL
                        await checkpointer.close()
            await self._run(_finish)
        except StorageUnavailable as error:
            # Every commit is on disk already; only the tidying up could not be done.
            log.warning("Closing without a checkpoint: %s", error)
        finally:
            self._closed = True
            try:
                await self._db.close()
            finally:
                if self._lock is not None:
                    self._lock.release()  # after the last write: the next bot may start

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _run(
        self,
        unit: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run one unit of work on the database thread, in one round trip."""
        if self._closed:
            raise StorageError(f"the database at {self.name} is already closed")
        self._on_thread += 1
        try:
            return cast(T, await self._db._execute(unit, self._db._conn, *args, **kwargs))
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc
        finally:
            self._on_thread -= 1

    async def _run_short(
        self,
        unit: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run a short unit of work (an update's commit, one chat's row) right here on the
        event loop's thread when the database thread is idle, else queue it there like
        :meth:`_run`. See "Where the SQL runs" in the module's docstring."""
        if not self._runs_here():
            return await self._run(unit, *args, **kwargs)
        try:
            return unit(self._db._conn, *args, **kwargs)
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc

    def _runs_here(self) -> bool:
        """Would :meth:`_run_short` run its unit on the event loop's thread now? Only while
        nothing is on the database thread (a closed storage lets :meth:`_run` refuse)."""
        return not self._on_thread and not self._closed

    def _failed(self, exc: sqlite3.Error) -> StorageError:
        error = _failure(self.name, exc)
        if isinstance(error, StorageUnavailable) and self._opened:
            self.outage.failed(error)
        return error

    async def _write(
        self,
        unit: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """:meth:`_run` for a unit of work that writes: it counts towards the next checkpoint
        and, after an outage, says the database can be written again."""
        result = await self._run(unit, *args, **kwargs)
        self.outage.recovered()
        self._wrote()
        return result

    async def _commit_batch(self, batch: Sequence[Pending]) -> list[Outcome]:
        """One transaction of updates (see :class:`GroupCommit`), all or nothing."""
        outcomes = await self._run_short(conversations.commit_writes, self._cache, batch)
        self.outage.recovered()
        self._wrote(len(batch))  # a checkpoint counts the updates, not their transactions
        forgotten = any(
            outcome is not None and pending.write.change.forget
            for pending, outcome in zip(batch, outcomes, strict=True)
        )
        if forgotten:
            try:
                await self._erase_traces()
            except StorageError as error:  # committed all the same: the next checkpoint will
                log.warning("Deleted data stays in %s-wal for now: %s", self.name, error)
        return outcomes

    async def writable(self) -> bool:
        """Can the database take writes again? One transaction that takes room for a few
        updates and gives it back; False while the database cannot be written (see
        :class:`StorageUnavailable`), which is reported once a minute, not by each caller."""
        try:
            await self._write(conversations.probe, PROBE_BYTES)
        except StorageUnavailable:
            return False
        return True

    def file_problem(self) -> str | None:
        """Is the file at the database's path still the one this storage opened? SQLite
        writes on to the file it has open, so a database deleted (or replaced, by a careless
        restore) under the running bot would silently lose everything written from then on.
        One sentence when it is not; None when it is (or for an in-memory database)."""
        if self._file is None:
            return None
        try:
            found = os.stat(self.name)
        except FileNotFoundError:
            return (
                f"the database file {self.name} was deleted while the bot runs: the bot writes "
                "on to the deleted file, and all it holds is lost when the bot stops (stop it "
                "and `triage-bot restore` the newest backup)"
            )
        except OSError as error:
            return f"cannot look at the database file {self.name}: {error.strerror}"
        if (found.st_dev, found.st_ino) != self._file:
            return (
                f"the database file {self.name} was replaced while the bot runs: the bot "
                "writes on to the file it opened, not the one there now (restart it to use "
                "the new file; what it wrote since stays in the old one)"
            )
        return None

    async def watch_file(self) -> None:
        """Look at the database's file every :data:`FILE_CHECK_S` until cancelled: a WARNING
        when it was deleted or replaced, at most once a minute while it lasts."""
        throttle = Throttle()
        while True:
            await asyncio.sleep(FILE_CHECK_S)
            problem = self.file_problem()
            if problem is None:
                continue
            if throttle.hit() is None:
                log.debug("still: %s", problem)
                continue
            log.warning("%s", problem[:1].upper() + problem[1:])

    # --- checkpoints --------------------------------------------------------------------------

    async def _erase_traces(self) -> None:
        """After deleting a person's data: no copy of it may stay readable on disk.

        ``secure_delete`` (set at open) zeroes deleted rows in their pages, but the WAL still
        holds the pages as they were before; a TRUNCATE checkpoint copies the zeroed pages
        into the database file and empties the WAL. It waits for readers (another connection
        reading an older snapshot would keep its pages): if one is still reading after the
        busy timeout, the WAL is left for the next idle checkpoint and we say so.
        """
        self._writes = 0
        if not await self._run(_checkpoint_truncate):
            log.warning(
                "Deleted data stays in %s-wal until the next checkpoint: another connection "
                "is reading the database",
                self.name,
            )

    async def checkpoint(self) -> int:
        """Copy what the WAL holds into the database file now (PASSIVE: never waits for or
        blocks a reader or the writer); returns how many pages the WAL held. Runs by itself
        when the database is idle and every :data:`CHECKPOINT_AFTER_WRITES` writes, on a
        connection of its own: updates keep committing on theirs meanwhile (WAL lets a
        checkpoint and a writer work at once; the writer rewinds the WAL once it is copied)."""
        self._writes = 0
        if self.name == ":memory:":  # one connection only: nothing to copy into a file anyway
            return await self._run(_checkpoint)
        checkpointer = await self._checkpointer_connection()
        try:
            return await checkpointer._execute(_checkpoint, checkpointer._conn)
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc

    async def _checkpointer_connection(self) -> aiosqlite.Connection:
        async with self._checkpointer_opening:
            if self._closed or self._closing:
                raise StorageError(f"the database at {self.name} is already closed")
            if self._checkpointer is None:
                try:
                    connection = await aiosqlite.connect(self.name, isolation_level=None)
                    await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                except sqlite3.Error as exc:
                    raise _failure(self.name, exc) from exc
                self._checkpointer = connection
            return self._checkpointer

    def _wrote(self, count: int = 1) -> None:
        self._writes += count
        self._last_write = time.monotonic()
        if self._writes >= self._checkpoint_after_writes:
            self._start_checkpoint()
        elif self._idle_timer is None and not self._closed:
            loop = asyncio.get_running_loop()
            self._idle_timer = loop.call_later(self._checkpoint_idle_s, self._when_idle)

    def _when_idle(self) -> None:
        self._idle_timer = None
        if not self._writes or self._closed:
            return
        wait = self._last_write + self._checkpoint_idle_s - time.monotonic()
        if wait > 0:
            loop = asyncio.get_running_loop()
            self._idle_timer = loop.call_later(wait, self._when_idle)
        else:
            self._start_checkpoint()

    def _start_checkpoint(self) -> None:
        if self._closed or (self._checkpointing is not None and not self._checkpointing.done()):
            return
        self._checkpointing = asyncio.create_task(self._background_checkpoint())

    async def _background_checkpoint(self) -> None:
        try:
            await self.checkpoint()
        except StorageError as error:  # the next one copies what this one could not
            log.warning("WAL checkpoint failed: %s", error)

    # --- updates: the hot path ----------------------------------------------------------------

    async def load_chat(self, chat_id: int) -> ChatState | None:
        cached = self._cache.get(chat_id)
        if cached is not MISSING:
            return cast(ChatState | None, cached)
        return await self._run_short(conversations.load_chat, self._cache, chat_id)

    async def commit(self, write: UpdateWrite) -> list[OutboxItem] | None:
        """Apply one update in ONE transaction: see :meth:`bot.storage.protocol.Store.commit`.

        Returns the outbox rows it queued (with their ids, ready to send), or None (and
        nothing written but the removal of ``write.sent``) if its update was applied before.
        Writes from other chats that arrive while a transaction is in flight share the next
        one (:mod:`bot.storage.group_commit`); this returns once the transaction holding
        ``write`` committed.
        """
        if self._closed:
            raise StorageError(f"the database at {self.name} is already closed")
        session = write.change.session
        # The session becomes JSON here, on the event loop: it may change once we return.
        session_json = session if session is UNCHANGED or session is None else session.to_json()
        return await self.group.commit(Pending(write, session_json, _now(write.now)))

    async def mark_processed(self, update_ids: Iterable[int], *, now: float | None = None) -> int:
        """Record updates as applied without applying them (given up on, or dropped on
        purpose), so that the offset may pass them; returns how many were new."""
        return await self._write(conversations.mark_processed, tuple(update_ids), _now(now))

    async def prune_processed(self, *, keep_seconds: float, now: float | None = None) -> int:
        """Forget update ids older than ``keep_seconds``; returns how many (the retention job
        keeps two days: Telegram redelivers an update for 24 hours at most)."""
        return await self._write(conversations.prune_processed, _now(now) - keep_seconds)

    async def prune_events(self, *, keep_seconds: float, now: float | None = None) -> int:
        """Forget anonymous events older than ``keep_seconds``; returns how many (the retention
        job keeps them as long as /stats looks back, or RETENTION_DAYS when that is longer)."""
        return await self._write(conversations.prune_events, _now(now) - keep_seconds)

    # --- chats ----------------------------------------------------------------------------------

    async def mark_blocked(self, chat_id: int, blocked: bool = True) -> None:
        """The person blocked the bot (403): mark the chat and drop what is queued for it."""
        await self._write(conversations.mark_blocked, self._cache, chat_id, blocked, time.time())

    # --- outbox ---------------------------------------------------------------------------------

    async def pending_outbox(
        self, chat_id: int | None = None, limit: int = 100
    ) -> list[OutboxItem]:
        """Unsent items, oldest first (items given up on are not pending)."""
        return await self._run(conversations.pending_outbox, chat_id, limit)

    async def mark_sent(self, sent: Iterable[tuple[int, int | None]]) -> None:
        """Delivered ``(item_id, message_id)``: removed, in one transaction; a "prompt" item's
        ``message_id`` becomes its chat's prompt."""
        await self._write(conversations.mark_sent, self._cache, tuple(sent))

    async def mark_failed(self, item_id: int, error: str, *, permanent: bool) -> None:
        """Count a failed try; ``permanent`` gives up on it (kept, marked failed, for a look)."""
        await self._write(conversations.mark_failed, item_id, error, permanent)

    # --- privacy --------------------------------------------------------------------------------

    async def export_chat(self, chat_id: int) -> dict[str, Any]:
        """Everything we hold about one person (for /mydata), JSON-able."""
        return await self._run(privacy.export_chat, chat_id)

    async def purge_older_than(self, seconds: float, now: float | None = None) -> dict[str, int]:
        """Retention: delete sessions, leads, follow-ups and messages older than ``seconds``
        (a session's age counts from when it last changed); returns counts by table."""
        counts = await self._write(privacy.purge_older_than, self._cache, _now(now) - seconds)
        await self._erase_traces()
        return counts

    # --- leads and follow-ups -------------------------------------------------------------------

    async def recent_leads(self, limit: int = 10) -> list[Lead]:
        """Newest first."""
        return await self._run(practice.leads, True, limit)

    async def all_leads(self) -> list[Lead]:
        """Oldest first (for the CSV export)."""
        return await self._run(practice.leads, False, None)

    async def due_followups(self, now: float | None = None, limit: int = 100) -> list[Followup]:
        return await self._run(practice.due_followups, _now(now), limit)

    async def mark_followup_sent(
        self,
        followup_id: int,
        *,
        outbox: Sequence[OutgoingMessage] = (),
        now: float | None = None,
    ) -> bool:
        """Claim a follow-up and queue its message together; False if it was already sent,
        cancelled or forgotten (then nothing is queued)."""
        unit = practice.mark_followup_sent
        queued = await self._write(unit, self._cache, followup_id, tuple(outbox), _now(now))
        return queued is not None

    # --- statistics and meta --------------------------------------------------------------------

    async def stats(
        self,
        since: float,
        until: float | None = None,
        *,
        idle_for: float | None = None,
        now: float | None = None,
    ) -> Stats:
        """Counts from the anonymous events. Their times are kept to the hour, so ``since`` is
        exact to the hour too. With ``idle_for`` (seconds), also the conversations resting at
        each question, untouched for that long since ``since``: where people stopped."""
        before = None if idle_for is None else _now(now) - idle_for
        return await self._run(practice.stats, since, until, before)

    async def get_meta(self, key: str) -> str | None:
        return await self._run(practice.get_meta, key)

    async def set_meta(self, key: str, value: str | None) -> None:
        """Store a small fact (e.g. when retention last ran); None deletes it."""
        await self._write(practice.set_meta, key, value)


# --- helpers ------------------------------------------------------------------------------------


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def _identity(name: str) -> tuple[int, int] | None:
    """(device, inode) of the database file, None for one in memory (or a path not there)."""
    if name == ":memory:":
        return None
    try:
        found = os.stat(name)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _prepare(conn: sqlite3.Connection, name: str, verify: bool = False) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # The first read of the file: a file that is not a database fails here.
    conn.execute("PRAGMA journal_mode = WAL").fetchone()
    # In WAL mode NORMAL is still crash-safe for the database; a power cut may lose the last
    # commits, not corrupt anything, and commits need no fsync.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # Deleted rows are overwritten with zeros, not left in free pages: health data that
    # /forget or retention deleted must not stay readable in the file (see _erase_traces).
    conn.execute("PRAGMA secure_delete = ON")
    # Checkpoints are Storage's (see CHECKPOINT_IDLE_S), never inside a commit.
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
    if verify:
        _check_intact(conn, name)
    migrate(conn, name=name)
    if verify:
        conversations.probe(conn, PROBE_BYTES)  # read-only, or a full disk: raises here


def _check_intact(conn: sqlite3.Connection, name: str) -> None:
    """``PRAGMA quick_check``: every page readable and well formed (not the slower check of
    every index against its table); stops at the first problem."""
    (result,) = conn.execute("PRAGMA quick_check(1)").fetchone()
    if result != "ok":
        raise StorageError(_damaged(name, str(result)))


def _damaged(name: str, problem: str) -> str:
    # quick_check heads its findings "*** in database main ***" on a line of their own
    lines = [line for line in problem.splitlines() if line and not line.startswith("***")]
    problem = "; ".join(lines) or "unreadable"
    return (
        f"the database at {name} is damaged ({problem}): restore it from a backup, or move "
        "it aside and the bot starts with an empty one"
    )


def _checkpoint(conn: sqlite3.Connection) -> int:
    _busy, pages, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(pages)


def _checkpoint_truncate(conn: sqlite3.Connection) -> bool:
    """Copy the whole WAL into the database file and cut it to zero bytes; False if busy."""
    busy, _pages, _copied = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def _finish(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA optimize")  # keeps the query planner's statistics fresh, cheaply
    _checkpoint(conn)  # closing checkpoints too, but only if no other connection is open


def _create_folder(path: Path) -> None:
    if path.is_dir():
        raise StorageError(f"cannot open the database at {path}: it is a folder, not a file")
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise StorageError(
                    f"cannot create the database at {path}: {ancestor} is a file, not a folder"
                )
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise StorageError(f"cannot create the database at {path}: {reason}") from exc


def _unavailable(name: str, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "readonly" in text:
        return f"cannot write the database at {name}: it is read-only"
    return f"the database at {name} cannot be written now: {text}"


def _open_error(name: str, exc: sqlite3.Error) -> StorageError:
    text = str(exc)
    if "not a database" in text:
        return StorageError(f"the file at {name} is not a SQLite database (or it is damaged)")
    if "readonly" in text:
        return StorageError(f"cannot write the database at {name}: it is read-only")
    if "unable to open" in text:
        return StorageError(
            f"cannot create the database at {name}: permission denied or no such folder"
        )
    return StorageError(f"cannot open the database at {name}: {text}")


def _failure(name: str, exc: sqlite3.Error) -> StorageError:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in _UNAVAILABLE_CODES:
        return StorageUnavailable(_unavailable(name, exc))
    if code == sqlite3.SQLITE_CORRUPT:
        return StorageError(_damaged(name, str(exc)))
    text = str(exc)
    if any(sign in text for sign in ("not a database", "readonly", "unable to open")):
        return _open_error(name, exc)
    return StorageError(f"the database at {name} failed: {text}")
