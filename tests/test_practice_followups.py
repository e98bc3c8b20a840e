"""The gentle check-in: booked under a booking outcome, sent when due (across restarts, once),
answered 0-10, cancelled by /forget.

The bot runs in-process against the fake Bot API server over real HTTP (tests/bot_inprocess.py),
restarted on the same SQLite file. Time is moved, never waited for: the follow-ups' clock
(``followups.now``) is set days ahead.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.storage import Storage
from bot.telegram.practice import followups
from tests.bot_inprocess import USERNAME, RunningBot, running_bot, safety_line
from tests.practice_bot import (
    CHECKIN,
    CHECKIN_QUESTION,
    anonymous_events,
    at_booking_outcome,
)
from tests.support import FakeBotApi, FakeUser
from tests.support.conversation import OUTCOME_TEXT, WARNING, begin
from tests.support.records import ChatMessage
from tests.support.storage import schedule_followup

DAY = 86400.0
BOOKED = "I'll check in with you in 3 days"
SCALE = [str(n) for n in range(11)]


def days_ahead(monkeypatch: pytest.MonkeyPatch, days: float) -> None:
    monkeypatch.setattr(followups, "now", lambda: time.time() + days * DAY)


async def schedule(database: Path, chat_id: int, due_at: float) -> None:
    async with await Storage.open(database) as storage:
        await schedule_followup(storage, chat_id, due_at)


async def test_a_checkin_survives_restarts_and_goes_out_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "triage.db"
    telegram = FakeBotApi(username=USERNAME).start()  # the same "Telegram" across restarts
    try:
        await booked_then_sent_then_not_again(tmp_path, database, telegram, monkeypatch)
    finally:
        telegram.stop()


async def booked_then_sent_then_not_again(
    tmp_path: Path, database: Path, telegram: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(tmp_path, fake=telegram) as bot:
        person, final = await at_booking_outcome(bot, 7001)
        person.press(CHECKIN)
        await person.wait_for_text(BOOKED)
        booked_at = time.time()
        outcome = bot.fake.message(person.chat_id, final.message_id)
        assert outcome is not None and outcome.labels == ["Book a massage"]  # offered once
        async with bot.storage() as storage:
            (booked,) = (await storage.export_chat(person.chat_id))["followups"]
        assert booked["sent_at"] is None
        assert 3 * DAY - 60 < booked["due_at"] - booked_at <= 3 * DAY

    days_ahead(monkeypatch, 3.01)  # the bot was down while it fell due
    async with running_bot(tmp_path, fake=telegram) as bot:
        checkin = await person.wait_for_text(CHECKIN_QUESTION)
        rows = [[b.text for b in row] for row in checkin.buttons]
        assert rows == [SCALE[:6], SCALE[6:], ["Book a massage"]]
        assert checkin.buttons[-1][0].url == "https://clinic.example/book"
        async with bot.storage() as storage:
            (sent,) = (await storage.export_chat(person.chat_id))["followups"]
        assert sent["sent_at"] is not None

    # Started again: another follow-up falls due and goes out, so the job has looked, and the
    # first one does not come a second time.
    await schedule(database, 7002, time.time())
    async with running_bot(tmp_path, fake=telegram) as bot:
        await bot.fake.user(7002).wait_for_text(CHECKIN_QUESTION)
        await bot.quiet()
        assert [t for t in person.texts() if CHECKIN_QUESTION in t] == [checkin.text]


async def test_a_severe_answer_gets_a_doctor_not_a_booking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "triage.db"
    with FakeBotApi(username=USERNAME) as telegram:
        async with running_bot(tmp_path, fake=telegram, EMERGENCY_NUMBER="112") as bot:
            person, _ = await at_booking_outcome(bot, 7003)
            person.press(CHECKIN)
            await person.wait_for_text(BOOKED)

        days_ahead(monkeypatch, 4)
        async with running_bot(tmp_path, fake=telegram, EMERGENCY_NUMBER="112") as bot:
            await answer_eight(bot, person)
    # Counted anonymously, once: no chat id, no person; beside it the first score (4).
    assert anonymous_events(database, followups.PAIN_EVENT) == [
        (followups.PAIN_EVENT, "4", "8", None)
    ]


async def answer_eight(bot: RunningBot, person: FakeUser) -> None:
    """Press 8 twice under the check-in; one severe-pain reply, and no booking push."""
    checkin = await person.wait_for_text(CHECKIN_QUESTION)
    eight = person.find_button("^8$")
    person.tap(eight)
    person.tap(eight)  # a double tap
    reply = await person.wait_for_text("worth a doctor's check")
    assert safety_line(emergency_number="112") in (reply.text or "")
    person.say("thanks")  # answered after both taps were applied
    await person.wait_for_text("We have finished this check")
    answered = bot.fake.message(person.chat_id, checkin.message_id)
    assert answered is not None and answered.buttons == []  # no booking push
    assert (answered.text or "").endswith("→ 8")
    assert len([t for t in person.texts() if "worth a doctor's check" in t]) == 1
    assert not any("Book" in label for m in person.bot_messages()[-2:] for label in m.labels)


async def test_a_mild_answer_gets_a_warm_reply_and_keeps_the_booking_button(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(followups, "POLL_SECONDS", 0.05)
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(7004)
        await begin(person)  # a new conversation is under way when the check-in comes
        await bot.question(person, "location")
        async with bot.storage() as storage:
            await schedule_followup(storage, person.chat_id, time.time() - 60)
        checkin = await person.wait_for_text(CHECKIN_QUESTION)
        person.press("^2$")
        await person.wait_for_text("we hope it keeps easing")
        answered = await bot.fake.wait_for(
            lambda: (m := bot.fake.message(person.chat_id, checkin.message_id)) and m.edits and m
        )
        assert answered.labels == ["Book a massage"]
        # ... and the open question is asked again below, with the only live buttons.
        again = await bot.question(person, "location")
        assert again.message_id > checkin.message_id
        live = [m.message_id for m in person.bot_messages() if m.callback_buttons]
        assert live == [again.message_id]


async def test_forget_cancels_the_checkin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [time.time()]
    monkeypatch.setattr(followups, "now", lambda: clock[0])
    monkeypatch.setattr(followups, "POLL_SECONDS", 0.05)
    async with running_bot(tmp_path) as bot:
        person, _ = await at_booking_outcome(bot, 7005)
        person.press(CHECKIN)
        await person.wait_for_text(BOOKED)
        person.command("forget")
        ask = await person.wait_for_text("Delete everything we store")
        person.press("Yes, delete everything", message_id=ask.message_id)
        await person.wait_for_text("everything we stored about you is deleted")
        async with bot.storage() as storage:
            assert (await storage.export_chat(person.chat_id))["followups"] == []

        clock[0] += 4 * DAY  # past the time it was due; another one is due too
        async with bot.storage() as storage:
            await schedule_followup(storage, 7006, clock[0] - 1)
        await bot.fake.user(7006).wait_for_text(CHECKIN_QUESTION)
        assert not person.has_text(CHECKIN_QUESTION)


# --- compared with the first score; typed answers; the safety net -------------------------------

WORSE = "it has got worse"
WARM = "we hope it keeps easing"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The follow-ups' clock, moved by the test; due check-ins are looked for every 50 ms."""
    now = [time.time()]
    monkeypatch.setattr(followups, "now", lambda: now[0])
    monkeypatch.setattr(followups, "POLL_SECONDS", 0.05)
    return now


async def checkin_arrives(person: FakeUser, clock: list[float]) -> ChatMessage:
    """Book the check-in under the outcome (the first score was 4), then let it fall due."""
    person.press(CHECKIN)
    await person.wait_for_text(BOOKED)
    clock[0] += 3.01 * DAY
    return await person.wait_for_text(CHECKIN_QUESTION)


async def test_worse_by_two_than_the_first_score_gets_a_doctor_and_no_booking(
    tmp_path: Path, clock: list[float]
) -> None:
    async with running_bot(tmp_path) as bot:
        worse, same = [(await at_booking_outcome(bot, n))[0] for n in (7101, 7102)]
        for person in (worse, same):
            checkin = await checkin_arrives(person, clock)
            six = person.find_button("^6$", message_id=checkin.message_id)
            assert six.callback_data is not None and six.callback_data.endswith("|6|4")
        worse.press("^6$")  # 4 at first: 6 is worse by two, though under 7
        reply = await worse.wait_for_text(WORSE)
        assert "6 now, against 4" in (reply.text or "")
        assert safety_line() in (reply.text or "")
        same.press("^5$")
        warm = await same.wait_for_text(WARM)
        assert safety_line() in (warm.text or "")
        await bot.quiet()
    # The check-in, answered: the booking button stays only when the pain is not worse.
    for person, labels in ((worse, []), (same, ["Book a massage"])):
        checkin = person.has_text(CHECKIN_QUESTION)
        assert checkin is not None and checkin.labels == labels, person.transcript()


async def test_a_number_typed_while_the_checkin_is_open_answers_it_once(
    tmp_path: Path, clock: list[float]
) -> None:
    async with running_bot(tmp_path) as bot:
        person, _ = await at_booking_outcome(bot, 7103)
        checkin = await checkin_arrives(person, clock)
        person.say("how do I answer?")  # not a number: how to answer, and the safety line
        reminder = await person.wait_for_text("please tap or send a number from 0")
        assert safety_line() in (reminder.text or "")
        person.say("7")
        severe = await person.wait_for_text("worth a doctor's check")
        assert safety_line() in (severe.text or "")
        person.tap(person.find_button("^2$", message_id=checkin.message_id))  # answered already
        await bot.quiet()
        assert not person.has_text(WARM)
        session = await bot.session(person.chat_id)
    assert session is not None and session.marks[followups.PAIN] == followups.TYPED
    # counted once, with the conversation's first score (4) beside it for /stats
    assert anonymous_events(tmp_path / "triage.db", followups.PAIN_EVENT) == [
        (followups.PAIN_EVENT, "4", "7", None)
    ]


async def test_a_warning_during_or_after_a_checkin_gets_the_emergency_advice(
    tmp_path: Path, clock: list[float]
) -> None:
    async with running_bot(tmp_path) as bot:
        during, after = [(await at_booking_outcome(bot, n))[0] for n in (7104, 7105)]
        for person in (during, after):
            await checkin_arrives(person, clock)
        after.press("^3$")
        await after.wait_for_text(WARM)
        for person in (during, after):
            person.say(WARNING)
            advice = await person.wait_for_text(OUTCOME_TEXT["emergency"])
            assert advice.flat_buttons == []
            session = await bot.session(person.chat_id)
            assert session is not None and session.outcome == "emergency"
        await bot.quiet()
        assert not during.has_text("please tap or send a number")
