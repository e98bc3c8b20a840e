"""What the practice sees: leads, follow-ups, statistics and small facts (units of work)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from bot.storage.cache import ChatCache
from bot.storage.db import (
    CHAT_COLUMNS,
    chat_state,
    dumps,
    immediate,
    loads_list,
    loads_object,
    queue,
)
from bot.storage.records import (
    NO_SOURCE,
    PAIN_EVENT,
    ChatState,
    EventKind,
    Followup,
    Lead,
    NewLead,
    OutboxItem,
    OutgoingMessage,
    PainScores,
    Stats,
)

# --- leads ------------------------------------------------------------------------------------

LEAD_COLUMNS = "id, chat_id, name, username, summary_json, outcome, reasons, source, created_at"


def insert_lead(conn: sqlite3.Connection, lead: NewLead, now: float) -> int:
    cursor = conn.execute(
        "INSERT INTO leads (chat_id, name, username, summary_json, outcome, reasons, source, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (lead.chat_id, lead.name, lead.username, dumps(lead.summary), lead.outcome,
         dumps(list(lead.reasons)), lead.source, now),
    )  # fmt: skip
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def leads(conn: sqlite3.Connection, newest_first: bool, limit: int | None) -> list[Lead]:
    order = "DESC" if newest_first else "ASC"
    rows = conn.execute(
        f"SELECT {LEAD_COLUMNS} FROM leads ORDER BY id {order} LIMIT ?",
        (-1 if limit is None else limit,),  # SQLite: a negative LIMIT means none
    ).fetchall()
    return [lead_from_row(row) for row in rows]


def lead_from_row(row: Sequence[Any]) -> Lead:
    id, chat_id, name, username, summary_json, outcome, reasons, source, created_at = row
    return Lead(
        id=id,
        chat_id=chat_id,
        name=name,
        username=username,
        summary=loads_object(summary_json),
        outcome=outcome,
        reasons=[str(reason) for reason in loads_list(reasons)],
        source=source,
        created_at=created_at,
    )


# --- follow-ups -------------------------------------------------------------------------------

FOLLOWUP_COLUMNS = "id, chat_id, due_at, sent_at, cancelled, baseline"


def insert_followup(
    conn: sqlite3.Connection, chat_id: int, due_at: float, baseline: int | None = None
) -> int:
    # One check-in per person: asking again moves it rather than adding a second one.
    conn.execute(
        "UPDATE followups SET cancelled = 1 "
        "WHERE chat_id = ? AND sent_at IS NULL AND cancelled = 0",
        (chat_id,),
    )
    cursor = conn.execute(
        "INSERT INTO followups (chat_id, due_at, baseline) VALUES (?, ?, ?)",
        (chat_id, due_at, baseline),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def due_followups(conn: sqlite3.Connection, now: float, limit: int) -> list[Followup]:
    rows = conn.execute(
        f"SELECT {FOLLOWUP_COLUMNS} FROM followups "
        "WHERE sent_at IS NULL AND cancelled = 0 AND due_at <= ? ORDER BY due_at LIMIT ?",
        (now, limit),
    ).fetchall()
    return [followup_from_row(row) for row in rows]


def followups_of(conn: sqlite3.Connection, chat_id: int) -> list[Followup]:
    rows = conn.execute(
        f"SELECT {FOLLOWUP_COLUMNS} FROM followups WHERE chat_id = ? ORDER BY id", (chat_id,)
    ).fetchall()
    return [followup_from_row(row) for row in rows]


def followup_from_row(row: Sequence[Any]) -> Followup:
    id, chat_id, due_at, sent_at, cancelled, baseline = row
    return Followup(id=id, chat_id=chat_id, due_at=due_at, sent_at=sent_at,
                    cancelled=bool(cancelled), baseline=baseline)  # fmt: skip


def mark_followup_sent(
    conn: sqlite3.Connection,
    cache: ChatCache,
    followup_id: int,
    outbox: Sequence[OutgoingMessage],
    now: float,
) -> list[OutboxItem] | None:
    """Claim a due follow-up, queue its message and make it the chat's open check-in, all
    together: None if it was already sent, cancelled or forgotten, so a restart neither loses
    nor repeats it."""
    with immediate(conn):
        row = conn.execute(
            "UPDATE followups SET sent_at = ? WHERE id = ? AND sent_at IS NULL AND cancelled = 0 "
            "RETURNING chat_id",
            (now, followup_id),
        ).fetchone()
        if row is None:
            return None
        state = open_checkin(conn, row[0], followup_id, now)
        items = queue(conn, outbox, now)
    cache.put(state.chat_id, state)
    return items


def open_checkin(conn: sqlite3.Connection, chat_id: int, followup_id: int, now: float) -> ChatState:
    """The check-in just sent is the one whose answer counts (inside the caller's transaction).
    ``updated_at`` moves only for a new row: retention counts from the person's own changes."""
    row = conn.execute(
        f"INSERT INTO chats (chat_id, open_checkin, updated_at) VALUES (?, ?, ?) "
        f"ON CONFLICT (chat_id) DO UPDATE SET open_checkin = excluded.open_checkin "
        f"RETURNING {CHAT_COLUMNS}",
        (chat_id, followup_id, now),
    ).fetchone()
    return chat_state(row)


def close_checkin(conn: sqlite3.Connection, chat_id: int, followup_id: int) -> ChatState | None:
    """Answered: that check-in is no longer open (inside the caller's transaction)."""
    row = conn.execute(
        f"UPDATE chats SET open_checkin = NULL WHERE chat_id = ? AND open_checkin = ? "
        f"RETURNING {CHAT_COLUMNS}",
        (chat_id, followup_id),
    ).fetchone()
    return chat_state(row) if row else None


# --- statistics -------------------------------------------------------------------------------


def stats(
    conn: sqlite3.Connection, since: float, until: float | None, idle_before: float | None = None
) -> Stats:
    rows = conn.execute(
        "SELECT kind, step, outcome, source, count(*) FROM events "
        "WHERE at >= ? AND at < ? GROUP BY kind, step, outcome, source",
        (since, float("inf") if until is None else until),
    ).fetchall()
    idle = None if idle_before is None else idle_steps(conn, since, idle_before)
    return summarise(rows, since, idle)


def summarise(rows: Iterable[Sequence[Any]], since: float, idle: dict[str, int] | None) -> Stats:
    """:class:`Stats` from the events counted by (kind, step, outcome, source, count)."""
    started: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    withdrawn = 0
    pain: Counter[tuple[int | None, int]] = Counter()
    for kind, step, outcome, source, count in rows:
        if kind == EventKind.STARTED:
            started[source or NO_SOURCE] += count
        elif kind == EventKind.OUTCOME and outcome:
            outcomes[outcome] += count
        elif kind == EventKind.STEP and step:
            steps[step] += count
        elif kind == EventKind.WITHDRAWN:
            withdrawn += count
        elif kind == PAIN_EVENT and outcome is not None and outcome.isdigit():
            first = int(step) if step is not None and step.isdigit() else None
            pain[(first, int(outcome))] += count
    return Stats(
        since=since,
        started=started.total(),
        completed=outcomes.total(),
        outcomes=dict(outcomes.most_common()),
        sources=dict(started.most_common()),
        steps=dict(steps.most_common()),
        withdrawn=withdrawn,
        idle=idle,
        pain=tuple(
            PainScores(first, later, count)
            for (first, later), count in sorted(pain.items(), key=lambda item: str(item[0]))
        ),
    )


def idle_steps(conn: sqlite3.Connection, since: float, before: float) -> dict[str, int]:
    """Conversations last touched in [since, before) and resting at a question (not at an
    outcome): step id -> how many. Counts only, read from the sessions the bot keeps anyway."""
    rows = conn.execute(
        "SELECT session_json FROM chats "
        "WHERE updated_at >= ? AND updated_at < ? AND session_json IS NOT NULL",
        (since, before),
    ).fetchall()
    return count_idle(session_json for (session_json,) in rows)


def count_idle(sessions: Iterable[str | None]) -> dict[str, int]:
    """Step id -> how many of these stored sessions rest at that question (not an outcome)."""
    idle: Counter[str] = Counter()
    for session_json in sessions:
        session = loads_object(session_json)
        step = session.get("step")
        if isinstance(step, str) and session.get("outcome") is None:
            idle[step] += 1
    return dict(idle.most_common())


# --- meta -------------------------------------------------------------------------------------


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str | None) -> None:
    with immediate(conn):
        if value is None:
            conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
