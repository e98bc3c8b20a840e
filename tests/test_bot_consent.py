"""Consent before health questions, end to end over the fake Bot API.

Before the person agrees, nothing about their health is stored (no session, no answers), yet
the safety net still answers what they type. "No thanks" keeps nothing and can be changed with
/start; /mydata shows the consent and its time, /forget removes it with everything else.

The bot runs in-process against the fake Bot API server over real HTTP, with a real SQLite file
(tests/bot_inprocess.py).
"""

from __future__ import annotations

import time
from pathlib import Path

from bot.engine import Session
from bot.telegram.consent_messages import AGREE, DECLINE
from tests.bot_inprocess import BOOKING_URL, RunningBot, running_bot, safety_line
from tests.support import FakeUser
from tests.support.conversation import (
    DOUBTFUL,
    OUTCOME_TEXT,
    WARNING,
    agree,
    begin,
    converse,
)
from tests.support.storage import commit

ASKED = "your answers are about your health, so we need your OK"
ASKED_ES = "necesitamos tu permiso para guardarlas"
URGENT = OUTCOME_TEXT["emergency"]
WELCOME = "Hello, and thank you for getting in touch"


async def nothing_kept(bot: RunningBot, chat_id: int) -> bool:
    """No session, no consent, no answers: at most the bare row a chat id needs."""
    async with bot.storage() as storage:
        state = await storage.load_chat(chat_id)
        held = await storage.export_chat(chat_id)
    no_row = state is None or (state.session_json is None and state.consented_at is None)
    return no_row and held["leads"] == [] and held["followups"] == []


def consent_rows(person: FakeUser) -> list[list[str]]:
    """The consent question's buttons, by row, as callback data."""
    message = person.fake.last_bot_message(person.chat_id, with_buttons=True)
    assert message is not None
    return [[b.callback_data or "" for b in row] for row in message.buttons]


async def test_the_consent_question_comes_first_and_nothing_is_kept_before_it(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, RETENTION_DAYS="45") as bot:
        person = bot.fake.user(8001)
        person.start("website")
        asked = await person.wait_for_text(ASKED)
        text = asked.text or ""
        assert "We keep them for 45 days" in text and "/privacy" in text
        assert "Only you see them" in text
        assert consent_rows(person) == [[AGREE, DECLINE]]  # side by side
        assert [b.text for b in asked.flat_buttons] == ["Agree and start", "No thanks"]
        assert not person.has_text(WELCOME)

        person.say("my back hurts")  # not an answer to anything yet: asked again
        await bot.fake.wait_for(lambda: len([t for t in person.texts() if ASKED in t]) == 2)
        await bot.quiet()
        assert await nothing_kept(bot, person.chat_id)

        await agree(person)
        await bot.question(person, "location")
        answered = bot.fake.message(person.chat_id, asked.message_id)
        assert answered is not None and answered.buttons == []  # not the newest copy: moot
        last_asked = person.has_text(ASKED)
        assert last_asked is not None and last_asked.added_by_edits == "→ Agree and start"
        assert last_asked.buttons == []
        await converse(person, [("location", "buttock")], start=False)
        await bot.question(person, "radiation")
        session = await bot.session(person.chat_id)
        async with bot.storage() as storage:
            state = await storage.load_chat(person.chat_id)
            stats = await storage.stats(since=0)
    assert session is not None and session.answers == {"location": "buttock"}
    assert state is not None and state.consented_at is not None
    assert time.time() - 60 < state.consented_at <= time.time()
    assert stats.sources == {"website": 1}  # the link they came by, kept until they agreed


async def test_no_thanks_keeps_nothing_gives_the_safety_line_and_can_be_changed(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, EMERGENCY_NUMBER="112") as bot:
        person = bot.fake.user(8002, language_code="es")
        person.start()
        await person.wait_for_text(ASKED_ES)
        person.press("No, gracias")
        declined = await person.wait_for_text("no hemos guardado nada sobre tu salud")
        text = declined.text or ""
        assert safety_line("es", "112") in text  # with the practice's emergency number
        assert "/start" in text
        assert [b.url for b in declined.flat_buttons] == [BOOKING_URL]
        await bot.quiet()
        assert await nothing_kept(bot, person.chat_id)
        async with bot.storage() as storage:
            assert (await storage.stats(since=0)).started == 0

        await begin(person)  # changed their mind
        await person.wait_for_text("Hola, y gracias por escribirnos")
        await bot.question(person, "location")
        async with bot.storage() as storage:
            state = await storage.load_chat(person.chat_id)
    assert state is not None and state.consented_at is not None


async def test_without_a_booking_page_no_thanks_has_no_button(tmp_path: Path) -> None:
    async with running_bot(tmp_path, BOOKING_URL="") as bot:
        person = bot.fake.user(8003)
        person.say("hello")
        await person.wait_for_text(ASKED)
        person.press("No thanks")
        declined = await person.wait_for_text("nothing about your health has been kept")
        assert declined.buttons == []
        assert safety_line() in (declined.text or "")


async def test_a_warning_before_consent_gets_the_emergency_advice_storing_nothing(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(8004)
        person.say(WARNING)
        advice = await person.wait_for_text(URGENT)
        assert "call 999" in (advice.text or "")
        assert advice.flat_buttons == []  # no booking, no consent question on top
        await bot.quiet()
        assert not person.has_text(ASKED)
        assert await nothing_kept(bot, person.chat_id)


async def test_a_doubtful_mention_before_consent_is_asked_about_storing_nothing(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as bot:
        yes, no = bot.fake.user(8005), bot.fake.user(8006)
        for person in (yes, no):
            person.say(DOUBTFUL)
            question = await person.wait_for_text("Do you have numbness")
            assert [b.text for b in question.buttons[0]] == ["Yes", "No"]  # side by side
        yes.press("^Yes$")
        await yes.wait_for_text(URGENT)
        no.press("^No$")
        await no.wait_for_text("Thank you for checking")
        await no.wait_for_text(ASKED)
        await bot.quiet()
        assert not no.has_text(URGENT)
        for person in (yes, no):
            assert await nothing_kept(bot, person.chat_id)


async def test_mydata_shows_the_consent_and_forget_removes_it(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(8007)
        await begin(person)
        await bot.question(person, "location")
        person.command("mydata")
        copy = await person.wait_for_text("What we hold about you")
        assert "You agreed to us keeping your answers on 20" in (copy.text or "")

        person.command("forget")
        ask = await person.wait_for_text("Delete everything we store")
        person.press("Yes, delete everything", message_id=ask.message_id)
        await person.wait_for_text("everything we stored about you is deleted")
        person.say("hello again")
        await bot.fake.wait_for(lambda: len([t for t in person.texts() if ASKED in t]) == 2)
        await bot.quiet()
        assert await nothing_kept(bot, person.chat_id)


async def test_a_conversation_from_before_consent_existed_carries_on_once_agreed(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as bot:
        # Stored by an earlier version of the bot, which asked no consent.
        old = Session("sciatica", "1", "radiation", "en", answers={"location": "buttock"})
        old.history.append("location")
        async with bot.storage() as storage:
            await commit(storage, update_id=None, chat_id=8008, session_json=old.to_json())
        person = bot.fake.user(8008)
        person.say("hi")
        await person.wait_for_text(ASKED)
        await agree(person)
        await bot.question(person, "radiation")  # where they were, answers kept
        session = await bot.session(person.chat_id)
    assert session is not None and session.answers == {"location": "buttock"}


async def test_no_thanks_from_before_consent_existed_deletes_what_was_kept(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS="9001") as bot:
        old = Session("sciatica", "1", "likely_piriformis", "en", outcome="likely_piriformis")
        old.answers = {"location": "buttock"}
        async with bot.storage() as storage:
            await commit(storage, update_id=None, chat_id=8009, session_json=old.to_json())
        person = bot.fake.user(8009)
        person.say("hi")
        await person.wait_for_text(ASKED)
        person.press("No thanks")
        declined = await person.wait_for_text("nothing about your health has been kept")
        assert declined.labels == ["Book a massage"]  # no offer to send the answers on
        await bot.quiet()
        assert await bot.session(person.chat_id) is None
