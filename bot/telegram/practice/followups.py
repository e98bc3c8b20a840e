"""The gentle check-in (opt-in): booked under a booking outcome, asked days later, answered 0-10.

Booking it is one update: the follow-up row is written in that update's transaction
(``Change.followup_due_at``). A background job (:class:`FollowupSender`) looks for due
follow-ups at start and then every :data:`POLL_SECONDS`; each is claimed and its message queued
in one transaction (``Storage.mark_followup_sent``), then sent by the outbox. So a restart
neither loses one (it is still due at the next start) nor repeats one (it is claimed once, and
an unsent message is the outbox's to deliver). /forget deletes it with everything else.

The 0-10 answer gets a warm reply; from 7 up, advice to see a doctor rather than a booking
button. It is counted as an anonymous event (no chat id, the hour only).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from bot.engine import Repeat, Session
from bot.storage import (
    UNCHANGED,
    ChatState,
    Event,
    OutgoingMessage,
    StorageError,
    StorageUnavailable,
    Unchanged,
)
from bot.telegram import render
from bot.telegram.conversation import Change, ChatView, Decision, engine_turn
from bot.telegram.practice.leads import keyboard_edit
from bot.telegram.practice.offers import (
    CHECKIN_MARK,
    PAIN_MARK,
    Offers,
    booking_outcome,
)
from bot.telegram.practice.texts import checkin_booked, say

if TYPE_CHECKING:
    from bot.telegram.runtime import Runtime

log = logging.getLogger(__name__)

DAY = 86400.0
POLL_SECONDS = 60.0  # how often due follow-ups are looked for (and once at start)
PAIN_ACTION = "pain"  # callback data "x|pain|<follow-up id>|<0-10>"
PAIN_EVENT = "followup_pain"  # anonymous event: outcome holds the 0-10 answer
SEVERE = 7  # from here on: see a doctor, no booking push
SCALE = range(0, 11)
COLUMNS = 6


def now() -> float:
    """The clock of follow-ups (tests move it forward instead of waiting days)."""
    return time.time()


def book(offers: Offers, pressed_message_id: int | None) -> Decision:
    """The decision for a press of "Check in with me in N days"."""

    def decide(chat: ChatView) -> Change:
        session = chat.session
        if not booking_outcome(chat.engine, session):
            return engine_turn(Repeat(notice="moved_on"))(chat)
        assert session is not None
        if CHECKIN_MARK in session.answers:
            return Change()  # a double tap: booked with the first press
        due = now() + offers.checkin_days * DAY
        marked = session.copy()
        marked.answers[CHECKIN_MARK] = due
        outbox: list[OutgoingMessage] = []
        if pressed_message_id is not None:
            rows = offers.rows(chat.engine, marked)
            outbox.append(keyboard_edit(chat.chat_id, pressed_message_id, rows))
        text = checkin_booked(offers.checkin_days, session.language)
        outbox.append(render.text_message(chat.chat_id, text))
        return Change(outbox=outbox, session=marked, followup_due_at=due)

    return decide


def checkin_message(
    chat_id: int, followup_id: int, language: str, booking: tuple[str, str] | None
) -> OutgoingMessage:
    """ "How is your pain now?" with 0-10 buttons and, when there is one, the booking button."""
    scale = [render.data_button(str(n), f"x|{PAIN_ACTION}|{followup_id}|{n}") for n in SCALE]
    rows = [scale[i : i + COLUMNS] for i in range(0, len(scale), COLUMNS)]
    if booking is not None:
        rows.append([render.url_button(*booking)])
    return render.text_message(chat_id, say("checkin_question", language), rows)


def pain_answer(argument: str, pressed_message_id: int | None) -> Decision:
    """The decision for a press of a 0-10 button under a check-in."""
    followup_id, score = _parse(argument)

    def decide(chat: ChatView) -> Change:
        session = chat.session
        open_checkin = chat.state.open_checkin if chat.state else None
        if followup_id is None or score is None or followup_id != open_checkin:
            if session is not None and session.answers.get(PAIN_MARK) == followup_id:
                return Change()  # answered already (a double tap)
            # forged, garbled, someone else's or not sent: nothing is counted
            return engine_turn(Repeat(notice="moved_on"))(chat)
        marked: Session | Unchanged = UNCHANGED
        if session is not None:
            marked = session.copy()
            marked.answers[PAIN_MARK] = followup_id
        language = session.language if session else chat.engine.pick_language(chat.language)
        settings = chat.engine.settings
        severe = score >= SEVERE
        outbox: list[OutgoingMessage] = []
        if pressed_message_id is not None:
            booking = None if severe else _booking(chat, language)
            outbox.append(_answered(chat.chat_id, pressed_message_id, language, score, booking))
        values = {k: settings.get(k, "") for k in ("urgent_advice", "emergency_number")}
        reply = say("pain_severe" if severe else "pain_better", language, **values)
        outbox.append(render.text_message(chat.chat_id, reply))
        if session is not None and not session.finished and chat.engine.is_current(session):
            # Answered mid-way through a new conversation: its question again, below.
            outbox += engine_turn(Repeat())(chat).outbox
        event = Event(PAIN_EVENT, outcome=str(score))
        return Change(outbox=outbox, session=marked, events=[event], checkin_answered=followup_id)

    return decide


class FollowupSender:
    """The background job that sends due check-ins."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def run(self) -> None:
        while True:
            try:
                await self.send_due()
            except StorageUnavailable as error:  # reported by the storage, once a minute
                log.debug("due follow-ups wait for the database: %s", error)
            except StorageError as error:
                log.error("Cannot send due follow-ups: %s", error)
            except Exception:  # a bug must not end the job for good
                log.exception("Sending due follow-ups failed")
            await asyncio.sleep(POLL_SECONDS)

    async def send_due(self) -> int:
        """Claim and send every due follow-up; returns how many went out."""
        runtime = self.runtime
        storage = runtime.storage
        sent = 0
        for followup in await storage.due_followups(now()):
            state = await storage.load_chat(followup.chat_id)
            engine = runtime.flow.engine
            language = engine.pick_language(_language(state))
            booking = None
            url = engine.settings.get("booking_url")
            if url:
                booking = (engine.ui("book_button", language), url)
            message = checkin_message(followup.chat_id, followup.id, language, booking)
            if not await storage.mark_followup_sent(followup.id, outbox=[message], now=now()):
                continue  # cancelled or forgotten meanwhile
            sent += 1
            async with runtime.locks(followup.chat_id):
                await runtime.outbox.deliver_queued(followup.chat_id)
        if sent:
            log.info("Sent %d follow-up(s)", sent)
        return sent


def _parse(argument: str) -> tuple[int | None, int | None]:
    first, _, second = argument.partition("|")
    try:
        followup_id, score = int(first), int(second)
    except ValueError:
        return None, None
    if score not in SCALE or followup_id < 1:
        return None, None
    return followup_id, score


def _language(state: ChatState | None) -> str | None:
    """The language the person chose, else the one their conversation is in."""
    if state is None:
        return None
    if state.language or state.session_json is None:
        return state.language
    try:
        return Session.from_json(state.session_json).language
    except ValueError:
        return None


def _booking(chat: ChatView, language: str) -> tuple[str, str] | None:
    url = chat.engine.settings.get("booking_url")
    return (chat.engine.ui("book_button", language), url) if url else None


def _answered(
    chat_id: int, message_id: int, language: str, score: int, booking: tuple[str, str] | None
) -> OutgoingMessage:
    """The check-in as it was asked, with the answer under it; the booking button stays only
    when the pain is not severe."""
    question = render.to_html(say("checkin_question", language))
    text = f"{question}\n\n{render.ANSWER_MARK} <b>{score}</b>"
    rows = [[render.url_button(*booking)]] if booking is not None else []
    params = {
        "chat_id": chat_id,
        "message_id": message_id,
        "text": text,
        "parse_mode": render.PARSE_MODE,
        "reply_markup": {"inline_keyboard": rows},
    }
    return OutgoingMessage(chat_id, "editMessageText", params)
