"""Durable state: sessions, exactly-once updates, the outbox, leads, follow-ups, statistics.

One SQLite file in WAL mode, migrated at open (:mod:`bot.storage.schema`), used through
:class:`Storage`; the rest of the bot sees only the names below, so another backend would be a
new module with the same interface, not a rewrite.

Layout: ``records`` (the dataclasses), ``schema`` (migrations), ``store`` (:class:`Storage`,
async), and the synchronous units of work it runs on the database thread: ``conversations``
(the hot path), ``practice`` (leads, follow-ups, statistics) and ``privacy`` (forget, export,
retention).
"""

from bot.storage.records import (
    NO_SOURCE,
    PAIN_EVENT,
    PROMPT,
    UNCHANGED,
    ChatState,
    Event,
    EventKind,
    Followup,
    Lead,
    NewLead,
    OutboxItem,
    OutgoingMessage,
    PainScores,
    Stats,
    StorageError,
    StorageUnavailable,
    TypedAnswer,
    Unchanged,
)
from bot.storage.schema import MIGRATIONS, SCHEMA_VERSION
from bot.storage.store import Storage

__all__ = [
    "MIGRATIONS",
    "NO_SOURCE",
    "PAIN_EVENT",
    "PROMPT",
    "SCHEMA_VERSION",
    "UNCHANGED",
    "ChatState",
    "Event",
    "EventKind",
    "Followup",
    "Lead",
    "NewLead",
    "OutboxItem",
    "OutgoingMessage",
    "PainScores",
    "Stats",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "TypedAnswer",
    "Unchanged",
]
