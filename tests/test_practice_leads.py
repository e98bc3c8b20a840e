"""Leads with consent: the offer under a booking outcome, the admin card, once and only once.

The bot runs in-process against the fake Bot API server over real HTTP (tests/bot_inprocess.py).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.bot_inprocess import USERNAME, running_bot
from tests.practice_bot import (
    ADMIN,
    ADMINS,
    BOOKING_OUTCOME,
    CHECKIN,
    CONSENT,
    CONSENT_SENT,
    OTHER_ADMIN,
    at_booking_outcome,
    messages_to,
)
from tests.support import FakeBotApi
from tests.support.conversation import PATHS, converse, wait_for_outcome


async def test_consent_sends_every_admin_a_card_with_the_answers(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=ADMINS) as bot:
        person, final = await at_booking_outcome(
            bot, 4001, first_name="<b>Ann</b> & Co", username="ann_s"
        )
        assert final.labels == ["Book a massage", CONSENT, "Check in with me in 3 days"]
        assert "shares your name, your Telegram username and the answers" in (final.text or "")
        assert messages_to(bot, ADMIN) == []  # nothing leaves before the press

        person.press(CONSENT)
        await person.wait_for_text(CONSENT_SENT)
        cards = [
            await bot.fake.wait_for(lambda a=admin: messages_to(bot, a), what=f"card to {admin}")
            for admin in (ADMIN, OTHER_ADMIN)
        ]

        for (card,) in cards:
            raw, text = card.raw_text or "", card.text or ""
            # Who, escaped, with a link to write to them.
            assert '<a href="tg://user?id=4001">&lt;b&gt;Ann&lt;/b&gt; &amp; Co</a>' in raw
            assert "<b>Ann</b> & Co (@ann_s)" in text
            assert "Outcome: Likely piriformis" in text
            assert "• the pain is deep in one buttock" in text  # the reasons
            assert "• sitting makes it worse" in text
            assert "• Location: Deep in one buttock" in text  # the answers, in words
            assert "• Radiation: Into the buttock only" in text
            assert "• Severity: 4" in text
            assert "• Emergency flags: None of these" in text
            assert "• Worse sitting: Yes, sitting makes it worse" in text
            assert "Source: website" in text
            assert "Sent: 20" in text and "UTC" in text
        # The consent button has done its job; booking and the check-in stay.
        outcome = bot.fake.message(person.chat_id, final.message_id)
        assert outcome is not None
        assert outcome.labels == ["Book a massage", "Check in with me in 3 days"]

        async with bot.storage() as storage:
            (lead,) = await storage.all_leads()
        assert (lead.chat_id, lead.name, lead.username) == (4001, "<b>Ann</b> & Co", "ann_s")
        assert (lead.outcome, lead.source) == (BOOKING_OUTCOME, "website")
        assert lead.summary["location"] == "Deep in one buttock"
        assert list(lead.summary) == [step for step, _ in PATHS[BOOKING_OUTCOME]]
        assert lead.reasons == ["the pain is deep in one buttock", "sitting makes it worse"]


async def test_without_consent_nothing_leaves_the_conversation(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=ADMINS) as bot:
        person, _ = await at_booking_outcome(bot, 4002, first_name="Bea", username="bea_b")
        person.press(CHECKIN)  # other buttons are no consent
        await person.wait_for_text("I'll check in with you in 3 days")
        person.say("thanks")
        await person.wait_for_text("We have finished this check")
        await bot.quiet()

        # Nothing was sent to anyone else, and nothing is waiting to be.
        assert bot.fake.chat_ids() == [person.chat_id]
        async with bot.storage() as storage:
            assert await storage.all_leads() == []
            assert await storage.pending_outbox(ADMIN) == []
            assert await storage.pending_outbox(OTHER_ADMIN) == []
        assert not any(
            "Bea" in str(call.params) for call in bot.fake.calls() if call.chat_id != 4002
        )


async def test_consent_pressed_twice_or_redelivered_makes_one_lead(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        person, _ = await at_booking_outcome(bot, 4003, first_name="Cy")
        consent = person.find_button(CONSENT)
        first, _ = person.tap(consent), person.tap(consent)  # a double tap
        await person.wait_for_text(CONSENT_SENT)
        await bot.fake.wait_for(lambda: messages_to(bot, ADMIN), what="the card")

        # Telegram hands the first press out again (counted from now: while the double tap
        # was still being answered, the bot may already have fetched it a second time)
        handed_out = bot.fake.deliveries(first["update_id"])
        bot.fake.redeliver(first)
        await bot.fake.wait_for(lambda: bot.fake.deliveries(first["update_id"]) > handed_out)
        person.tap(consent)  # and a press on the old button later on
        person.say("hello")  # a fresh update after all of them: when it is answered, ...
        await person.wait_for_text("We have finished this check")
        await bot.quiet()

        async with bot.storage() as storage:  # ... the presses before it were applied
            assert len(await storage.all_leads()) == 1
            assert await storage.pending_outbox(ADMIN) == []
        assert len(messages_to(bot, ADMIN)) == 1
        assert len([t for t in person.texts() if CONSENT_SENT in t]) == 1
        assert not bot.fake.unanswered_queries()


async def test_no_admin_chats_no_consent_offered(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        _, final = await at_booking_outcome(bot, 4004)
        assert final.labels == ["Book a massage", "Check in with me in 3 days"]
        assert "Send my answers" not in (final.text or "")


async def test_the_offers_speak_the_persons_language(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        person = bot.fake.user(4005, language_code="es")
        path = PATHS[BOOKING_OUTCOME]
        age = [step for step, _ in path].index("age")
        await converse(person, path[:age])
        await person.wait_for_text("Cuántos años tienes")  # typed, and asked in Spanish
        person.say(str(path[age][1]))
        await converse(person, path[age + 1 :], start=False)
        final = await person.wait_for_text("músculo piriforme")
        assert final.labels == [
            "Reservar un masaje",
            "Enviar mis respuestas al terapeuta",
            "Pregúntame en 3 días",
        ]
        person.press("Enviar mis respuestas")
        await person.wait_for_text("ya le han llegado al terapeuta")
        (card,) = await bot.fake.wait_for(lambda: messages_to(bot, ADMIN), what="the card")
        # The therapist reads the answers in the practice's language, and which one to reply in.
        assert "• Location: Deep in one buttock" in (card.text or "")
        assert "Language: es" in (card.text or "")


async def test_an_outcome_without_booking_offers_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        person = bot.fake.user(4006)
        await converse(person, PATHS["see_doctor_soon"])
        final = await wait_for_outcome(person, "see_doctor_soon")
        assert final.labels == []
        # A forged consent press there changes nothing and sends nothing to the therapist.
        person.press_data("x|lead|send", message_id=final.message_id)
        await person.wait_for_text("That question has moved on")
        await bot.quiet()
        assert messages_to(bot, ADMIN) == []
        async with bot.storage() as storage:
            assert await storage.all_leads() == []


async def test_forget_after_consent_deletes_the_lead(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        person, _ = await at_booking_outcome(bot, 4007)
        person.press(CONSENT)
        await person.wait_for_text(CONSENT_SENT)
        person.command("forget")
        ask = await person.wait_for_text("Delete everything we store")
        person.press("Yes, delete everything", message_id=ask.message_id)
        await person.wait_for_text("everything we stored about you is deleted")
        async with bot.storage() as storage:
            assert await storage.all_leads() == []


async def test_mydata_shows_the_summary_and_check_in_not_the_sessions_notes(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        person, _ = await at_booking_outcome(bot, 4008)
        person.press(CONSENT)
        await person.wait_for_text(CONSENT_SENT)
        person.press(CHECKIN)
        await person.wait_for_text("I'll check in with you")
        person.command("mydata")
        copy = await person.wait_for_text("What we hold about you")
    text = copy.text or ""
    assert "Summaries you sent to the practice" in text and "planned" in text
    assert "practice:lead" not in text and "practice:checkin" not in text


async def test_the_marks_are_kept_beside_the_answers_and_read_back_from_the_database(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        person, _ = await at_booking_outcome(bot, 4009)
        person.press(CONSENT)
        await person.wait_for_text(CONSENT_SENT)
        person.press(CHECKIN)
        await person.wait_for_text("I'll check in with you")
        await bot.quiet()
        session = await bot.session(person.chat_id)  # read back from the SQLite file
    assert session is not None
    assert session.marks["lead"] == BOOKING_OUTCOME and isinstance(session.marks["checkin"], float)
    assert set(session.answers) == set(session.history)  # the person's answers, nothing else


async def test_a_summary_marked_sent_the_old_way_is_not_sent_again(tmp_path: Path) -> None:
    """Sessions stored before the marks had their own field kept them among the answers
    ("practice:lead"): read back, they are marks, and never shown as answers."""
    with FakeBotApi(username=USERNAME) as fake:
        async with running_bot(tmp_path, fake=fake, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
            person, final = await at_booking_outcome(bot, 4010)
            await bot.quiet()
        with sqlite3.connect(tmp_path / "triage.db") as db:
            (stored,) = db.execute(
                "SELECT session_json FROM chats WHERE chat_id = ?", (person.chat_id,)
            ).fetchone()
            old = json.loads(stored)
            old["answers"]["practice:lead"] = BOOKING_OUTCOME
            db.execute(
                "UPDATE chats SET session_json = ? WHERE chat_id = ?",
                (json.dumps(old), person.chat_id),
            )
        async with running_bot(tmp_path, fake=fake, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
            person.press(CONSENT, message_id=final.message_id)
            await bot.quiet()
            assert messages_to(bot, ADMIN) == []  # sent before: a double tap does nothing
            person.command("mydata")
            copy = await person.wait_for_text("What we hold about you")
            assert "practice" not in (copy.text or "")
            async with bot.storage() as storage:
                assert await storage.all_leads() == []
