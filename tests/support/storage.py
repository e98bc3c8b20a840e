"""Writing and reading a test's database the short way.

``commit`` builds the one record the bot commits (:class:`bot.storage.UpdateWrite`) from
keywords, as the transport builds it from a decision; the readers look at the SQLite file
itself (a second connection beside the bot's, as any tool would), so the storage needs no
methods that only tests call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg

from bot.storage import (
    UNCHANGED,
    ChatChange,
    NewLead,
    OutboxItem,
    OutgoingMessage,
    SessionJSON,
    Storage,
    Unchanged,
    UpdateWrite,
)
from bot.storage.postgres import PostgresStorage


async def commit_returning(
    storage: Storage,
    *,
    update_id: int | None,
    chat_id: int,
    session_json: str | Unchanged | None = UNCHANGED,
    sent: Sequence[tuple[int, int | None]] = (),
    now: float | None = None,
    **change: Any,
) -> list[OutboxItem] | None:
    """``storage.commit`` of one update; ``change`` holds :class:`ChatChange`'s fields."""
    session = SessionJSON(session_json) if isinstance(session_json, str) else session_json
    write = UpdateWrite(update_id, chat_id, ChatChange(session=session, **change), sent, now)
    return await storage.commit(write)


async def commit(storage: Storage, **fields: Any) -> bool:
    """:func:`commit_returning`: True when applied, False for an update applied before."""
    return await commit_returning(storage, **fields) is not None


async def add_lead(
    storage: Storage,
    lead: NewLead,
    *,
    outbox: Sequence[OutgoingMessage] = (),
    now: float | None = None,
) -> int:
    """Store a lead as the bot does (with a message, no update id); returns its id."""
    await commit(storage, update_id=None, chat_id=lead.chat_id, lead=lead, outbox=outbox, now=now)
    (lead_id,) = one(storage, "SELECT max(id) FROM leads WHERE chat_id = ?", lead.chat_id)
    return int(lead_id)


async def schedule_followup(
    storage: Storage, chat_id: int, due_at: float, *, baseline: int | None = None
) -> int:
    """Promise a check-in as the bot does when the person asks; returns its id."""
    await commit(
        storage, update_id=None, chat_id=chat_id, followup_due_at=due_at, followup_baseline=baseline
    )
    (followup_id,) = one(storage, "SELECT max(id) FROM followups WHERE chat_id = ?", chat_id)
    return int(followup_id)


@contextlib.contextmanager
def reading(database: Storage | str | Path) -> Iterator[sqlite3.Connection]:
    """A connection of its own to the database file (it sees what was committed)."""
    path = database.name if isinstance(database, Storage) else str(database)
    conn = sqlite3.connect(path)
    try:
        yield conn
    finally:
        conn.close()


def one(database: Storage | str | Path, sql: str, *params: Any) -> tuple[Any, ...]:
    """The first row of ``sql`` (``?`` placeholders), read beside the bot's own connections:
    from the SQLite file, or from the PostgreSQL database a :class:`PostgresStorage` uses."""
    if isinstance(database, PostgresStorage):
        row = _one_postgres(database.name, sql, params)
    else:
        with reading(database) as conn:
            row = conn.execute(sql, params).fetchone()
    assert row is not None, sql
    return tuple(row)


def _one_postgres(url: str, sql: str, params: tuple[Any, ...]) -> Any:
    """On a thread of its own (the caller may be inside the event loop): a plain, synchronous
    look at the database, as ``sqlite3`` gives for a file. Test URLs carry no password, so
    the storage's name is its URL."""
    numbered = iter(range(1, len(params) + 1))
    query = re.sub(r"\?", lambda _match: f"${next(numbered)}", sql)

    async def fetch() -> Any:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchrow(query, *params)
        finally:
            await conn.close()

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, fetch()).result()


def is_processed(database: Storage | str | Path, update_id: int) -> bool:
    """The update's id is recorded: a redelivery of it would change nothing."""
    (count,) = one(
        database, "SELECT count(*) FROM processed_updates WHERE update_id = ?", update_id
    )
    return bool(count)


def count_chats(database: Storage | str | Path) -> int:
    (count,) = one(database, "SELECT count(*) FROM chats")
    return int(count)
