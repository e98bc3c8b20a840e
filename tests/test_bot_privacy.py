"""A person's data and language, end to end: /privacy, /forget, /mydata, /language.

The bot runs in-process against the fake Bot API server over real HTTP, with a real SQLite file
(tests/bot_inprocess.py). Leads and follow-ups are written through the Storage API, as the
practice features write them, so that /forget and /mydata are checked on every kind of row.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bot.storage import NewLead, OutgoingMessage
from tests.bot_inprocess import USERNAME, RunningBot, running_bot
from tests.support import FakeBotApi, FakeUser
from tests.support.conversation import Answer, agree, answer, begin, converse
from tests.support.storage import add_lead, schedule_followup

ADMIN_CHAT = 777000111
WELCOME_ES = "Hola, y gracias por escribirnos"
SEVERITY_ES = "cuánto te duele"
SAFETY_ES = "preguntas de seguridad"


async def at_safety_questions(bot: RunningBot, user_id: int, **person: Any) -> FakeUser:
    """A person who came from the website link and answered location, radiation, severity."""
    someone = bot.fake.user(user_id, **person)
    await begin(someone, "website")
    path: list[tuple[str, Answer]] = [
        ("location", "buttock"),
        ("radiation", "below_knee"),
        ("severity", 6),
    ]
    await converse(someone, path, start=False)
    await bot.question(someone, "emergency_flags")
    return someone


def ticked(person: FakeUser, message_id: int) -> bool:
    message = person.fake.message(person.chat_id, message_id)
    return message is not None and any(label.startswith("✅") for label in message.labels)


def lead_of(chat_id: int, name: str, username: str, summary_size: int = 2) -> NewLead:
    summary = {f"Question {n} about the pain": f"answer {n} in words" for n in range(summary_size)}
    return NewLead(chat_id, name, username, summary, "likely_nerve_root", ("pain_below_knee",))


def card_about(chat_id: int) -> OutgoingMessage:
    """A lead card for the practice, still queued (the bot sends cards it queued itself)."""
    params = {"chat_id": ADMIN_CHAT, "text": "New lead"}
    return OutgoingMessage(ADMIN_CHAT, "sendMessage", params, about_chat_id=chat_id)


# --- /privacy ------------------------------------------------------------------------------------


async def test_privacy_tells_what_why_who_how_long_and_how_to_delete(tmp_path: Path) -> None:
    async with running_bot(tmp_path, RETENTION_DAYS="45") as bot:
        english = bot.fake.user(4001)
        english.command("privacy")
        text = (await english.wait_for_text("What we store")).text or ""
        spanish = bot.fake.user(4002, language_code="es")
        spanish.command("privacy")
        texto = (await spanish.wait_for_text("Qué guardamos")).text or ""

    assert "at most 45 days" in text
    assert "Nothing about your health until you agree to it" in text
    for said in ("answers", "anonymous counts", "Who sees it", "therapist", "/mydata", "/forget"):
        assert said in text, said
    assert "como mucho 45 días" in texto
    assert "Nada sobre tu salud hasta que lo aceptes" in texto
    for said in ("respuestas", "recuentos anónimos", "Quién lo ve", "/mydata", "/forget"):
        assert said in texto, said


# --- /forget and /mydata -------------------------------------------------------------------------


async def test_forget_then_mydata_leaves_nothing_but_anonymous_counts(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = await at_safety_questions(bot, 4101)
        other = await at_safety_questions(bot, 4102)
        async with bot.storage() as storage:
            await add_lead(
                storage, lead_of(person.chat_id, "Ann", "ann_x"), outbox=[card_about(4101)]
            )
            await schedule_followup(storage, person.chat_id, time.time() + 3 * 86400)
            await add_lead(storage, lead_of(other.chat_id, "Bob", "bob_y"))
            started_before = (await storage.stats(since=0)).started

        person.command("forget")
        ask = await person.wait_for_text("Delete everything we store")
        assert "summary you sent to the practice" in (ask.text or "")
        person.press("Yes, delete everything", message_id=ask.message_id)
        await person.wait_for_text("everything we stored about you is deleted")
        person.command("mydata")
        copy = await person.wait_for_text("What we hold about you")

        async with bot.storage() as storage:
            held = await storage.export_chat(person.chat_id)
            others = await storage.export_chat(other.chat_id)
            stats = await storage.stats(since=0)

    assert "We hold nothing about you" in (copy.text or "")
    assert "buttock" not in (copy.text or "").lower()
    assert held["leads"] == [] and held["followups"] == []
    assert held["chat"] is None or held["chat"]["session"] is None
    assert not [m for m in held["messages"] if m["to_chat_id"] == ADMIN_CHAT]  # card withdrawn
    # Somebody else's data and the anonymous counts are untouched.
    assert len(others["leads"]) == 1 and others["chat"]["session"] is not None
    assert stats.started == started_before >= 2


async def test_mydata_shows_a_person_mid_conversation_their_own_data_only(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as bot:
        person = await at_safety_questions(bot, 4201)
        other = bot.fake.user(4202)
        await converse(other, [("location", "tailbone"), ("radiation", "foot")])
        async with bot.storage() as storage:
            await add_lead(storage, lead_of(other.chat_id, "Bob Other", "bob_other"))

        asked = person.last_message()
        assert asked is not None
        person.command("mydata")
        copy = (await person.wait_for_text("What we hold about you")).text or ""
        # The question above the copy still takes its answer.
        person.press_option("none", step="emergency_flags", message_id=asked.message_id)
        await bot.fake.wait_for(lambda: ticked(person, asked.message_id), what="the tick")
        person.press("Done", message_id=asked.message_id)
        await bot.question(person, "age")

    assert "Your answers" in copy
    assert "• Where is the pain worst?: Deep in one buttock" in copy
    assert "• How far down does the pain, tingling or numbness go?: Below the knee" in copy
    assert "how bad is the pain?: 6" in copy
    assert "Now at: Do you have any of these?" in copy
    assert "You came from the link: website" in copy
    assert "/forget" in copy and "90 days" in copy
    for not_theirs in ("Bob", "bob_other", "On the tailbone", "Down to the foot"):
        assert not_theirs not in copy


async def test_a_long_copy_comes_as_a_json_document_without_other_chats(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = await at_safety_questions(bot, 4301, language_code="es")
        async with bot.storage() as storage:
            big = lead_of(person.chat_id, "Ana Ejemplo", "ana_e", summary_size=80)
            await add_lead(storage, big, outbox=[card_about(person.chat_id)])

        person.command("mydata")
        await person.wait_for_text("la copia completa está en el archivo")
        document = await bot.fake.wait_for(
            lambda: next((m for m in person.bot_messages() if m.kind == "document"), None),
            what="the JSON copy",
        )

    assert document.file is not None and document.file.filename == "my-data.json"
    assert str(ADMIN_CHAT) not in document.file.data.decode("utf-8")
    data = json.loads(document.file.data)
    assert data["chat_id"] == person.chat_id
    assert data["chat"]["session"]["answers"]["location"] == "buttock"
    assert [lead["name"] for lead in data["leads"]] == ["Ana Ejemplo"]
    assert len(data["leads"][0]["summary"]) == 80
    cards = [m for m in data["messages"] if m["to_chat_id"] != person.chat_id]
    assert cards and all(m["to_chat_id"] == "the practice" for m in cards)
    assert "Todo lo que guardamos sobre ti" in (document.text or "")


# --- /language ------------------------------------------------------------------------------------


async def test_language_switch_mid_conversation_carries_on_and_is_kept(tmp_path: Path) -> None:
    with FakeBotApi(username=USERNAME) as fake:
        async with running_bot(tmp_path, fake=fake) as bot:
            person = bot.fake.user(4401)  # Telegram set to English
            await converse(person, [("location", "buttock"), ("radiation", "none")])
            asked = await bot.question(person, "severity")

            person.command("language")
            choice = await person.wait_for_button("Español")
            assert [b.text for b in person.keyboard()] == ["English", "Español"]
            person.tap(choice)
            done = await person.wait_for_text("Idioma: Español")
            assert done.message_id == choice.message_id and done.buttons == []
            again = await bot.question(person, "severity")
            assert SEVERITY_ES in (again.text or "")
            old = fake.message(person.chat_id, asked.message_id)
            assert old is not None and old.buttons == []  # only the new copy has buttons

            await answer(person, "severity", 4)
            next_question = await bot.question(person, "emergency_flags")
            assert SAFETY_ES in (next_question.text or "")

        # The bot restarts: the session and the choice are in the database, and the choice
        # wins over Telegram's "en" in this conversation and in the next one.
        async with running_bot(tmp_path, fake=fake) as bot:
            await answer(person, "emergency_flags", ["none"])
            await person.wait_for_text("Cuántos años tienes")  # the typed question, in Spanish
            session = await bot.session(person.chat_id)
            person.command("help")
            await person.wait_for_text("Te hago unas preguntas breves")
            person.command("restart")
            await person.wait_for_text(WELCOME_ES)  # the first conversation was in English
            async with bot.storage() as storage:
                state = await storage.load_chat(person.chat_id)

    assert session is not None and session.language == "es"
    assert session.answers == {
        "location": "buttock",
        "radiation": "none",
        "severity": 4,
        "emergency_flags": ["none"],
    }
    assert state is not None and state.language == "es"


async def test_language_before_any_conversation_and_back_to_english(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(4501, language_code="es")
        person.command("language")
        person.tap(await person.wait_for_button("English"))
        await person.wait_for_text("Language: English")
        assert "Send /start to begin" in (person.last_message().text or "")  # type: ignore[union-attr]
        await begin(person)
        await person.wait_for_text("Hello, and thank you")
        assert not person.has_text(WELCOME_ES)


async def test_a_forged_language_button_changes_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(4601)
        await converse(person, [("location", "buttock")])
        shown = await bot.question(person, "radiation")
        person.press_data("x|language|xx", message_id=shown.message_id)
        await person.wait_for_text("That question has moved on")
        await bot.question(person, "radiation")
        session = await bot.session(person.chat_id)
        async with bot.storage() as storage:
            state = await storage.load_chat(person.chat_id)
    assert session is not None and session.language == "en"
    assert state is not None and state.language is None


async def test_telegram_spanish_gets_the_spanish_welcome(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(4701, language_code="es")
        await begin(person)
        welcome = await person.wait_for_text(WELCOME_ES)
        # Without /start too: a first message that is not a command is asked in Spanish.
        typing = bot.fake.user(4702, language_code="es")
        typing.say("hola")
        await typing.wait_for_text("Antes de empezar")
        await agree(typing)
        await typing.wait_for_text(WELCOME_ES)
        await bot.question(typing, "location")
        assert "Deep in one buttock" not in " ".join(typing.texts())
    assert "/back" in (welcome.text or "")
