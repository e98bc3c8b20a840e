"""Editing a message in Telegram: the last typed answer is corrected, anything else is new.

The bot remembers, per chat and in the database, which question the person's last typed
message answered and that message's id; an edit of exactly that message, while the next
question is open, answers the question again (the engine's Amend). The bot runs in-process
against the fake Bot API server over real HTTP (tests/bot_inprocess.py).
"""

from __future__ import annotations

from pathlib import Path

from tests.bot_inprocess import USERNAME, RunningBot, running_bot
from tests.support import FakeBotApi, FakeUser
from tests.support.conversation import PATHS, answer, converse

TO_AGE = PATHS["likely_piriformis"][:4]  # location, radiation, severity, emergency_flags


def live_questions(person: FakeUser) -> list[int]:
    return [m.message_id for m in person.bot_messages() if m.callback_buttons]


async def at_age(bot: RunningBot, user_id: int) -> FakeUser:
    person = bot.fake.user(user_id)
    await converse(person, TO_AGE)
    await bot.question(person, "age")
    return person


async def test_an_edited_age_corrects_the_answer_even_after_a_restart(tmp_path: Path) -> None:
    with FakeBotApi(username=USERNAME) as fake:
        async with running_bot(tmp_path, fake=fake) as bot:
            person = await at_age(bot, 9201)
            asked = await bot.question(person, "age")
            said = person.say("58")  # meant 42: over 50 asks whether it is the first time
            first_episode = await bot.question(person, "first_episode")

        async with running_bot(tmp_path, fake=fake) as bot:  # remembered in the database
            person.edit(said, "42")
            doctor_flags = await bot.question(person, "doctor_flags")
            session = await bot.session(person.chat_id)
            echo = fake.message(person.chat_id, asked.message_id)
            skipped = fake.message(person.chat_id, first_episode.message_id)

    assert session is not None and session.answers["age"] == 42
    assert "first_episode" not in session.answers
    assert session.history == [step for step, _ in TO_AGE] + ["age"]
    assert echo is not None and echo.added_by_edits == "→ 42"  # shown where it was answered
    assert skipped is not None and skipped.callback_buttons == []  # no longer asked
    assert live_questions(person) == [doctor_flags.message_id]


async def test_an_edited_severity_corrects_it_and_asks_the_next_question_again(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(9202)
        await converse(person, TO_AGE[:2])
        await bot.question(person, "severity")
        said = person.say("7")
        first = await bot.question(person, "emergency_flags")
        person.edit(said, "3")
        await bot.fake.wait_for(
            lambda: (
                (last := person.last_message()) is not None
                and last.message_id > first.message_id
                and bool(last.callback_buttons)
            ),
            what="emergency_flags asked again",
        )
        await bot.question(person, "emergency_flags")
        session = await bot.session(person.chat_id)
    assert session is not None and session.answers["severity"] == 3


async def test_an_edit_that_is_not_a_valid_answer_changes_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = await at_age(bot, 9203)
        said = person.say("58")
        await bot.question(person, "first_episode")
        before = await bot.session(person.chat_id)
        person.edit(said, "forty-two")
        await person.wait_for_text("whole number from 1 to 120")
        await bot.question(person, "first_episode")  # the open question, asked again
        assert await bot.session(person.chat_id) == before


async def test_an_edit_of_an_older_answer_is_read_as_a_new_message(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = await at_age(bot, 9204)
        said = person.say("58")
        await answer(person, "first_episode", "no")
        await bot.question(person, "doctor_flags")
        before = await bot.session(person.chat_id)
        person.edit(said, "42")  # the question after it was answered since
        await person.wait_for_text("Please tick what applies below")
        await bot.question(person, "doctor_flags")
        after = await bot.session(person.chat_id)
    assert before is not None and after == before and after.answers["age"] == 58
