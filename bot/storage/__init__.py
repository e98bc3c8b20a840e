"""Durable state: sessions, exactly-once updates, the outbox, leads, follow-ups, statistics.

The bot codes against :class:`Store` (``protocol``), a ``typing.Protocol`` that states what
every backend guarantees; :class:`Storage` is SQLite's implementation: one file in WAL mode,
migrated at open (:mod:`bot.storage.schema`). Another backend is a new module with the same
interface, not a rewrite. One update's write is one record, :class:`UpdateWrite`, committed
once by ``Store.commit``.

Layout: ``records`` (the dataclasses), ``protocol`` (:class:`Store`), ``schema``
(migrations), ``store`` (:class:`Storage`, async), ``group_commit`` (updates handed over
together, or while a commit is in flight, share one transaction), and the synchronous units of
work ``Storage`` runs one at a time, on the database thread or (the short ones of an update's
path, while that thread is idle) on the event loop's: ``conversations`` (the hot path),
``practice`` (leads, follow-ups, statistics) and ``privacy`` (forget, export, retention).

PostgreSQL (``DATABASE_URL``), for several bot processes on one database: ``postgres``
(:class:`~bot.storage.postgres.PostgresStorage`, the same ``Store`` with asyncpg, plus the
locks that several processes need), ``pg_units`` (its transactions) and ``pg_schema`` (the
same migrations in PostgreSQL's dialect). It is imported by name, not from here.
"""

from bot.storage.protocol import Store
from bot.storage.records import (
    NO_CHANGE,
    NO_SOURCE,
    PAIN_EVENT,
    PROMPT,
    UNCHANGED,
    ChatChange,
    ChatState,
    Event,
    EventKind,
    Followup,
    Lead,
    NewLead,
    OutboxItem,
    OutgoingMessage,
    PainScores,
    SessionData,
    SessionJSON,
    Stats,
    StorageError,
    StorageUnavailable,
    TypedAnswer,
    Unchanged,
    UpdateWrite,
)
from bot.storage.schema import MIGRATIONS, SCHEMA_VERSION
from bot.storage.store import Storage

__all__ = [
    "MIGRATIONS",
    "NO_CHANGE",
    "NO_SOURCE",
    "PAIN_EVENT",
    "PROMPT",
    "SCHEMA_VERSION",
    "UNCHANGED",
    "ChatChange",
    "ChatState",
    "Event",
    "EventKind",
    "Followup",
    "Lead",
    "NewLead",
    "OutboxItem",
    "OutgoingMessage",
    "PainScores",
    "SessionData",
    "SessionJSON",
    "Stats",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "Store",
    "TypedAnswer",
    "Unchanged",
    "UpdateWrite",
]
