"""The one path every update takes: lock the chat, load it, decide, commit once, then talk.

    update ─► lock(chat) ─► load chat ─► decide (engine) ─► commit (ONE transaction:
    update id, session, outbox rows, anonymous events) ─► answer the button ─► send the rows

A *decision* is a plain function from what we know about the chat (:class:`ChatView`) to what
the update changes (:class:`Change`); the turn wraps it once into the storage's
:class:`~bot.storage.UpdateWrite` and commits that. The handlers only pick the decision;
nothing is sent before the commit, so a crash anywhere loses nothing (Telegram redelivers what
we did not confirm) and repeats nothing (the update id is in the same transaction as its
effects; the outbox sends what was committed but not yet sent).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from telegram import Bot
from telegram.error import TelegramError

from bot.config import DEFAULT_RETENTION_DAYS
from bot.engine import (
    Amend,
    Back,
    Engine,
    Input,
    Restart,
    Result,
    Session,
    SessionError,
    Start,
    Text,
)
from bot.flow.safety import Screening, Verdict
from bot.storage import (
    PROMPT,
    UNCHANGED,
    ChatChange,
    ChatState,
    Event,
    EventKind,
    OutboxItem,
    OutgoingMessage,
    Store,
    TypedAnswer,
    Unchanged,
    UpdateWrite,
)
from bot.telegram import consent_messages, render
from bot.telegram.locks import ChatLocks
from bot.telegram.outbox import Outbox, raw_call

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = 5.0  # seconds before the outbox tries a chat again after an error

# Telegram's rule for deep-link payloads: /start <payload>.
SOURCE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(slots=True)
class RunningFlow:
    """The flow the bot runs now. Replaced whole, never edited, so a later flow reload swaps
    ``engine`` in one assignment and every update sees either the old or the new flow."""

    engine: Engine
    path: str


@dataclass(frozen=True, slots=True)
class ChatView:
    """What a decision may look at."""

    chat_id: int
    state: ChatState | None
    session: Session | None
    engine: Engine
    language: str | None  # the one they chose, else their conversation's, else Telegram's
    prompt_message_id: int | None  # our last question message in the chat
    consented: bool  # they agreed to their answers being kept (bot.telegram.consent)
    retention_days: int  # how long answers are kept, for the consent question
    offering: render.Offering = render.NO_PRACTICE  # the offers this practice can keep

    @property
    def typed(self) -> TypedAnswer | None:
        """Their last typed message that answered a question (an edit of it corrects it)."""
        return self.state.typed if self.state is not None else None


@dataclass(frozen=True, slots=True)
class Change(ChatChange):
    """What one update does to its chat (the storage's :class:`~bot.storage.ChatChange`), and
    what the transport alone reads of it."""

    screening: Screening | None = None  # what the safety net made of typed text (for metrics)


Decision = Callable[[ChatView], Change]
# Reads typed words before the engine does; None leaves them to the engine.
Reader = Callable[[ChatView, str], Change | None]


@dataclass(slots=True)
class Conversations:
    bot: Bot
    storage: Store
    outbox: Outbox
    flow: RunningFlow
    locks: ChatLocks = field(default_factory=ChatLocks)
    retention_days: int = DEFAULT_RETENTION_DAYS
    offering: render.Offering = render.NO_PRACTICE
    # Told about every change once it committed (metrics); never about a duplicate.
    observers: Sequence[Callable[[Change], None]] = ()

    async def take_turn(
        self,
        *,
        update_id: int,
        chat_id: int,
        decide: Decision,
        language: str | None = None,
        query_id: str | None = None,
    ) -> None:
        """Apply one update to one chat exactly once, then deliver its replies."""
        async with self.locks(chat_id):
            # The button's answer carries nothing but "stop the spinner", so it goes out while
            # the database commits (it is awaited below, before any reply is sent).
            answering = asyncio.ensure_future(self._answer(query_id)) if query_id else None
            try:
                state = await self.storage.load_chat(chat_id)
                stored_prompt = state.prompt_message_id if state else None
                current = _session(state)
                chosen = state.language if state else None
                view = ChatView(
                    chat_id,
                    state,
                    current,
                    self.flow.engine,
                    chosen or (current.language if current else None) or language,
                    self.outbox.prompt_message_id(chat_id, stored_prompt),
                    consented=state is not None and state.consented_at is not None,
                    retention_days=self.retention_days,
                    offering=self.offering,
                )
                change = decide(view)
                # The rows delivered since the last commit, of any chat, are removed in this one.
                with self.outbox.take_sent() as sent:
                    items = await self.storage.commit(UpdateWrite(update_id, chat_id, change, sent))
            finally:
                if answering is not None:
                    await answering
            if items is None:
                log.debug("update %d was applied before; ignored", update_id)
                if self.outbox.shared:
                    # Another process applied it and may have died before sending its
                    # replies (Telegram retried it here): whatever the chat still has
                    # queued is nobody's now, and we hold the chat.
                    await self._deliver(chat_id, ())
                return
            for observe in self.observers:
                observe(change)
            await self._deliver(chat_id, items)

    async def _deliver(self, chat_id: int, items: Sequence[OutboxItem]) -> None:
        try:
            await self.outbox.deliver(chat_id, items)
        except Exception:
            # Committed is applied: a failure from here on is the outbox's to retry, and
            # must not make the update look unapplied.
            log.exception("Replies could not be sent now; they stay queued")
            self.outbox.retry_later(chat_id, RETRY_AFTER_FAILURE)

    async def _answer(self, query_id: str) -> None:
        """Stop the button's spinner. Every query is answered, stale and forged ones too; a
        failure here is harmless (the reply itself goes through the outbox)."""
        try:
            await raw_call(self.bot, "answerCallbackQuery", {"callback_query_id": query_id})
        except TelegramError as error:
            log.debug("answerCallbackQuery failed: %s", error)


# --- decisions that run the engine -------------------------------------------------------------


def engine_turn(
    message: Input,
    *,
    pressed_message_id: int | None = None,
    typed_message_id: int | None = None,
    before: Sequence[Callable[[ChatView], OutgoingMessage]] = (),
) -> Decision:
    """Hand ``message`` to the engine; ``before`` adds transport messages ahead of its replies.

    ``typed_message_id`` is the person's own message when they typed ``message``: if it
    answers a question, it is remembered, so that an edit of it can correct the answer.
    Before the person agreed to their answers being kept, the engine is not asked at all
    (see :func:`_before_consent`).
    """

    def decide(chat: ChatView) -> Change:
        outbox = [make(chat) for make in before]
        if not chat.consented:
            return _before_consent(chat, message, outbox, pressed_message_id)
        return _run_engine(chat, message, outbox, pressed_message_id, typed_message_id)

    return decide


def typed_turn(
    text: str, message_id: int, *, edited: bool = False, readers: Sequence[Reader] = ()
) -> Decision:
    """Words the person typed (a message, a photo's caption, or an edit of either).

    An edit of the message that gave their last typed answer corrects that answer, as they
    would expect (the engine's :class:`~bot.engine.Amend`: "4" corrected to "42" while the
    next question is open); any other text, edited or not, is read as a new message. Either
    way the engine's safety net reads it first. ``readers`` come before the engine: features
    with a question of their own open (a check-in), each leaving a warning sign to the engine.
    """

    def decide(chat: ChatView) -> Change:
        for read in readers:
            change = read(chat, text)
            if change is not None:
                return change
        last = chat.typed
        if edited and last is not None and last.message_id == message_id:
            return engine_turn(Amend(last.step, text), typed_message_id=message_id)(chat)
        return engine_turn(Text(text), typed_message_id=message_id)(chat)

    return decide


def start_turn(language: str | None, payload: str = "") -> Decision:
    """/start: a new conversation. A deep-link source is kept across a plain /start later.

    Words after /start that the safety net finds alarming ("/start I can't feel anything down
    there") are read as typed text; other words that are no deep-link source are ignored.
    """

    def decide(chat: ChatView) -> Change:
        if payload and chat.engine.screen(payload).alarming:
            return engine_turn(Text(payload))(chat)
        source = payload if SOURCE.match(payload) else None
        kept = source or (chat.session.source if chat.session else None)
        return engine_turn(Start(language=chat.language or language, source=kept))(chat)

    return decide


def _run_engine(
    chat: ChatView,
    message: Input,
    outbox: list[OutgoingMessage],
    pressed_message_id: int | None,
    typed_message_id: int | None,
) -> Change:
    # No conversation (its stored session could not be read): the engine starts one, in the
    # person's language, unless what they typed needs the safety net's answer first.
    given = message
    if chat.session is None and not isinstance(message, Start) and not _alarming(chat, message):
        given = Start(language=chat.language)
    result = chat.engine.handle(chat.session, given)
    corrected = _corrected(chat, message, result)
    outbox += render.result_messages(
        chat.chat_id,
        result,
        pressed_message_id=pressed_message_id,
        prompt_message_id=chat.prompt_message_id,
        answered_message_id=corrected,
        offering=chat.offering,
    )
    session = result.session
    events = events_of(chat.session, result, message)
    started = bool(events) and events[0].kind == "started"
    # A new conversation forgets the last one's typed answer; a typed answer is remembered.
    typed: TypedAnswer | Unchanged | None = None if started else UNCHANGED
    if typed_message_id is not None and result.answered is not None:
        shown_on = corrected if corrected is not None else chat.prompt_message_id
        typed = TypedAnswer(result.answered.step, typed_message_id, shown_on)
    return Change(
        outbox=outbox,
        session=UNCHANGED if session is chat.session else session,
        events=events,
        source=session.source if started else UNCHANGED,
        typed=typed,
        screening=result.screening,
    )


def _alarming(chat: ChatView, message: Input) -> bool:
    return isinstance(message, Text | Amend) and chat.engine.screen(message.text).alarming


def _corrected(chat: ChatView, message: Input, result: Result) -> int | None:
    """Our question showing the answer an edit just corrected (the new answer goes there), or
    None when the engine read the edit as a new message instead."""
    if not isinstance(message, Amend) or chat.typed is None or result.answered is None:
        return None
    return chat.typed.question_message_id if result.answered.step == message.step else None


def _before_consent(
    chat: ChatView, message: Input, outbox: list[OutgoingMessage], pressed_message_id: int | None
) -> Change:
    """Whatever they send before agreeing gets the consent question, and nothing about their
    health is stored; but typed words meet the safety net first, whose answer needs no
    session: the emergency advice, or a yes/no question that carries its sign in its button.

    The questions asked here are prompts like the flow's: a newer one takes the buttons off
    the one before, so that only the newest question in the chat has live buttons.
    """
    engine = chat.engine
    language = engine.pick_language(chat.language)
    ask: OutgoingMessage | None = None
    if isinstance(message, Text | Amend):
        screening = engine.screen(message.text)
        if screening.verdict is Verdict.EMERGENCY:
            urgent = consent_messages.urgent(chat.chat_id, engine, screening, language)
            return Change(outbox=[*outbox, urgent], screening=screening)
        if screening.verdict is Verdict.CONFIRM and screening.concept:
            ask = consent_messages.sign_question(chat.chat_id, engine, screening.concept, language)
    if ask is None:
        ask = consent_messages.request(chat.chat_id, language, chat.retention_days)
    prompt = chat.prompt_message_id
    if prompt is not None and prompt != pressed_message_id:
        outbox.append(render.keyboard_removal(chat.chat_id, prompt))
    outbox.append(replace(ask, tag=PROMPT))
    # Where they came from is not about their health: kept for the conversation to come.
    source = message.source if isinstance(message, Start) and message.source else UNCHANGED
    return Change(outbox=outbox, source=source)


def events_of(before: Session | None, result: Result, message: Input) -> list[Event]:
    """Anonymous facts for statistics: a conversation started, a question reached, an outcome,
    an emergency answer taken back."""
    after = result.session
    if after is before or isinstance(message, Back):
        return []
    events: list[Event] = []
    started = (
        isinstance(message, Start | Restart)
        or before is None
        # the engine starts again by itself when the flow changed under a session
        or (not after.history and _flow_of(after) != _flow_of(before))
    )
    if started:
        events.append(Event.started(after.source))
    if result.withdrawn and before is not None:
        # How often the emergency advice is taken back tells the practice how the flow's
        # warning questions read; anonymous like every event.
        events.append(Event(EventKind.WITHDRAWN, outcome=before.outcome))
    moved = started or before is None or after.step != before.step
    if not moved:
        return events
    if after.finished:
        events.append(Event.finished(after.outcome or after.step, source=after.source))
    else:
        events.append(Event.reached(after.step))
    return events


def _flow_of(session: Session) -> tuple[str, str]:
    return session.flow_id, session.flow_version


def _session(state: ChatState | None) -> Session | None:
    if state is None or state.session_json is None:
        return None
    try:
        return Session.from_json(state.session_json)
    except SessionError:
        # Unreadable (hand-edited database, a bug): start again rather than fail every update.
        log.warning("a stored session could not be read; the conversation starts again")
        return None
