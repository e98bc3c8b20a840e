"""Durable state: sessions, exactly-once updates, the outbox, leads, follow-ups, statistics.

One SQLite file in WAL mode, migrated at open (:mod:`bot.storage.schema`), used through
:class:`Storage`; the rest of the bot sees only the names below, so another backend would be a
new module with the same interface, not a rewrite.

Layout: ``records`` (the dataclasses), ``protocol`` (:class:`Store`, the interface the bot
uses, with the guarantees every backend gives), ``schema`` (migrations), ``store``
(:class:`Storage`, async, SQLite's implementation of it), and the synchronous units of work
it runs on the database thread: ``conversations``
(the hot path), ``practice`` (leads, follow-ups, statistics) and ``privacy`` (forget, export,
retention).
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
