"""The hot path: chats, exactly-once updates and the outbox, as synchronous units of work.

Each public function here is one whole transaction in a single call, so an update is one call
however many statements it needs, on the database thread or, when that thread is idle, on the
event loop's (:meth:`bot.storage.store.Storage._run_short`); two transactions can never
interleave (one call at a time on the connection). On the hot path every statement is a
primary-key or index lookup, never a table scan, so the cost stays flat as conversations
accumulate (a test checks the query plans).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from bot.storage.cache import ChatCache
from bot.storage.db import (
    CHAT_COLUMNS,
    chat_columns,
    chat_state,
    immediate,
    loads_object,
    queue,
)
from bot.storage.practice import close_checkin, insert_followup, insert_lead
from bot.storage.privacy import delete_person
from bot.storage.records import (
    PROMPT,
    ChatState,
    Event,
    OutboxItem,
    Unchanged,
    UpdateWrite,
)

MAX_ERROR_CHARS = 500
EVENT_TIME_STEP = 3600.0  # events keep the hour only: a timestamp must not point at a person


@dataclass(frozen=True, slots=True)
class Pending:
    """An :class:`UpdateWrite` as a unit of work takes it: the session already JSON and the
    time fixed."""

    write: UpdateWrite
    session_json: str | Unchanged | None
    now: float


# What became of one write of a batch: the rows it queued (ready to send), None if its update
# was applied before (nothing written), or (from GroupCommit, once a failed batch was tried
# again one write at a time) the exception that undid it.
Outcome = list[OutboxItem] | None | Exception


def commit_writes(
    conn: sqlite3.Connection, cache: ChatCache, batch: Sequence[Pending]
) -> list[Outcome]:
    """Apply a batch of updates in ONE transaction, in order; one outcome per write: its
    queued rows, or None if its update was applied before.

    All or nothing: if any write fails, the whole transaction is undone and the error raised,
    so nothing of the batch is written (a batch of several is then tried again one write per
    transaction by :class:`~bot.storage.group_commit.GroupCommit`: the one that fails fails
    alone). No savepoint per write: a failing write is rare, and two more statements for each
    write of every batch are not. The cache learns the new rows only after COMMIT, in the
    batch's order, so a chat written twice ends at its second row.
    """
    outcomes: list[Outcome] = []
    rows: list[tuple[int, ChatState | None]] = []
    with immediate(conn):
        for pending in batch:
            items, changed = _commit_one(conn, pending)
            outcomes.append(items)
            rows += changed
    for chat_id, state in rows:
        cache.put(chat_id, state)
    return outcomes


def _commit_one(
    conn: sqlite3.Connection, pending: Pending
) -> tuple[list[OutboxItem] | None, list[tuple[int, ChatState | None]]]:
    """One write: its queued rows (None if its update was applied before) and the chat rows
    it changed, for the cache. The delivered rows it carries are removed either way (that is
    not the update's doing)."""
    write = pending.write
    changed = remove_sent(conn, write.sent)
    applied = _apply(conn, pending)
    if applied is None:
        return None, changed
    state, items = applied
    if state is not None or write.change.forget:
        changed.append((write.chat_id, state))  # after the prompts: the newest row of the chat
    return items, changed


def _apply(
    conn: sqlite3.Connection, pending: Pending
) -> tuple[ChatState | None, list[OutboxItem]] | None:
    """The update's own writes: None if its id was seen before (then nothing is written)."""
    write, change, now = pending.write, pending.write.change, pending.now
    if write.update_id is not None and not _claim(conn, write.update_id, now):
        return None
    if change.forget:
        delete_person(conn, write.chat_id)
    state = _write_chat(conn, pending)
    if change.checkin_answered is not None:
        state = close_checkin(conn, write.chat_id, change.checkin_answered) or state
    items = queue(conn, change.outbox, now)
    record_events(conn, change.events, now)
    if change.lead is not None:
        insert_lead(conn, change.lead, now)
    if change.followup_due_at is not None:
        insert_followup(conn, write.chat_id, change.followup_due_at, change.followup_baseline)
    return state, items


def _claim(conn: sqlite3.Connection, update_id: int, now: float) -> bool:
    # No SELECT first: the primary key says whether the id is new, in the same statement.
    cursor = conn.execute(
        "INSERT INTO processed_updates (update_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (update_id, now),
    )
    return cursor.rowcount == 1


def _write_chat(conn: sqlite3.Connection, pending: Pending) -> ChatState | None:
    given = chat_columns(pending.write.change, pending.session_json)
    if given is None:
        return None  # forgotten, and nothing new to remember
    sql = _upsert_chat_sql(tuple(given))
    row = conn.execute(sql, (pending.write.chat_id, *given.values(), pending.now)).fetchone()
    return chat_state(row)


@functools.cache
def _upsert_chat_sql(columns: tuple[str, ...]) -> str:
    """The chat upsert that writes only ``columns`` (a fixed set of names, never user input).

    A person who writes to us has not blocked us, so any update clears ``blocked``.
    ``updated_at`` (what retention counts from) moves only when we store something new.
    """
    names = ("chat_id", *columns, "updated_at")
    updates = [f"{name} = excluded.{name}" for name in columns] + ["blocked = 0"]
    if columns:
        updates.append("updated_at = excluded.updated_at")
    return (
        f"INSERT INTO chats ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
        f"ON CONFLICT (chat_id) DO UPDATE SET {', '.join(updates)} "
        f"RETURNING {CHAT_COLUMNS}"
    )


def record_events(conn: sqlite3.Connection, events: Sequence[Event], now: float) -> None:
    if not events:
        return
    at = now - now % EVENT_TIME_STEP
    conn.executemany(
        "INSERT INTO events (kind, step, outcome, source, at) VALUES (?, ?, ?, ?, ?)",
        [(str(e.kind), e.step, e.outcome, e.source, at) for e in events],
    )


def mark_processed(conn: sqlite3.Connection, update_ids: Sequence[int], now: float) -> int:
    with immediate(conn):
        return sum(_claim(conn, update_id, now) for update_id in update_ids)


def probe(conn: sqlite3.Connection, size: int) -> None:
    """Take ``size`` bytes of room in a transaction and give them back (see Storage.writable)."""
    with immediate(conn):
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('write_probe', zeroblob(?)) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (size,),
        )
        conn.execute("DELETE FROM meta WHERE key = 'write_probe'")


def prune_processed(conn: sqlite3.Connection, cutoff: float) -> int:
    with immediate(conn):
        return conn.execute("DELETE FROM processed_updates WHERE at < ?", (cutoff,)).rowcount


def prune_events(conn: sqlite3.Connection, cutoff: float) -> int:
    with immediate(conn):
        return conn.execute("DELETE FROM events WHERE at < ?", (cutoff,)).rowcount


# --- chats ------------------------------------------------------------------------------------


def load_chat(conn: sqlite3.Connection, cache: ChatCache, chat_id: int) -> ChatState | None:
    row = conn.execute(f"SELECT {CHAT_COLUMNS} FROM chats WHERE chat_id = ?", (chat_id,)).fetchone()
    state = chat_state(row) if row else None
    cache.put(chat_id, state)
    return state


def _set_prompt(conn: sqlite3.Connection, chat_id: int, message_id: int | None) -> ChatState | None:
    row = conn.execute(
        f"UPDATE chats SET prompt_message_id = ? WHERE chat_id = ? RETURNING {CHAT_COLUMNS}",
        (message_id, chat_id),
    ).fetchone()
    return chat_state(row) if row else None


def mark_blocked(
    conn: sqlite3.Connection, cache: ChatCache, chat_id: int, blocked: bool, now: float
) -> int:
    """Returns how many pending messages to the chat were dropped."""
    with immediate(conn):
        row = conn.execute(
            f"INSERT INTO chats (chat_id, blocked, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT (chat_id) DO UPDATE SET blocked = excluded.blocked "
            f"RETURNING {CHAT_COLUMNS}",
            (chat_id, int(blocked), now),
        ).fetchone()
        dropped = 0
        if blocked:
            dropped = conn.execute(
                "DELETE FROM outbox WHERE chat_id = ? AND failed = 0", (chat_id,)
            ).rowcount
    cache.put(chat_id, chat_state(row))
    return dropped


# --- outbox -----------------------------------------------------------------------------------


def pending_outbox(conn: sqlite3.Connection, chat_id: int | None, limit: int) -> list[OutboxItem]:
    columns = "id, chat_id, method, params, tag, attempts"
    if chat_id is None:
        rows = conn.execute(
            f"SELECT {columns} FROM outbox WHERE failed = 0 ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
    else:
        rows = conn.execute(
            f"SELECT {columns} FROM outbox WHERE chat_id = ? AND failed = 0 ORDER BY id LIMIT ?",
            (chat_id, limit),
        ).fetchall()
    return [
        OutboxItem(id, chat, method, loads_object(params), tag, attempts)
        for id, chat, method, params, tag, attempts in rows
    ]


def mark_sent(
    conn: sqlite3.Connection, cache: ChatCache, sent: Sequence[tuple[int, int | None]]
) -> None:
    """Remove delivered items in a transaction of their own (see ``remove_sent``)."""
    with immediate(conn):
        prompts = remove_sent(conn, sent)
    for chat_id, state in prompts:
        cache.put(chat_id, state)


def remove_sent(
    conn: sqlite3.Connection, sent: Sequence[tuple[int, int | None]]
) -> list[tuple[int, ChatState | None]]:
    """Remove delivered items inside the caller's transaction; a delivered prompt's message id
    becomes its chat's prompt. Returns the chats whose row changed, for the cache (to be put
    only after COMMIT). An id already removed changes nothing (a late or repeated report)."""
    prompts: list[tuple[int, ChatState | None]] = []
    for item_id, message_id in sent:
        rows = conn.execute(
            "DELETE FROM outbox WHERE id = ? RETURNING chat_id, tag", (item_id,)
        ).fetchall()
        if rows and rows[0][1] == PROMPT and message_id is not None:
            chat_id = rows[0][0]
            prompts.append((chat_id, _set_prompt(conn, chat_id, message_id)))
    return prompts


def mark_failed(conn: sqlite3.Connection, item_id: int, error: str, permanent: bool) -> None:
    with immediate(conn):
        conn.execute(
            # max(): a retry verdict never revives an item already given up on
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, failed = max(failed, ?) "
            "WHERE id = ?",
            (error[:MAX_ERROR_CHARS], int(permanent), item_id),
        )
