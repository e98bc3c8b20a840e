"""The units of work of :mod:`bot.storage.postgres`: each one whole transaction on one connection.

They mirror ``conversations``, ``practice`` and ``privacy`` statement for statement (same
rows, same answers), in PostgreSQL's dialect, and share their pure helpers (row to record,
JSON). What differs, and why:

* an update takes its chat's advisory lock for the transaction before anything else
  (``pg_advisory_xact_lock``): two processes given updates of one chat apply them one after
  the other even when no turn lock is held (a tool, a test), and the update id's primary key
  makes the second of two deliveries of one update write nothing;
* a queued row is born claimed by the process that committed it (``claimed_until``, a lease):
  the sweep of another process leaves it alone while that process delivers it, and takes it
  over only once the lease ran out (the process died); see :func:`claim_orphans`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, TypeAlias

import asyncpg

from bot.storage.conversations import EVENT_TIME_STEP, MAX_ERROR_CHARS
from bot.storage.db import CHAT_COLUMNS, chat_columns, chat_state, dumps, loads_object
from bot.storage.practice import (
    FOLLOWUP_COLUMNS,
    LEAD_COLUMNS,
    count_idle,
    followup_from_row,
    lead_from_row,
    summarise,
)
from bot.storage.privacy import export_of
from bot.storage.records import (
    PROMPT,
    ChatChange,
    ChatState,
    Event,
    Followup,
    Lead,
    NewLead,
    OutboxItem,
    OutgoingMessage,
    Stats,
    Unchanged,
    UpdateWrite,
)

Conn: TypeAlias = asyncpg.Connection
# How long a queued row is its committer's to send before another process's sweep may claim
# it: the committer sends it within milliseconds (under the chat's lock, which a sweep must take
# too), so this only bounds how long replies wait when their process died.
LEASE_S: Final = 5.0
# After a failed try, the sender's own retry (with its backoff) comes first for this long.
RETRY_LEASE_S: Final = 60.0
OUTBOX_COLUMNS: Final = "id, chat_id, method, params, tag, attempts"


def _state(row: Any) -> ChatState | None:
    return chat_state(tuple(row)) if row is not None else None


# --- updates ----------------------------------------------------------------------------------


async def commit(
    conn: Conn, write: UpdateWrite, session_json: str | Unchanged | None, now: float
) -> list[OutboxItem] | None:
    """Apply one update exactly once: None (and nothing of the update written) if its id was
    seen before. The delivered rows in ``write.sent`` are removed either way."""
    change = write.change
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", write.chat_id)
        await remove_sent(conn, write.sent)
        if write.update_id is not None and not await _claim(conn, write.update_id, now):
            return None
        if change.forget:
            await delete_person(conn, write.chat_id)
        await _write_chat(conn, write.chat_id, change, session_json, now)
        if change.checkin_answered is not None:
            await conn.execute(
                "UPDATE chats SET open_checkin = NULL WHERE chat_id = $1 AND open_checkin = $2",
                write.chat_id,
                change.checkin_answered,
            )
        items = await queue(conn, change.outbox, now)
        await record_events(conn, change.events, now)
        if change.lead is not None:
            await insert_lead(conn, change.lead, now)
        if change.followup_due_at is not None:
            await insert_followup(
                conn, write.chat_id, change.followup_due_at, change.followup_baseline
            )
        return items


async def _claim(conn: Conn, update_id: int, now: float) -> bool:
    status = await conn.execute(
        "INSERT INTO processed_updates (update_id, at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        update_id,
        now,
    )
    return bool(status == "INSERT 0 1")


async def _write_chat(
    conn: Conn,
    chat_id: int,
    change: ChatChange,
    session_json: str | Unchanged | None,
    now: float,
) -> None:
    given = chat_columns(change, session_json)
    if given is None:
        return  # forgotten, and nothing new to remember
    names = ("chat_id", *given, "updated_at")
    updates = [f"{name} = excluded.{name}" for name in given] + ["blocked = 0"]
    if given:
        updates.append("updated_at = excluded.updated_at")
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    await conn.execute(
        f"INSERT INTO chats ({', '.join(names)}) VALUES ({placeholders}) "
        f"ON CONFLICT (chat_id) DO UPDATE SET {', '.join(updates)}",
        chat_id,
        *given.values(),
        now,
    )


async def queue(
    conn: Conn, outbox: Sequence[OutgoingMessage], now: float, *, lease: float = LEASE_S
) -> list[OutboxItem]:
    """Queue messages inside the caller's transaction, claimed by the caller for ``lease``."""
    items = []
    for message in outbox:
        params = dict(message.params)
        item_id = await conn.fetchval(
            "INSERT INTO outbox (chat_id, method, params, tag, about_chat_id, created_at, "
            "claimed_until) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            message.chat_id, message.method, dumps(params), message.tag,
            message.about_chat_id, now, now + lease,
        )  # fmt: skip
        items.append(OutboxItem(item_id, message.chat_id, message.method, params, message.tag, 0))
    return items


async def record_events(conn: Conn, events: Sequence[Event], now: float) -> None:
    if not events:
        return
    at = now - now % EVENT_TIME_STEP
    await conn.executemany(
        "INSERT INTO events (kind, step, outcome, source, at) VALUES ($1, $2, $3, $4, $5)",
        [(str(e.kind), e.step, e.outcome, e.source, at) for e in events],
    )


async def mark_processed(conn: Conn, update_ids: Sequence[int], now: float) -> int:
    async with conn.transaction():
        return sum([await _claim(conn, update_id, now) for update_id in update_ids])


# --- chats ------------------------------------------------------------------------------------


async def load_chat(conn: Conn, chat_id: int) -> ChatState | None:
    row = await conn.fetchrow(f"SELECT {CHAT_COLUMNS} FROM chats WHERE chat_id = $1", chat_id)
    return _state(row)


async def set_prompt(conn: Conn, chat_id: int, message_id: int | None) -> None:
    await conn.execute(
        "UPDATE chats SET prompt_message_id = $1 WHERE chat_id = $2", message_id, chat_id
    )


async def mark_blocked(conn: Conn, chat_id: int, blocked: bool, now: float) -> None:
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO chats (chat_id, blocked, updated_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (chat_id) DO UPDATE SET blocked = excluded.blocked",
            chat_id,
            int(blocked),
            now,
        )
        if blocked:
            await conn.execute("DELETE FROM outbox WHERE chat_id = $1 AND failed = 0", chat_id)


# --- outbox -----------------------------------------------------------------------------------


def _item(row: Any) -> OutboxItem:
    id, chat, method, params, tag, attempts = row
    return OutboxItem(id, chat, method, loads_object(params), tag, attempts)


async def pending_outbox(conn: Conn, chat_id: int | None, limit: int) -> list[OutboxItem]:
    """Unsent rows, oldest first, leased or not: the caller holds the chat's turn lock (or
    only looks)."""
    if chat_id is None:
        rows = await conn.fetch(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE failed = 0 ORDER BY id LIMIT $1", limit
        )
    else:
        rows = await conn.fetch(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE chat_id = $1 AND failed = 0 "
            "ORDER BY id LIMIT $2",
            chat_id,
            limit,
        )
    return [_item(row) for row in rows]


async def claim_orphans(conn: Conn, now: float, limit: int, lease: float = LEASE_S) -> list[int]:
    """Claim unsent rows whose lease ran out (their process died, or gave them back after a
    failed try) for ``lease``; returns their chats, oldest row first. ``SKIP LOCKED``: rows
    another process is claiming at this moment are left to it, never waited for."""
    rows = await conn.fetch(
        "UPDATE outbox SET claimed_until = $1 WHERE id IN ("
        "  SELECT id FROM outbox WHERE failed = 0 "
        "  AND (claimed_until IS NULL OR claimed_until < $2) "
        "  ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED"
        ") RETURNING id, chat_id",
        now + lease,
        now,
        limit,
    )
    ordered = sorted((row["id"], row["chat_id"]) for row in rows)
    return list(dict.fromkeys(chat for _, chat in ordered))


async def remove_sent(conn: Conn, sent: Sequence[tuple[int, int | None]]) -> None:
    """Remove delivered rows inside the caller's transaction; a delivered prompt's message id
    becomes its chat's prompt. An id already removed changes nothing."""
    for item_id, message_id in sent:
        row = await conn.fetchrow(
            "DELETE FROM outbox WHERE id = $1 RETURNING chat_id, tag", item_id
        )
        if row is not None and row["tag"] == PROMPT and message_id is not None:
            await set_prompt(conn, row["chat_id"], message_id)


async def mark_sent(conn: Conn, sent: Sequence[tuple[int, int | None]]) -> None:
    async with conn.transaction():
        await remove_sent(conn, sent)


async def mark_failed(
    conn: Conn, item_id: int, error: str, permanent: bool, retry_at: float | None
) -> None:
    """Count a failed try; the row's lease becomes ``retry_at`` (when its sender tries again;
    another process's sweep takes it over after that)."""
    await conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $1, "
        "failed = greatest(failed, $2), claimed_until = $3 WHERE id = $4",
        error[:MAX_ERROR_CHARS],
        int(permanent),
        retry_at,
        item_id,
    )


# --- privacy ----------------------------------------------------------------------------------


async def delete_person(conn: Conn, chat_id: int) -> dict[str, int]:
    """Everything that names the chat, inside the caller's transaction."""

    async def count(sql: str) -> int:
        return int((await conn.execute(sql, chat_id)).split()[-1])

    return {
        "chats": await count("DELETE FROM chats WHERE chat_id = $1"),
        "outbox": await count("DELETE FROM outbox WHERE chat_id = $1")
        + await count("DELETE FROM outbox WHERE about_chat_id = $1"),
        "leads": await count("DELETE FROM leads WHERE chat_id = $1"),
        "followups": await count("DELETE FROM followups WHERE chat_id = $1"),
    }


async def export_chat(conn: Conn, chat_id: int) -> dict[str, Any]:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        row = await conn.fetchrow(f"SELECT {CHAT_COLUMNS} FROM chats WHERE chat_id = $1", chat_id)
        lead_rows = await conn.fetch(
            f"SELECT {LEAD_COLUMNS} FROM leads WHERE chat_id = $1 ORDER BY id", chat_id
        )
        followups = await followups_of(conn, chat_id)
        messages = await conn.fetch(
            "SELECT method, params, created_at, failed, chat_id FROM outbox "
            "WHERE chat_id = $1 OR about_chat_id = $1 ORDER BY id",
            chat_id,
        )
    return export_of(chat_id, row, lead_rows, followups, messages)


async def purge_older_than(conn: Conn, cutoff: float) -> dict[str, int]:
    async with conn.transaction():
        counts = {}
        for table, column in (
            ("chats", "updated_at"),
            ("leads", "created_at"),
            ("followups", "due_at"),
            ("outbox", "created_at"),
        ):
            status = await conn.execute(f"DELETE FROM {table} WHERE {column} < $1", cutoff)
            counts[table] = int(status.split()[-1])
        return counts


# --- leads and follow-ups ---------------------------------------------------------------------


async def insert_lead(conn: Conn, lead: NewLead, now: float) -> int:
    lead_id: int = await conn.fetchval(
        "INSERT INTO leads (chat_id, name, username, summary_json, outcome, reasons, source, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        lead.chat_id, lead.name, lead.username, dumps(lead.summary), lead.outcome,
        dumps(list(lead.reasons)), lead.source, now,
    )  # fmt: skip
    return lead_id


async def leads(conn: Conn, newest_first: bool, limit: int | None) -> list[Lead]:
    order = "DESC" if newest_first else "ASC"
    rows = await conn.fetch(f"SELECT {LEAD_COLUMNS} FROM leads ORDER BY id {order} LIMIT $1", limit)
    return [lead_from_row(row) for row in rows]


async def insert_followup(
    conn: Conn, chat_id: int, due_at: float, baseline: int | None = None
) -> int:
    await conn.execute(
        "UPDATE followups SET cancelled = 1 "
        "WHERE chat_id = $1 AND sent_at IS NULL AND cancelled = 0",
        chat_id,
    )
    followup_id: int = await conn.fetchval(
        "INSERT INTO followups (chat_id, due_at, baseline) VALUES ($1, $2, $3) RETURNING id",
        chat_id,
        due_at,
        baseline,
    )
    return followup_id


async def due_followups(conn: Conn, now: float, limit: int) -> list[Followup]:
    rows = await conn.fetch(
        f"SELECT {FOLLOWUP_COLUMNS} FROM followups "
        "WHERE sent_at IS NULL AND cancelled = 0 AND due_at <= $1 ORDER BY due_at LIMIT $2",
        now,
        limit,
    )
    return [followup_from_row(row) for row in rows]


async def followups_of(conn: Conn, chat_id: int) -> list[Followup]:
    rows = await conn.fetch(
        f"SELECT {FOLLOWUP_COLUMNS} FROM followups WHERE chat_id = $1 ORDER BY id", chat_id
    )
    return [followup_from_row(row) for row in rows]


async def mark_followup_sent(
    conn: Conn, followup_id: int, outbox: Sequence[OutgoingMessage], now: float
) -> list[OutboxItem] | None:
    """Claim a due follow-up, queue its message and open the check-in, all together: None if
    it was already sent, cancelled or forgotten (by this process or another)."""
    async with conn.transaction():
        chat_id = await conn.fetchval(
            "UPDATE followups SET sent_at = $1 "
            "WHERE id = $2 AND sent_at IS NULL AND cancelled = 0 RETURNING chat_id",
            now,
            followup_id,
        )
        if chat_id is None:
            return None
        await conn.execute(
            "INSERT INTO chats (chat_id, open_checkin, updated_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (chat_id) DO UPDATE SET open_checkin = excluded.open_checkin",
            chat_id,
            followup_id,
            now,
        )
        return await queue(conn, outbox, now)


# --- statistics and meta ----------------------------------------------------------------------


async def stats(conn: Conn, since: float, until: float | None, idle_before: float | None) -> Stats:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await conn.fetch(
            "SELECT kind, step, outcome, source, count(*) FROM events "
            "WHERE at >= $1 AND at < $2 GROUP BY kind, step, outcome, source",
            since,
            float("inf") if until is None else until,
        )
        idle = None
        if idle_before is not None:
            sessions = await conn.fetch(
                "SELECT session_json FROM chats WHERE updated_at >= $1 AND updated_at < $2 "
                "AND session_json IS NOT NULL",
                since,
                idle_before,
            )
            idle = count_idle(row[0] for row in sessions)
    return summarise(rows, since, idle)


async def set_meta(conn: Conn, key: str, value: str | None) -> None:
    if value is None:
        await conn.execute("DELETE FROM meta WHERE key = $1", key)
    else:
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key,
            value,
        )


async def probe(conn: Conn) -> None:
    """One write given back: can the database take writes now?"""
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES ('write_probe', 'x') "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        await conn.execute("DELETE FROM meta WHERE key = 'write_probe'")
