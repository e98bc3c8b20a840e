"""The PostgreSQL schema: :data:`bot.storage.schema.MIGRATIONS`, version for version.

Each script here is the PostgreSQL spelling of the SQLite script with the same number (the
same tables, columns, indexes and meaning; ``BIGINT`` ids, ``DOUBLE PRECISION`` times), so a
database of either kind at version N holds the same data and ``triage-bot db copy`` moves it
row for row. The same rules hold: append, never edit a script that has shipped. One column
exists only here: ``outbox.claimed_until``, the lease of a row being sent (see
:mod:`bot.storage.postgres`), which a single SQLite process has no use for.

The version lives in ``schema_version`` (one row). :func:`migrate` runs under a session-level
advisory lock, so bots starting at once migrate once: the first upgrades, the others wait and
then find the database current. Each script runs in one transaction with its version bump
(PostgreSQL's DDL is transactional), so a failed upgrade leaves the previous version intact.
"""

from __future__ import annotations

from typing import Final

import asyncpg

from bot.storage.records import StorageError
from bot.storage.schema import MIGRATIONS

# Advisory lock keys of the bot, in the two-int4 key space (PostgreSQL keeps it apart from the
# one-bigint space, where the chat locks live): (APP, kind).
APP_LOCK: Final = 0x7472_6961  # "tria"
MIGRATE_LOCK: Final = 1
LEADER_LOCK: Final = 2
SERVING_LOCK: Final = 3  # a polling bot holds it alone; webhook bots hold it shared

PG_MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: the bot itself. Sessions, exactly-once update ids, the outbox, anonymous events.
    """
    CREATE TABLE chats (
        chat_id           BIGINT PRIMARY KEY,
        session_json      TEXT,
        prompt_message_id BIGINT,
        blocked           INTEGER NOT NULL DEFAULT 0,
        language          TEXT,
        source            TEXT,
        updated_at        DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX chats_by_updated_at ON chats (updated_at);

    CREATE TABLE processed_updates (
        update_id BIGINT PRIMARY KEY,
        at        DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX processed_updates_by_at ON processed_updates (at);

    -- a sequence never hands out an id twice, so a late mark_sent cannot hit a newer message
    CREATE TABLE outbox (
        id            BIGSERIAL PRIMARY KEY,
        chat_id       BIGINT NOT NULL,
        method        TEXT NOT NULL,
        params        TEXT NOT NULL,
        tag           TEXT,
        about_chat_id BIGINT,
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        created_at    DOUBLE PRECISION NOT NULL,
        failed        INTEGER NOT NULL DEFAULT 0,
        claimed_until DOUBLE PRECISION
    );
    CREATE INDEX outbox_by_chat ON outbox (chat_id, id);
    CREATE INDEX outbox_pending ON outbox (id) WHERE failed = 0;
    CREATE INDEX outbox_by_subject ON outbox (about_chat_id) WHERE about_chat_id IS NOT NULL;

    CREATE TABLE events (
        id      BIGSERIAL PRIMARY KEY,
        kind    TEXT NOT NULL,
        step    TEXT,
        outcome TEXT,
        source  TEXT,
        at      DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX events_by_at ON events (at);
    """,
    # 2: the practice. Leads (with consent), follow-ups, small facts.
    """
    CREATE TABLE leads (
        id           BIGSERIAL PRIMARY KEY,
        chat_id      BIGINT NOT NULL,
        name         TEXT,
        username     TEXT,
        summary_json TEXT NOT NULL,
        outcome      TEXT,
        reasons      TEXT NOT NULL DEFAULT '[]',
        source       TEXT,
        created_at   DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX leads_by_chat ON leads (chat_id);
    CREATE INDEX leads_by_created_at ON leads (created_at);

    CREATE TABLE followups (
        id        BIGSERIAL PRIMARY KEY,
        chat_id   BIGINT NOT NULL,
        due_at    DOUBLE PRECISION NOT NULL,
        sent_at   DOUBLE PRECISION,
        cancelled INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX followups_pending ON followups (due_at) WHERE sent_at IS NULL AND cancelled = 0;
    CREATE INDEX followups_by_chat ON followups (chat_id);

    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 3: consent and corrections; a check-in's first pain score.
    """
    ALTER TABLE chats ADD COLUMN consented_at DOUBLE PRECISION;
    ALTER TABLE chats ADD COLUMN typed_step TEXT;
    ALTER TABLE chats ADD COLUMN typed_message_id BIGINT;
    ALTER TABLE chats ADD COLUMN typed_question_id BIGINT;
    ALTER TABLE followups ADD COLUMN baseline INTEGER;
    """,
    # 4: the check-in sent to a chat and not answered yet.
    """
    ALTER TABLE chats ADD COLUMN open_checkin BIGINT;
    """,
    # 5: no index on when an update id was seen (the daily prune reads the table through).
    """
    DROP INDEX processed_updates_by_at;
    """,
)

assert len(PG_MIGRATIONS) == len(MIGRATIONS), "every SQLite migration needs its PostgreSQL twin"

SCHEMA_VERSION: Final = len(PG_MIGRATIONS)

# Tables whose ids come from a sequence: after rows are copied in with their ids, the sequence
# must move past them (see bot.storage.copy).
SERIAL_TABLES: Final = ("outbox", "events", "leads", "followups")


async def schema_version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    version = await conn.fetchval("SELECT version FROM schema_version")
    return int(version or 0)


async def migrate(conn: asyncpg.Connection, *, name: str, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to ``target`` under the migration lock; returns the version it
    had before (as this process found it, after waiting for any other migrating process)."""
    await conn.execute("SELECT pg_advisory_lock($1, $2)", APP_LOCK, MIGRATE_LOCK)
    try:
        found = await schema_version(conn)
        if found > len(PG_MIGRATIONS):
            raise StorageError(
                f"the database at {name} has schema version {found}, but this version of the "
                f"bot knows only up to {len(PG_MIGRATIONS)}: upgrade the bot or point it at "
                "another database"
            )
        for version in range(found + 1, target + 1):
            await _apply(conn, name, version)
        return found
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, $2)", APP_LOCK, MIGRATE_LOCK)


async def _apply(conn: asyncpg.Connection, name: str, version: int) -> None:
    try:
        async with conn.transaction():
            await conn.execute(PG_MIGRATIONS[version - 1])
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            await conn.execute("DELETE FROM schema_version")
            await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)
    except asyncpg.PostgresError as exc:
        raise StorageError(
            f"cannot upgrade the database at {name} to schema version {version}: {exc}"
        ) from exc
