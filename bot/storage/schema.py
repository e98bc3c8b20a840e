"""The database schema as an ordered list of migrations, applied at open.

``PRAGMA user_version`` holds how many of :data:`MIGRATIONS` a database has had. Rules: append
a new script for every change and never edit one that has shipped, since existing databases
have already run it. Each script runs in one transaction together with its version bump, so a
crash mid-upgrade leaves the previous version intact.
"""

from __future__ import annotations

import sqlite3
from typing import Final

from bot.storage.records import StorageError

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: the bot itself. Sessions, exactly-once update ids, the outbox, anonymous events.
    """
    CREATE TABLE chats (
        chat_id           INTEGER PRIMARY KEY,
        session_json      TEXT,
        prompt_message_id INTEGER,
        blocked           INTEGER NOT NULL DEFAULT 0,
        language          TEXT,
        source            TEXT,
        updated_at        REAL NOT NULL
    );
    -- retention deletes by age without reading every chat
    CREATE INDEX chats_by_updated_at ON chats (updated_at);

    CREATE TABLE processed_updates (
        update_id INTEGER PRIMARY KEY,
        at        REAL NOT NULL
    );
    CREATE INDEX processed_updates_by_at ON processed_updates (at);

    -- AUTOINCREMENT: an id is never reused, so a late mark_sent cannot hit a newer message
    CREATE TABLE outbox (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id       INTEGER NOT NULL,
        method        TEXT NOT NULL,
        params        TEXT NOT NULL,
        tag           TEXT,
        about_chat_id INTEGER,
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        created_at    REAL NOT NULL,
        failed        INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_by_chat ON outbox (chat_id, id);
    -- what is still to send, in order, without stepping over the items given up on
    CREATE INDEX outbox_pending ON outbox (id) WHERE failed = 0;
    CREATE INDEX outbox_by_subject ON outbox (about_chat_id) WHERE about_chat_id IS NOT NULL;

    -- anonymous on purpose: no chat id, and `at` rounded to the hour
    CREATE TABLE events (
        id      INTEGER PRIMARY KEY,
        kind    TEXT NOT NULL,
        step    TEXT,
        outcome TEXT,
        source  TEXT,
        at      REAL NOT NULL
    );
    CREATE INDEX events_by_at ON events (at);
    """,
    # 2: the practice. Leads (with consent), follow-ups, and small facts such as the last
    # retention run.
    """
    CREATE TABLE leads (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id      INTEGER NOT NULL,
        name         TEXT,
        username     TEXT,
        summary_json TEXT NOT NULL,
        outcome      TEXT,
        reasons      TEXT NOT NULL DEFAULT '[]',
        source       TEXT,
        created_at   REAL NOT NULL
    );
    CREATE INDEX leads_by_chat ON leads (chat_id);
    CREATE INDEX leads_by_created_at ON leads (created_at);

    CREATE TABLE followups (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id   INTEGER NOT NULL,
        due_at    REAL NOT NULL,
        sent_at   REAL,
        cancelled INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX followups_pending ON followups (due_at) WHERE sent_at IS NULL AND cancelled = 0;
    CREATE INDEX followups_by_chat ON followups (chat_id);

    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 3: consent and corrections. When the person agreed to their answers being kept (nothing
    # about their health is stored before); their last typed answer (the step it answered,
    # their message, our question showing the answer), so that editing that message corrects
    # the answer; and a check-in's first pain score, to compare the check-in's answer with.
    """
    ALTER TABLE chats ADD COLUMN consented_at REAL;
    ALTER TABLE chats ADD COLUMN typed_step TEXT;
    ALTER TABLE chats ADD COLUMN typed_message_id INTEGER;
    ALTER TABLE chats ADD COLUMN typed_question_id INTEGER;
    ALTER TABLE followups ADD COLUMN baseline INTEGER;
    """,
    # 4: the check-in sent to a chat and not answered yet (its follow-up id): only its answer
    # counts, once, so a forged or repeated button records no score.
    """
    ALTER TABLE chats ADD COLUMN open_checkin INTEGER;
    """,
    # 5: no index on when an update id was seen. Every update paid for keeping it (a page more
    # in each commit); the one query it served, the daily prune, reads the table through.
    """
    DROP INDEX processed_updates_by_at;
    """,
)

SCHEMA_VERSION: Final = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(conn: sqlite3.Connection, *, name: str, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to ``target``; returns the version it had before.

    ``conn`` must be in autocommit mode (``isolation_level=None``): each script brings its own
    ``BEGIN IMMEDIATE ... COMMIT``.
    """
    found = schema_version(conn)
    if found > len(MIGRATIONS):
        raise StorageError(
            f"the database at {name} has schema version {found}, but this version of the bot "
            f"knows only up to {len(MIGRATIONS)}: upgrade the bot or point it at another file"
        )
    for version in range(found + 1, target + 1):
        script = MIGRATIONS[version - 1]
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StorageError(
                f"cannot upgrade the database at {name} to schema version {version}: {exc}"
            ) from exc
    return found
