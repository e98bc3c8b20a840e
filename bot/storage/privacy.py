"""A person's data: deleting it (/forget), copying it out (/mydata), expiring it (retention).

The anonymous ``events`` table is left alone by all three: it holds no chat id, so it says
nothing about anyone, and the practice keeps its counts. It is bounded by the retention job
on its own terms (``Store.prune_events``: as long as /stats looks back).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from bot.storage.cache import ChatCache
from bot.storage.db import CHAT_COLUMNS, chat_state, immediate, loads_object, snapshot
from bot.storage.practice import LEAD_COLUMNS, followups_of, lead_from_row
from bot.storage.records import Followup, Lead


def delete_person(conn: sqlite3.Connection, chat_id: int) -> dict[str, int]:
    """Everything that names the chat, inside the caller's transaction."""
    return {
        "chats": conn.execute("DELETE FROM chats WHERE chat_id = ?", (chat_id,)).rowcount,
        # messages to the person, and unsent ones about them (a lead card to an admin)
        "outbox": conn.execute("DELETE FROM outbox WHERE chat_id = ?", (chat_id,)).rowcount
        + conn.execute("DELETE FROM outbox WHERE about_chat_id = ?", (chat_id,)).rowcount,
        "leads": conn.execute("DELETE FROM leads WHERE chat_id = ?", (chat_id,)).rowcount,
        "followups": conn.execute("DELETE FROM followups WHERE chat_id = ?", (chat_id,)).rowcount,
    }


def export_chat(conn: sqlite3.Connection, chat_id: int) -> dict[str, Any]:
    """All we hold about one person, as plain JSON-able data."""
    with snapshot(conn):
        row = conn.execute(
            f"SELECT {CHAT_COLUMNS} FROM chats WHERE chat_id = ?", (chat_id,)
        ).fetchone()
        lead_rows = conn.execute(
            f"SELECT {LEAD_COLUMNS} FROM leads WHERE chat_id = ? ORDER BY id", (chat_id,)
        ).fetchall()
        followups = followups_of(conn, chat_id)
        messages = conn.execute(
            "SELECT method, params, created_at, failed, chat_id FROM outbox "
            "WHERE chat_id = ? OR about_chat_id = ? ORDER BY id",
            (chat_id, chat_id),
        ).fetchall()
    return export_of(chat_id, row, lead_rows, followups, messages)


def export_of(
    chat_id: int,
    row: Sequence[Any] | None,
    lead_rows: Iterable[Sequence[Any]],
    followups: Iterable[Followup],
    messages: Iterable[Sequence[Any]],
) -> dict[str, Any]:
    """The export from what was read: the chat row (``CHAT_COLUMNS``), its leads
    (``LEAD_COLUMNS``), follow-ups, and messages (method, params, created_at, failed, to)."""
    chat: dict[str, Any] | None = None
    if row is not None:
        state = chat_state(tuple(row))
        chat = {
            "session": _session(state.session_json),
            "language": state.language,
            "source": state.source,
            "consented_at": state.consented_at,
            "blocked": state.blocked,
            "prompt_message_id": state.prompt_message_id,
            "updated_at": state.updated_at,
        }
    return {
        "chat_id": chat_id,
        "chat": chat,
        "leads": [_lead(lead_from_row(r)) for r in lead_rows],
        "followups": [
            {
                "due_at": f.due_at,
                "sent_at": f.sent_at,
                "cancelled": f.cancelled,
                "first_pain_score": f.baseline,
            }
            for f in followups
        ],
        "messages": [
            {
                "method": method,
                "to_chat_id": to,
                "params": loads_object(params),
                "created_at": created_at,
                "failed": bool(failed),
            }
            for method, params, created_at, failed, to in messages
        ],
    }


def _session(session_json: str | None) -> Any:
    if session_json is None:
        return None
    try:
        return json.loads(session_json)
    except ValueError:
        return session_json  # still theirs to see, even if we cannot read it


def _lead(lead: Lead) -> dict[str, Any]:
    return {
        "name": lead.name,
        "username": lead.username,
        "summary": lead.summary,
        "outcome": lead.outcome,
        "reasons": lead.reasons,
        "source": lead.source,
        "created_at": lead.created_at,
    }


def purge_older_than(conn: sqlite3.Connection, cache: ChatCache, cutoff: float) -> dict[str, int]:
    """Delete personal data last written before ``cutoff`` (epoch seconds)."""
    with immediate(conn):
        counts = {
            "chats": conn.execute("DELETE FROM chats WHERE updated_at < ?", (cutoff,)).rowcount,
            "leads": conn.execute("DELETE FROM leads WHERE created_at < ?", (cutoff,)).rowcount,
            "followups": conn.execute("DELETE FROM followups WHERE due_at < ?", (cutoff,)).rowcount,
            # message texts too: pending ones this old are stale, failed ones are kept only
            # for a look at what went wrong
            "outbox": conn.execute("DELETE FROM outbox WHERE created_at < ?", (cutoff,)).rowcount,
        }
    cache.clear()
    return counts
