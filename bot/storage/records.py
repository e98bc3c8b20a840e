"""What the storage layer takes and gives back: small frozen dataclasses, no SQL.

These are the whole vocabulary between the transport and the database, so another backend
(PostgreSQL, say) only has to speak them too.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from bot.errors import StorageError


class StorageUnavailable(StorageError):
    """The database cannot be written just now: the disk is full, an I/O error, the file turned
    read-only, another program holds it locked. Nothing was written, and the same write may
    work later: it is the database's trouble, not the update's, so the update must not be
    given up (nor confirmed to Telegram) because of it."""


class Unchanged(enum.Enum):
    """Marker for "leave this column as it is" (``None`` already means "clear it")."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED

PROMPT: Final = "prompt"
"""Outbox tag of a question message: once sent, its message id becomes the chat's prompt."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A Bot API call to make after the transaction commits (``params`` must be JSON-able).

    ``about_chat_id`` names the person whose data the message carries when it goes to someone
    else (a lead card to an admin chat), so that /forget can withdraw it while still unsent.
    """

    chat_id: int
    method: str
    params: Mapping[str, Any]
    tag: str | None = None
    about_chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A queued Bot API call, oldest first; ``attempts`` counts failed tries so far."""

    id: int
    chat_id: int
    method: str
    params: dict[str, Any]
    tag: str | None
    attempts: int


class EventKind(enum.StrEnum):
    STARTED = "started"  # a conversation began (source: where the person came from)
    STEP = "step"  # a question was reached (step: its id), for the drop-off funnel
    OUTCOME = "outcome"  # a conversation ended at an outcome (outcome: its id)
    WITHDRAWN = "withdrawn"  # an emergency answer was taken back (outcome: the emergency's id)


@dataclass(frozen=True, slots=True)
class Event:
    """One anonymous fact for statistics. It never holds a chat id, so /forget leaves it."""

    kind: str
    step: str | None = None
    outcome: str | None = None
    source: str | None = None

    @classmethod
    def started(cls, source: str | None = None) -> Event:
        return cls(EventKind.STARTED, source=source)

    @classmethod
    def reached(cls, step: str) -> Event:
        return cls(EventKind.STEP, step=step)

    @classmethod
    def finished(cls, outcome: str, *, source: str | None = None) -> Event:
        return cls(EventKind.OUTCOME, outcome=outcome, source=source)


@dataclass(frozen=True, slots=True)
class TypedAnswer:
    """The person's last typed message that answered a question: Telegram lets them edit it,
    and an edit of exactly that message corrects the answer rather than starting anew."""

    step: str  # the question it answered
    message_id: int  # the person's message
    question_message_id: int | None  # our question, edited to show the answer under it


@dataclass(frozen=True, slots=True)
class ChatState:
    """What we keep about one chat between updates."""

    chat_id: int
    session_json: str | None
    prompt_message_id: int | None
    blocked: bool
    updated_at: float
    language: str | None = None
    source: str | None = None
    consented_at: float | None = None  # when they agreed to their answers being kept
    typed: TypedAnswer | None = None
    open_checkin: int | None = None  # the follow-up sent and not answered yet, if any


@dataclass(frozen=True, slots=True)
class NewLead:
    """A person's summary, sent to the therapist with their consent."""

    chat_id: int
    name: str | None
    username: str | None
    summary: Mapping[str, Any]  # question -> answer, in plain words, in the order asked
    outcome: str | None
    reasons: tuple[str, ...] = ()
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Lead:
    id: int
    chat_id: int
    name: str | None
    username: str | None
    summary: dict[str, Any]
    outcome: str | None
    reasons: list[str]
    source: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
class Followup:
    """A check-in message promised to a person for ``due_at`` (epoch seconds)."""

    id: int
    chat_id: int
    due_at: float
    sent_at: float | None
    cancelled: bool
    baseline: int | None = None  # the first pain score (0-10), to compare the answer with


class SessionData(Protocol):
    """A conversation as the storage keeps it: the engine's ``Session`` is one. The storage
    stores the JSON text and never looks inside (it does not import the engine)."""

    def to_json(self) -> str: ...


class SessionJSON(str):
    """A session already in its JSON form, for tools that write stored sessions directly
    (``bench/prefill.py``, tests)."""

    __slots__ = ()

    def to_json(self) -> str:
        return str(self)


@dataclass(frozen=True, slots=True)
class ChatChange:
    """What one update does to its chat: the body of an :class:`UpdateWrite`.

    Every field left at its default changes nothing. The transport's decisions return it
    (``bot.telegram.conversation.Change`` adds what only the transport reads).
    """

    outbox: Sequence[OutgoingMessage] = ()  # replies, sent after the commit
    session: SessionData | Unchanged | None = UNCHANGED  # None clears the conversation
    events: Sequence[Event] = ()  # anonymous facts for statistics
    source: str | Unchanged | None = UNCHANGED  # the link the person came by
    language: str | Unchanged | None = UNCHANGED  # the person's choice (/language), kept
    consented_at: float | Unchanged | None = UNCHANGED  # they agreed to answers being kept
    typed: TypedAnswer | Unchanged | None = UNCHANGED  # their last typed answer
    forget: bool = False  # delete everything about the chat first (/forget)
    lead: NewLead | None = None  # the person consented: their summary for the therapist
    followup_due_at: float | None = None  # the person asked for a check-in then
    followup_baseline: int | None = None  # ... and the pain score to compare its answer with
    checkin_answered: int | None = None  # the open check-in (follow-up id) they answered


NO_CHANGE: Final = ChatChange()


@dataclass(frozen=True, slots=True)
class UpdateWrite:
    """One update's write: built once by the transport, committed once by ``Store.commit``,
    in one transaction, exactly once by ``update_id``.

    ``update_id`` None: not from Telegram (a message the bot sends of its own accord), so not
    deduplicated. ``sent`` is ``(outbox item id, message id)`` of rows delivered since the
    last write, of any chat, removed in the same transaction (even when the update was
    applied before): delivered rows then cost no transaction of their own. ``now`` (epoch
    seconds) defaults to the clock at commit.
    """

    update_id: int | None
    chat_id: int
    change: ChatChange = NO_CHANGE
    sent: Sequence[tuple[int, int | None]] = ()
    now: float | None = None


NO_SOURCE: Final = "direct"
"""How :class:`Stats` names conversations started without a link payload."""


PAIN_EVENT: Final = "followup_pain"
"""Kind of the anonymous event of an answered check-in: ``outcome`` holds the 0-10 answer,
``step`` the 0-10 answer given in the conversation itself, when there was one."""


@dataclass(frozen=True, slots=True)
class PainScores:
    """How many check-ins were answered ``later`` after a first score of ``first``."""

    first: int | None  # None: no first score known (an older check-in, or none asked)
    later: int
    count: int


@dataclass(frozen=True, slots=True)
class Stats:
    """Counts from the anonymous events at or after ``since``, most frequent first."""

    since: float
    started: int
    completed: int
    outcomes: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)  # step id -> times reached
    withdrawn: int = 0  # emergency answers taken back ("it was a mistake")
    # step id -> conversations resting at that question, untouched for the idle time asked
    # (None: not asked for); the drop-off at each question.
    idle: dict[str, int] | None = None
    pain: tuple[PainScores, ...] = ()  # the check-ins answered, by first and later score
