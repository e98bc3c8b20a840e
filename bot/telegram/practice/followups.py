"""The gentle check-in (opt-in): booked under an outcome that offers it, asked days later,
answered 0-10.

Booking it is one update: the follow-up row is written in that update's transaction
(``Change.followup_due_at``). A background job (:class:`FollowupSender`) looks for due
follow-ups at start and then every :data:`POLL_SECONDS`; each is claimed and its message queued
in one transaction (``Store.mark_followup_sent``), then sent by the outbox. So a restart
neither loses one (it is still due at the next start) nor repeats one (it is claimed once, and
an unsent message is the outbox's to deliver). /forget deletes it with everything else.

The 0-10 answer (a button, or a number typed while the check-in is open) is compared with the
conversation's first score (its 0-10 question, kept with the follow-up when it is booked):
worse by :data:`WORSE_BY` or more, or :data:`SEVERE` and above, gets advice to see a doctor and
no booking button; anything less a warm reply. Every reply carries the flow's safety line, and
typed words meet the safety net before they are read as a score. The answer is counted as an
anonymous event (no chat id, the hour only), with the first score beside it, so /stats can
show first and later scores.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from bot.engine import Answered, Engine, Link, Repeat, Session, typed_number
from bot.flow.model import StepKind
from bot.storage import (
    PAIN_EVENT,
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
from bot.telegram.practice.leads import offers_edit
from bot.telegram.texts import checkin_booked, say

if TYPE_CHECKING:
    from bot.telegram.runtime import Runtime

log = logging.getLogger(__name__)

DAY = 86400.0
POLL_SECONDS = 60.0  # how often due follow-ups are looked for (and once at start)
PAIN_ACTION = "pain"  # callback data "x|pain|<follow-up id>|<0-10>[|<first score>]"
SEVERE = 7  # from here on: see a doctor, no booking push
WORSE_BY = 2  # this much worse than the first score: see a doctor too
SCALE = range(0, 11)
COLUMNS = 6
# Session.marks: "checkin" holds the check-in's due time, "pain" the follow-up id answered
# (TYPED for an answer typed, with no follow-up id at hand).
CHECKIN = "checkin"
PAIN = "pain"
TYPED = "typed"


def now() -> float:
    """The clock of follow-ups (tests move it forward instead of waiting days)."""
    return time.time()


def book(pressed_message_id: int | None) -> Decision:
    """The decision for a press of "Check in with me in N days"."""

    def decide(chat: ChatView) -> Change:
        session = chat.session
        if session is None or CHECKIN not in chat.engine.offers(session):
            return engine_turn(Repeat(notice="moved_on"))(chat)
        if CHECKIN in session.marks:
            return Change()  # a double tap: booked with the first press
        days = chat.offering.checkin_days
        if days is None:  # a bot without check-ins (never the running bot: FOLLOWUP_DAYS)
            return engine_turn(Repeat(notice="moved_on"))(chat)
        due = now() + days * DAY
        baseline = first_score(chat.engine, session)
        marked = session.copy()
        marked.marks[CHECKIN] = due
        outbox = offers_edit(chat, pressed_message_id, marked)
        text = checkin_booked(days, session.language)
        outbox.append(render.text_message(chat.chat_id, text))
        return Change(
            outbox=outbox, session=marked, followup_due_at=due, followup_baseline=baseline
        )

    return decide


def first_score(engine: Engine, session: Session | None) -> int | None:
    """The conversation's first answer on the check-in's 0-10 scale (the severity question of
    the default flow): what a check-in's answer is compared with, and what /stats shows beside
    it. The questions asked come first, then the flow's own order."""
    if session is None:
        return None
    for step_id in dict.fromkeys([*session.history, *(q.id for q in engine.flow.questions)]):
        step = engine.flow.steps.get(step_id)
        if step is None or step.kind is not StepKind.NUMBER:
            continue
        if (step.minimum, step.maximum) == (SCALE[0], SCALE[-1]):
            answer = session.answers.get(step_id)
            return answer if isinstance(answer, int) else None
    return None


def checkin_message(
    chat_id: int,
    followup_id: int,
    language: str,
    booking: Link | None,
    baseline: int | None = None,
) -> OutgoingMessage:
    """ "How is your pain now?" with 0-10 buttons and, when there is one, the booking button.
    Each button carries the first score, so the answer is compared with it statelessly."""
    first = "" if baseline is None else f"|{baseline}"
    scale = [render.data_button(str(n), f"x|{PAIN_ACTION}|{followup_id}|{n}{first}") for n in SCALE]
    rows = [scale[i : i + COLUMNS] for i in range(0, len(scale), COLUMNS)]
    if booking is not None:
        rows.append([render.url_button(booking)])
    return render.text_message(chat_id, say("checkin_question", language), rows)


def pain_answer(argument: str, pressed_message_id: int | None) -> Decision:
    """The decision for a press of a 0-10 button under a check-in."""
    followup_id, score, baseline = _parse(argument)

    def decide(chat: ChatView) -> Change:
        session = chat.session
        if session is not None and session.marks.get(PAIN) in (followup_id, TYPED):
            return Change()  # answered already (a double tap, or typed before)
        open_checkin = chat.state.open_checkin if chat.state else None
        if followup_id is None or score is None or followup_id != open_checkin:
            # forged, garbled, someone else's or not sent: nothing is counted
            return engine_turn(Repeat(notice="moved_on"))(chat)
        return _answer(chat, score, baseline, followup_id, pressed_message_id)

    return decide


def typed_answer(chat: ChatView, text: str) -> Change | None:
    """Words typed while the conversation's check-in is open: a number from 0 to 10 answers
    it, as its buttons do; other words get a reminder of how to answer. None (the engine's
    turn) when no check-in is open, and for a warning sign: the safety net answers that."""
    session = chat.session
    if not chat.consented or session is None or not checkin_open(session):
        return None
    if chat.engine.screen(text).alarming:
        return None
    score = typed_number(text)  # the engine's rule: linear, and one meaning of a number
    if score is None or score not in SCALE:
        language = session.language
        reminder = _with_safety_line(chat.engine, say("checkin_numbers", language), language)
        return Change(outbox=[render.text_message(chat.chat_id, reminder)])
    baseline = first_score(chat.engine, session)
    return _answer(chat, score, baseline, TYPED, None)


def checkin_open(session: Session) -> bool:
    """Has this conversation's check-in fallen due, without an answer yet?"""
    due = session.marks.get(CHECKIN)
    return isinstance(due, int | float) and PAIN not in session.marks and now() >= due


def _answer(
    chat: ChatView,
    score: int,
    baseline: int | None,
    mark: int | str,
    pressed_message_id: int | None,
) -> Change:
    """The reply to a check-in's answer; ``mark`` notes in the session that it was answered."""
    session = chat.session
    marked: Session | Unchanged = UNCHANGED
    if session is not None:
        marked = session.copy()
        marked.marks[PAIN] = mark
    language = session.language if session else chat.engine.pick_language(chat.language)
    key = advice(score, baseline)
    outbox: list[OutgoingMessage] = []
    if pressed_message_id is not None:
        booking = chat.engine.booking_link(language) if key == "pain_better" else None
        outbox.append(_answered(chat.chat_id, pressed_message_id, language, score, booking))
    settings = chat.engine.settings
    values = {k: settings.get(k, "") for k in ("urgent_advice", "emergency_number")}
    values.update(before=str(baseline), now=str(score))
    reply = _with_safety_line(chat.engine, say(key, language, **values), language)
    outbox.append(render.text_message(chat.chat_id, reply))
    if session is not None and not session.finished and chat.engine.is_current(session):
        # Answered mid-way through a new conversation: its question again, below.
        outbox += engine_turn(Repeat())(chat).outbox
    first = None if baseline is None else str(baseline)
    event = Event(PAIN_EVENT, step=first, outcome=str(score))
    answered = chat.state.open_checkin if chat.state else None  # counted once, then closed
    return Change(outbox=outbox, session=marked, events=[event], checkin_answered=answered)


def advice(score: int, baseline: int | None) -> str:
    """Which reply a check-in's answer gets: severe pain, pain worse than at first (both: see a
    doctor, no booking), or the warm one."""
    if score >= SEVERE:
        return "pain_severe"
    if baseline is not None and score - baseline >= WORSE_BY:
        return "pain_worse"
    return "pain_better"


def _with_safety_line(engine: Engine, text: str, language: str) -> str:
    line = engine.safety_line(language)
    return f"{text}\n\n{line}" if line else text


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
            booking = engine.booking_link(language)
            message = checkin_message(
                followup.chat_id, followup.id, language, booking, followup.baseline
            )
            if not await storage.mark_followup_sent(followup.id, outbox=[message], now=now()):
                continue  # cancelled or forgotten meanwhile
            sent += 1
            async with runtime.locks(followup.chat_id):
                await runtime.outbox.deliver_queued(followup.chat_id)
        if sent:
            log.info("Sent %d follow-up(s)", sent)
        return sent


def _parse(argument: str) -> tuple[int | None, int | None, int | None]:
    """ "<follow-up id>|<score>[|<first score>]" (buttons sent before first scores were kept
    have none); anything else is (None, None, None)."""
    parts = argument.split("|")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        return None, None, None
    if len(numbers) not in (2, 3) or numbers[0] < 1 or any(n not in SCALE for n in numbers[1:]):
        return None, None, None
    baseline = numbers[2] if len(numbers) == 3 else None
    return numbers[0], numbers[1], baseline


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


def _answered(
    chat_id: int, message_id: int, language: str, score: int, booking: Link | None
) -> OutgoingMessage:
    """The check-in as it was asked, with the answer under it; the booking button stays only
    when the pain is not severe."""
    answered = Answered(PAIN, say("checkin_question", language), str(score))
    return render.answered_edit(chat_id, message_id, answered, booking)
