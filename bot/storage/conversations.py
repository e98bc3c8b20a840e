"""The hot path: chats, exactly-once updates and the outbox, as synchronous units of work.

Each public function here is one whole transaction and runs on the database thread in a single
call, so an update costs one round trip between the event loop and that thread however many
statements it needs, and two transactions can never interleave (the thread runs one call at a
time). On the hot path every statement is a primary-key or index lookup, never a table scan,
so the cost stays flat as conversations accumulate (a test checks the query plans).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.storage.cache import ChatCache
from bot.storage.db import (
    CHAT_COLUMNS,
    chat_state,
    immediate,
    loads_object,
    queue,
    typed_columns,
)
from bot.storage.practice import close_checkin, insert_followup, insert_lead
from bot.storage.privacy import delete_person
from bot.storage.records import (
    PROMPT,
    UNCHANGED,
    ChatState,
    Event,
    NewLead,
    OutboxItem,
    OutgoingMessage,
    TypedAnswer,
    Unchanged,
)

MAX_ERROR_CHARS = 500
EVENT_TIME_STEP = 3600.0  # events keep the hour only: a timestamp must not point at a person


@dataclass(frozen=True, slots=True)
class UpdateWrite:
    """Everything one incoming update changes, written in one transaction."""

    update_id: int | None
    chat_id: int
    now: float
    session_json: str | Unchanged | None = UNCHANGED
    language: str | Unchanged | None = UNCHANGED
    source: str | Unchanged | None = UNCHANGED
    consented_at: float | Unchanged | None = UNCHANGED
    typed: TypedAnswer | Unchanged | None = UNCHANGED
    outbox: Sequence[OutgoingMessage] = ()
    events: Sequence[Event] = ()
    lead: NewLead | None = None
    followup_due_at: float | None = None
    followup_baseline: int | None = None
    checkin_answered: int | None = None  # this follow-up's answer counted: no longer open
    forget: bool = False
    # (item id, message id) of outbox rows delivered since the last write, of any chat:
    # removed in this transaction rather than in one of their own (see ``remove_sent``)
    sent: Sequence[tuple[int, int | None]] = ()


def commit_update(
    conn: sqlite3.Connection, cache: ChatCache, write: UpdateWrite
) -> list[OutboxItem] | None:
    """Apply one update exactly once: None (and nothing written) if its id was seen before.

    The delivered rows in ``write.sent`` are removed either way: that is not the update's doing.
    """
    with immediate(conn):
        prompts = remove_sent(conn, write.sent)
        applied = _apply(conn, write)
    for chat_id, prompt_state in prompts:
        cache.put(chat_id, prompt_state)
    if applied is None:
        return None
    state, items = applied
    if state is not None or write.forget:
        cache.put(write.chat_id, state)  # after the prompts: the newest row of the chat
    return items


def _apply(
    conn: sqlite3.Connection, write: UpdateWrite
) -> tuple[ChatState | None, list[OutboxItem]] | None:
    """The update's own writes: None if its id was seen before (then nothing is written)."""
    if write.update_id is not None and not _claim(conn, write.update_id, write.now):
        return None
    if write.forget:
        delete_person(conn, write.chat_id)
    state = _write_chat(conn, write)
    if write.checkin_answered is not None:
        state = close_checkin(conn, write.chat_id, write.checkin_answered) or state
    items = queue(conn, write.outbox, write.now)
    record_events(conn, write.events, write.now)
    if write.lead is not None:
        insert_lead(conn, write.lead, write.now)
    if write.followup_due_at is not None:
        insert_followup(conn, write.chat_id, write.followup_due_at, write.followup_baseline)
    return state, items


def _claim(conn: sqlite3.Connection, update_id: int, now: float) -> bool:
    # No SELECT first: the primary key says whether the id is new, in the same statement.
    cursor = conn.execute(
        "INSERT INTO processed_updates (update_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (update_id, now),
    )
    return cursor.rowcount == 1


def _write_chat(conn: sqlite3.Connection, write: UpdateWrite) -> ChatState | None:
    given: dict[str, Any] = {
        name: value
        for name, value in (
            ("session_json", write.session_json),
            ("language", write.language),
            ("source", write.source),
            ("consented_at", write.consented_at),
        )
        if value is not UNCHANGED
    }
    if write.typed is not UNCHANGED:
        given.update(typed_columns(write.typed))
    if write.forget and write.session_json is UNCHANGED:
        return None  # forgotten, and nothing new to remember
    sql = _upsert_chat_sql(tuple(given))
    row = conn.execute(sql, (write.chat_id, *given.values(), write.now)).fetchone()
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


def is_processed(conn: sqlite3.Connection, update_id: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)
    ).fetchone()
    return row is not None


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


# --- chats ------------------------------------------------------------------------------------


def load_chat(conn: sqlite3.Connection, cache: ChatCache, chat_id: int) -> ChatState | None:
    row = conn.execute(f"SELECT {CHAT_COLUMNS} FROM chats WHERE chat_id = ?", (chat_id,)).fetchone()
    state = chat_state(row) if row else None
    cache.put(chat_id, state)
    return state


def count_chats(conn: sqlite3.Connection) -> int:
    count: int = conn.execute("SELECT count(*) FROM chats").fetchone()[0]
    return count


def set_prompt_message(
    conn: sqlite3.Connection, cache: ChatCache, chat_id: int, message_id: int | None
) -> None:
    with immediate(conn):
        state = _set_prompt(conn, chat_id, message_id)
    cache.put(chat_id, state)


def _set_prompt(conn: sqlite3.Connection, chat_id: int, message_id: int | None) -> ChatState | None:
    row = conn.execute(
        f"UPDATE chats SET prompt_message_id = ? WHERE chat_id = ? RETURNING {CHAT_COLUMNS}",
        (message_id, chat_id),
    ).fetchone()
    return chat_state(row) if row else None


def set_language(
    conn: sqlite3.Connection, cache: ChatCache, chat_id: int, language: str | None, now: float
) -> None:
    with immediate(conn):
        row = conn.execute(
            f"INSERT INTO chats (chat_id, language, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language, "
            f"updated_at = excluded.updated_at RETURNING {CHAT_COLUMNS}",
            (chat_id, language, now),
        ).fetchone()
    cache.put(chat_id, chat_state(row))


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
