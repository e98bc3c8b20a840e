"""The storage interface over PostgreSQL (asyncpg, a connection pool): several bots, one database.

Selected by ``DATABASE_URL=postgresql://...``. The same methods, records and errors as
:class:`bot.storage.Storage` (the SQLite one), so nothing above ``bot/storage`` knows which one
it has. What several processes on one database need, and how each is kept:

* **an update applied exactly once**: its id's primary key, inserted in the transaction that
  applies it (a second delivery, to this process or another, writes nothing);
* **one update at a time per chat**: :meth:`PostgresStorage.chat_lock`, a session-level
  advisory lock on the chat id held for a whole turn (load, decide, commit, send the replies,
  record them sent), on a pooled connection the turn's statements then use too. The server
  drops it with the connection, so a killed process frees its chats at once;
* **each reply sent once**: replies are sent only under their chat's lock and recorded as sent
  before it is released; rows a dead process left behind are claimed by a sweep
  (``FOR UPDATE SKIP LOCKED``) once their lease ran out (:mod:`bot.storage.pg_units`);
* **background jobs in one process**: :meth:`PostgresStorage.lead` runs them only while this
  process holds the leader lock, a session advisory lock on a connection of its own; when its
  holder dies, another process takes it within :data:`LEADER_RETRY_S`;
* **one polling bot, or webhook bots, never both**: a bot holds the serving lock the same way,
  alone in polling mode (``exclusive=True``: a second polling bot refuses to start) and shared
  in webhook mode (``webhook=True``: any number together). A polling bot and webhook bots
  refuse each other, since polling deletes the webhook and a webhook stops ``getUpdates``.
  Tools (``db copy``, ``doctor``) hold neither.

No chat cache: another process may have written the chat since (the SQLite store caches
because it is the only writer). The password in the URL is never shown: :attr:`name` is the
URL without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Final, NamedTuple, TypeVar
from urllib.parse import urlsplit

import asyncpg

from bot.redact import redacted_url
from bot.storage import pg_units as units
from bot.storage.outage import Outage
from bot.storage.pg_schema import APP_LOCK, LEADER_LOCK, SERVING_LOCK, migrate
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

T = TypeVar("T")

log = logging.getLogger(__name__)

DEFAULT_POOL_SIZE: Final = 10
CONNECT_TIMEOUT_S: Final = 10.0
CLOSE_TIMEOUT_S: Final = 10.0  # for a query still running at close, then it is cut off
LEADER_RETRY_S: Final = 5.0  # how soon a waiting process notices the leader has gone
SWEEP_LIMIT: Final = 100

# The connection of the chat lock a task holds (see chat_lock), with its storage and the task:
# a task started meanwhile inherits the variable (and so would a timer's callback), but not
# the connection, which only the holding task may use.
_HELD: ContextVar[_Held | None] = ContextVar("triage_pg_held", default=None)


class _Held(NamedTuple):
    storage: PostgresStorage
    conn: asyncpg.Connection
    task: asyncio.Task[Any] | None


# What asyncpg raises: the server's errors, misuse or a closed connection, and its own state
# confused by a connection the server ended under it (InternalClientError).
_DRIVER_ERRORS: Final = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)

# The server's answers that mean "not now" rather than "never": the update is not to blame
# and the same write may work later (SQLSTATE classes 08 connection, 53 resources, 57 operator
# intervention; 40 a serialization failure or deadlock; 25006 a read-only transaction).
_UNAVAILABLE_CLASSES: Final = ("08", "53", "57", "40")
_UNAVAILABLE_STATES: Final = frozenset({"25006"})


class PostgresStorage:
    """Sessions, exactly-once updates, the outbox, leads, follow-ups and anonymous events in
    PostgreSQL. Open with ``await PostgresStorage.open(url)``."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self._url = url
        self.name = redacted_url(url)
        self.outage = Outage(self.name)
        self._closed = False
        self._opened = False
        self._serving: asyncpg.Connection | None = None  # holds the serving lock

    def file_problem(self) -> str | None:
        """Always None: the database is the server's, with no file of the bot's to lose."""
        return None

    # --- opening and closing ------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        exclusive: bool = False,
        webhook: bool = False,
        verify: bool = False,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> PostgresStorage:
        """Connect, and migrate under the migration lock (see :mod:`bot.storage.pg_schema`).

        ``exclusive``: a bot in polling mode, the only one allowed: hold the serving lock alone
        until :meth:`close`, or raise StorageError when any other bot serves the database.
        ``webhook``: a bot in webhook mode: hold the serving lock shared with the other webhook
        bots, or raise StorageError when a polling bot holds it.
        ``verify``: one write given back, so a read-only database is refused at start.
        """
        if exclusive and webhook:
            raise ValueError("a bot polls (exclusive) or serves a webhook, not both")
        name = redacted_url(url)
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=pool_size, timeout=CONNECT_TIMEOUT_S
            )
        except (TimeoutError, OSError, ValueError, *_DRIVER_ERRORS) as exc:
            reason = _without_password(_reason(exc), url)
            raise StorageError(f"cannot connect to the database at {name}: {reason}") from exc
        storage = cls(pool, url)
        try:
            async with storage._guard(), pool.acquire() as conn:
                await migrate(conn, name=name)
                if verify:
                    await units.probe(conn)
            if exclusive or webhook:
                storage._serving = await storage._serve(webhook=webhook)
        except BaseException:
            await pool.close()
            raise
        storage._opened = True
        return storage

    async def _hold(
        self, kind: int, refusal: str | None, *, shared: bool = False
    ) -> asyncpg.Connection:
        """A connection of its own holding the advisory lock ``kind`` (``shared``: beside
        other shared holders); StorageError with ``refusal`` when another session holds it."""
        take = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        async with self._guard():
            conn = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT_S)
            try:
                got = await conn.fetchval(f"SELECT {take}($1, $2)", APP_LOCK, kind)
            except BaseException:
                await conn.close()
                raise
        if not got:
            await conn.close()
            raise StorageError(refusal or "the lock is held")
        return conn

    async def _serve(self, *, webhook: bool) -> asyncpg.Connection:
        """Hold the serving lock for a bot in webhook mode (shared) or polling mode (alone)."""
        if webhook:
            return await self._hold(SERVING_LOCK, _webhook_refusal(self.name), shared=True)
        try:
            return await self._hold(SERVING_LOCK, _polling_refusal(self.name))
        except StorageError:
            if await self._held_shared():  # by webhook bots, not another polling one
                raise StorageError(_polling_beside_webhook(self.name)) from None
            raise

    async def _held_shared(self) -> bool:
        """Whether the serving lock is held only by bots sharing it (webhook mode)."""
        async with self._guard(), self._pool.acquire() as conn:
            got = await conn.fetchval(
                "SELECT pg_try_advisory_lock_shared($1, $2)", APP_LOCK, SERVING_LOCK
            )
            if got:
                await conn.execute(
                    "SELECT pg_advisory_unlock_shared($1, $2)", APP_LOCK, SERVING_LOCK
                )
            return bool(got)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._serving is not None:
                await self._serving.close()
        finally:
            try:
                await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT_S)
            except TimeoutError:  # a connection still busy: shutting down wins
                log.warning("Closed the database connections without waiting for a query")
                self._pool.terminate()

    async def __aenter__(self) -> PostgresStorage:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """asyncpg's and the network's errors as StorageError (StorageUnavailable: not now)."""
        try:
            yield
        except StorageError:
            raise
        except (*_DRIVER_ERRORS, OSError, TimeoutError) as exc:
            error = _failure(self.name, exc, self._url)
            if isinstance(error, StorageUnavailable) and self._opened:
                self.outage.failed(error)
            raise error from exc

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[asyncpg.Connection]:
        """The connection of this task's chat lock, else one from the pool."""
        if self._closed:
            raise StorageError(f"the database at {self.name} is already closed")
        held = _HELD.get()
        async with self._guard():
            if held is not None and held.storage is self and held.task is asyncio.current_task():
                yield held.conn
            else:
                async with self._pool.acquire() as conn:
                    yield conn

    async def _run(self, unit: Callable[..., Awaitable[T]], *args: Any) -> T:
        async with self._conn() as conn:
            return await unit(conn, *args)

    async def _write(self, unit: Callable[..., Awaitable[T]], *args: Any) -> T:
        result = await self._run(unit, *args)
        self.outage.recovered()
        return result

    async def writable(self) -> bool:
        try:
            await self._write(units.probe)
        except StorageUnavailable:
            return False
        return True

    async def checkpoint(self) -> int:
        """Nothing to do: the server checkpoints by itself."""
        return 0

    # --- several processes --------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def chat_lock(self, chat_id: int) -> AsyncIterator[None]:
        """One turn of ``chat_id`` at a time across every process on the database: a session
        advisory lock on a pooled connection, which this task's storage calls use meanwhile.
        Returning the connection to the pool resets it (asyncpg unlocks all), so no path
        leaves the lock behind; a killed process's connection takes it with it."""
        async with self._guard(), self._pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", chat_id)
            token = _HELD.set(_Held(self, conn, asyncio.current_task()))
            try:
                yield
            finally:
                _HELD.reset(token)
                with contextlib.suppress(*_DRIVER_ERRORS, OSError):
                    await conn.execute("SELECT pg_advisory_unlock($1)", chat_id)

    async def lead(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` (the background jobs) only while this process is the leader: wait for
        the leader lock, run ``work`` while holding it, and when the lock's connection ends
        (the server went away, or ended it), stop ``work`` and wait for the lock again. Returns
        when ``work`` does; runs until cancelled otherwise."""
        while True:
            try:
                conn = await self._hold(LEADER_LOCK, None)
            except StorageError as error:
                log.debug("not the leader: %s", error)
                await asyncio.sleep(LEADER_RETRY_S)
                continue
            log.info("This bot runs the background jobs (retention, check-ins)")
            lost = asyncio.Event()
            conn.add_termination_listener(functools.partial(_set, lost))
            working = asyncio.ensure_future(work())
            watching = asyncio.ensure_future(lost.wait())
            try:
                await asyncio.wait({working, watching}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (working, watching):
                    task.cancel()
                await asyncio.gather(working, watching, return_exceptions=True)
                await conn.close()
            if lost.is_set():
                log.warning("Lost the leader lock (the database connection ended); waiting")
            else:
                return  # the jobs ended by themselves

    async def claim_orphans(self, now: float | None = None) -> list[int]:
        """Chats with replies nobody is sending (their sender died, or its retry is due),
        claimed for this process's sweep; see :func:`bot.storage.pg_units.claim_orphans`."""
        return await self._write(units.claim_orphans, _now(now), SWEEP_LIMIT)

    # --- updates ------------------------------------------------------------------------------

    async def load_chat(self, chat_id: int) -> ChatState | None:
        return await self._run(units.load_chat, chat_id)

    async def commit(self, write: UpdateWrite) -> list[OutboxItem] | None:
        """See :meth:`bot.storage.protocol.Store.commit`. Each write is a transaction of its
        own: PostgreSQL commits concurrent transactions side by side (with its own group
        commit of the WAL), so there is nothing to batch here."""
        session = write.change.session
        session_json = session if session is UNCHANGED or session is None else session.to_json()
        return await self._write(units.commit, write, session_json, _now(write.now))

    async def mark_processed(self, update_ids: Iterable[int], *, now: float | None = None) -> int:
        return await self._write(units.mark_processed, tuple(update_ids), _now(now))

    async def prune_processed(self, *, keep_seconds: float, now: float | None = None) -> int:
        return await self._delete("processed_updates", "at", _now(now) - keep_seconds)

    async def prune_events(self, *, keep_seconds: float, now: float | None = None) -> int:
        return await self._delete("events", "at", _now(now) - keep_seconds)

    async def _delete(self, table: str, column: str, cutoff: float) -> int:
        async with self._conn() as conn:
            status = await conn.execute(f"DELETE FROM {table} WHERE {column} < $1", cutoff)
        return int(status.split()[-1])

    # --- chats --------------------------------------------------------------------------------

    async def mark_blocked(self, chat_id: int, blocked: bool = True) -> None:
        await self._write(units.mark_blocked, chat_id, blocked, time.time())

    # --- outbox -------------------------------------------------------------------------------

    async def pending_outbox(
        self, chat_id: int | None = None, limit: int = 100
    ) -> list[OutboxItem]:
        return await self._run(units.pending_outbox, chat_id, limit)

    async def mark_sent(self, sent: Iterable[tuple[int, int | None]]) -> None:
        await self._write(units.mark_sent, tuple(sent))

    async def mark_failed(self, item_id: int, error: str, *, permanent: bool) -> None:
        """Count a failed try. The row stays its sender's for another lease (its own retry
        comes first); after that any process's sweep may try it."""
        retry_at = None if permanent else time.time() + units.RETRY_LEASE_S
        await self._write(units.mark_failed, item_id, error, permanent, retry_at)

    # --- privacy ------------------------------------------------------------------------------

    async def export_chat(self, chat_id: int) -> dict[str, Any]:
        return await self._run(units.export_chat, chat_id)

    async def purge_older_than(self, seconds: float, now: float | None = None) -> dict[str, int]:
        return await self._write(units.purge_older_than, _now(now) - seconds)

    # --- leads and follow-ups -----------------------------------------------------------------

    async def recent_leads(self, limit: int = 10) -> list[Lead]:
        return await self._run(units.leads, True, limit)

    async def all_leads(self) -> list[Lead]:
        return await self._run(units.leads, False, None)

    async def due_followups(self, now: float | None = None, limit: int = 100) -> list[Followup]:
        return await self._run(units.due_followups, _now(now), limit)

    async def mark_followup_sent(
        self,
        followup_id: int,
        *,
        outbox: Sequence[OutgoingMessage] = (),
        now: float | None = None,
    ) -> bool:
        unit = units.mark_followup_sent
        return await self._write(unit, followup_id, tuple(outbox), _now(now)) is not None

    # --- statistics and meta ------------------------------------------------------------------

    async def stats(
        self,
        since: float,
        until: float | None = None,
        *,
        idle_for: float | None = None,
        now: float | None = None,
    ) -> Stats:
        before = None if idle_for is None else _now(now) - idle_for
        return await self._run(units.stats, since, until, before)

    async def get_meta(self, key: str) -> str | None:
        async with self._conn() as conn:
            value = await conn.fetchval("SELECT value FROM meta WHERE key = $1", key)
        return None if value is None else str(value)

    async def set_meta(self, key: str, value: str | None) -> None:
        await self._write(units.set_meta, key, value)


def _set(event: asyncio.Event, _conn: object) -> None:
    event.set()


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def _webhook_refusal(name: str) -> str:
    return (
        f"a triage-bot is polling {name}: stop it before starting bots in webhook mode (polling "
        "deletes their webhook, and a webhook stops the polling)"
    )


def _polling_beside_webhook(name: str) -> str:
    return (
        f"triage-bots in webhook mode serve {name}: polling would delete their webhook; run "
        "this one in webhook mode too (WEBHOOK_URL), or stop them first"
    )


def _polling_refusal(name: str) -> str:
    return (
        f"another triage-bot is already polling {name}: one bot may poll a database; run "
        "several in webhook mode (WEBHOOK_URL), or stop the other one first"
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer in time"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].rstrip(".")


def _without_password(text: str, url: str) -> str:
    """A driver's message may quote the URL it was given: never with its password."""
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def _failure(name: str, exc: BaseException, url: str) -> StorageError:
    state = getattr(exc, "sqlstate", None) or ""
    reason = _without_password(_reason(exc), url)
    if (
        isinstance(
            exc,
            OSError
            | TimeoutError
            | asyncpg.InterfaceError
            | asyncpg.exceptions.InternalClientError,
        )
        or state[:2] in _UNAVAILABLE_CLASSES
        or state in _UNAVAILABLE_STATES
    ):
        return StorageUnavailable(f"the database at {name} cannot be written now: {reason}")
    return StorageError(f"the database at {name} failed: {reason}")
