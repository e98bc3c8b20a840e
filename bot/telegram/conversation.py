"""The one path every update takes: lock the chat, load it, decide, commit once, then talk.

    update ─► lock(chat) ─► load chat ─► decide (engine) ─► commit_update (ONE transaction:
    update id, session, outbox rows, anonymous events) ─► answer the button ─► send the rows

A *decision* is a plain function from what we know about the chat (:class:`ChatView`) to what
the update changes (:class:`Change`). The handlers only pick the decision; nothing is sent
before the commit, so a crash anywhere loses nothing (Telegram redelivers what we did not
confirm) and repeats nothing (the update id is in the same transaction as its effects; the
outbox sends what was committed but not yet sent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from telegram import Bot
from telegram.error import TelegramError

from bot.engine import Back, Engine, Input, Restart, Result, Session, SessionError, Start
from bot.storage import (
    UNCHANGED,
    ChatState,
    Event,
    NewLead,
    OutgoingMessage,
    Storage,
    Unchanged,
)
from bot.telegram import render
from bot.telegram.locks import ChatLocks
from bot.telegram.outbox import Outbox, raw_call

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = 5.0  # seconds before the outbox tries a chat again after an error


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


@dataclass(frozen=True, slots=True)
class Change:
    """What one update does to its chat, written in one transaction."""

    outbox: Sequence[OutgoingMessage] = ()
    session: Session | Unchanged | None = UNCHANGED
    events: Sequence[Event] = ()
    source: str | Unchanged | None = UNCHANGED
    language: str | Unchanged | None = UNCHANGED  # the person's choice (/language), kept
    forget: bool = False  # delete everything about the chat first (/forget)
    lead: NewLead | None = None  # the person consented: their summary for the therapist
    followup_due_at: float | None = None  # the person asked for a check-in then
    checkin_answered: int | None = None  # the open check-in (follow-up id) they answered


Decision = Callable[[ChatView], Change]
# Applied to every decision's change before it commits (e.g. the offers under an outcome).
Amend = Callable[[ChatView, Change], Change]


@dataclass(slots=True)
class Conversations:
    bot: Bot
    storage: Storage
    outbox: Outbox
    flow: RunningFlow
    locks: ChatLocks = field(default_factory=ChatLocks)
    amends: Sequence[Amend] = ()

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
                )
                change = decide(view)
                for amend in self.amends:
                    change = amend(view, change)
                session = change.session
                session_json = session.to_json() if isinstance(session, Session) else session
                # The rows delivered since the last commit, of any chat, are removed in this one.
                with self.outbox.take_sent() as sent:
                    items = await self.storage.commit_update_returning(
                        update_id=update_id,
                        chat_id=chat_id,
                        session_json=session_json,
                        outbox=change.outbox,
                        events=change.events,
                        source=change.source,
                        language=change.language,
                        forget=change.forget,
                        lead=change.lead,
                        followup_due_at=change.followup_due_at,
                        checkin_answered=change.checkin_answered,
                        sent=sent,
                    )
            finally:
                if answering is not None:
                    await answering
            if items is None:
                log.debug("update %d was applied before; ignored", update_id)
                return
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
    before: Sequence[Callable[[ChatView], OutgoingMessage]] = (),
) -> Decision:
    """Hand ``message`` to the engine; ``before`` adds transport messages ahead of its replies."""

    def decide(chat: ChatView) -> Change:
        # No conversation yet (a first message that is not /start, a button after /forget):
        # the engine starts one, in the person's language.
        given = message
        if chat.session is None and not isinstance(message, Start):
            given = Start(language=chat.language)
        result = chat.engine.handle(chat.session, given)
        outbox = [make(chat) for make in before]
        outbox += render.result_messages(
            chat.chat_id,
            result,
            pressed_message_id=pressed_message_id,
            prompt_message_id=chat.prompt_message_id,
        )
        session = result.session
        events = events_of(chat.session, result, message)
        started = bool(events) and events[0].kind == "started"
        return Change(
            outbox=outbox,
            session=UNCHANGED if session is chat.session else session,
            events=events,
            source=session.source if started else UNCHANGED,
        )

    return decide


def start_turn(language: str | None, source: str | None) -> Decision:
    """/start: a new conversation. A deep-link source is kept across a plain /start later."""

    def decide(chat: ChatView) -> Change:
        kept = source or (chat.session.source if chat.session else None)
        return engine_turn(Start(language=chat.language or language, source=kept))(chat)

    return decide


def events_of(before: Session | None, result: Result, message: Input) -> list[Event]:
    """Anonymous facts for statistics: a conversation started, a question reached, an outcome."""
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
