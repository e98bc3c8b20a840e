"""Helpers shared by the synchronous units of work (see :mod:`bot.storage.store`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

from bot.storage.records import (
    UNCHANGED,
    ChatChange,
    ChatState,
    OutboxItem,
    OutgoingMessage,
    TypedAnswer,
    Unchanged,
)

CHAT_COLUMNS: Final = (
    "chat_id, session_json, prompt_message_id, blocked, updated_at, language, source, "
    "consented_at, typed_step, typed_message_id, typed_question_id, open_checkin"
)


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction. IMMEDIATE takes the write lock up front, so a transaction that
    reads then writes never fails half-way because another connection wrote in between."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """Several reads that must see the same committed state."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def chat_state(row: tuple[Any, ...]) -> ChatState:
    chat_id, session_json, prompt_message_id, blocked, updated_at, language, source = row[:7]
    consented_at, typed_step, typed_message_id, typed_question_id, checkin = row[7:]
    typed = None
    if typed_step is not None and typed_message_id is not None:
        typed = TypedAnswer(typed_step, typed_message_id, typed_question_id)
    return ChatState(
        chat_id=chat_id,
        session_json=session_json,
        prompt_message_id=prompt_message_id,
        blocked=bool(blocked),
        updated_at=updated_at,
        language=language,
        source=source,
        consented_at=consented_at,
        typed=typed,
        open_checkin=checkin,
    )


def typed_columns(typed: TypedAnswer | None) -> dict[str, Any]:
    """A :class:`TypedAnswer` as the chats columns that hold it (None clears them)."""
    return {
        "typed_step": typed.step if typed else None,
        "typed_message_id": typed.message_id if typed else None,
        "typed_question_id": typed.question_message_id if typed else None,
    }


def chat_columns(change: ChatChange, session_json: str | Unchanged | None) -> dict[str, Any] | None:
    """The chats columns one update sets, by name (only what it changed), or None when the
    chat was forgotten and there is nothing new to remember. Both backends write these."""
    given: dict[str, Any] = {
        name: value
        for name, value in (
            ("session_json", session_json),
            ("language", change.language),
            ("source", change.source),
            ("consented_at", change.consented_at),
        )
        if value is not UNCHANGED
    }
    if change.typed is not UNCHANGED:
        given.update(typed_columns(change.typed))
    if change.forget and session_json is UNCHANGED:
        return None
    return given


def dumps(value: Mapping[str, Any] | list[Any] | tuple[Any, ...]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads_object(text: str | None) -> dict[str, Any]:
    """A stored JSON object; an unreadable one comes back empty rather than breaking a listing."""
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def loads_list(text: str | None) -> list[Any]:
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def queue(
    conn: sqlite3.Connection, outbox: Sequence[OutgoingMessage], now: float
) -> list[OutboxItem]:
    """Queue messages inside the caller's transaction; returns them with their new ids."""
    items = []
    for message in outbox:
        params = dict(message.params)
        cursor = conn.execute(
            "INSERT INTO outbox (chat_id, method, params, tag, about_chat_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (message.chat_id, message.method, dumps(params), message.tag,
             message.about_chat_id, now),
        )  # fmt: skip
        assert cursor.lastrowid is not None
        items.append(
            OutboxItem(cursor.lastrowid, message.chat_id, message.method, params, message.tag, 0)
        )
    return items
