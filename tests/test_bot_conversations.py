"""Whole conversations with the bot in-process, over real HTTP to the fake Bot API server.

What a person sees: every outcome of the default flow, answered questions edited to show the
answer, multi-select ticks, typed numbers, /back, /restart and where they came from.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.bot_inprocess import BOOKING_URL, running_bot
from tests.support.conversation import (
    OUTCOME_TEXT,
    PATHS,
    answer,
    begin,
    converse,
    wait_for_outcome,
)
from tests.support.driver import step_of

BOOKING_OUTCOMES = {"likely_nerve_root", "likely_piriformis", "likely_sacroiliac", "non_specific"}


async def test_every_outcome_of_the_default_flow(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        people = {outcome: bot.fake.user(2000 + i) for i, outcome in enumerate(PATHS)}
        await asyncio.gather(*(converse(people[o], PATHS[o]) for o in PATHS))

        for outcome, person in people.items():
            final = await wait_for_outcome(person, outcome)
            others = [o for o in OUTCOME_TEXT if o != outcome]
            assert not any(person.has_text(OUTCOME_TEXT[o]) for o in others), person.transcript()
            links = [b.url for b in final.flat_buttons if b.url]
            assert links == ([BOOKING_URL] if outcome in BOOKING_OUTCOMES else []), outcome
            # A readable chat: no question keeps live buttons once answered (the outcome's own
            # offers, tested in test_practice_leads.py, are the only live buttons left).
            questions = [m for m in person.bot_messages() if m.message_id < final.message_id]
            assert all(not m.callback_buttons for m in questions), person.transcript()
            session = await bot.session(person.chat_id)
            assert session is not None and session.outcome == outcome
        assert not bot.fake.unanswered_queries()

        async with bot.storage() as storage:
            stats = await storage.stats(since=0)
        assert stats.started == len(PATHS)
        assert stats.outcomes == dict.fromkeys(PATHS, 1)
        assert stats.steps["location"] == len(PATHS)


async def test_a_pressed_answer_is_written_under_its_question(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(2101)
        await begin(person)
        question = await bot.question(person, "location")
        person.press("Deep in one buttock")
        await bot.question(person, "radiation")

        edited = bot.fake.message(person.chat_id, question.message_id)
        assert edited is not None
        assert edited.text is not None and edited.text.startswith("Where is the pain worst?")
        assert edited.added_by_edits == "→ Deep in one buttock"
        assert edited.raw_text is not None
        assert edited.raw_text.endswith("→ <b>Deep in one buttock</b>")
        assert edited.buttons == []


async def test_multi_select_ticks_in_place_then_done(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(2102)
        await converse(person, PATHS["likely_sacroiliac"][:3])
        question = await bot.question(person, "emergency_flags")

        person.press("New symptoms in both legs", message_id=question.message_id)
        await person.wait_for_button("✅ New symptoms in both legs")
        person.press("Bowel changes", message_id=question.message_id)
        await person.wait_for_button("✅ Bowel changes")
        ticked = bot.fake.message(person.chat_id, question.message_id)
        assert ticked is not None
        assert [b.text for b in ticked.flat_buttons if b.text.startswith("✅")] == [
            "✅ Bowel changes",
            "✅ New symptoms in both legs",
        ]
        assert "▫️ None of these" in ticked.labels
        last = person.last_message()
        assert last is not None and last.message_id == question.message_id  # nothing new sent

        # "None of these" is exclusive: it clears the others.
        person.press("None of these", message_id=question.message_id)
        await person.wait_for_button("✅ None of these")
        ticked = bot.fake.message(person.chat_id, question.message_id)
        assert ticked is not None
        assert [b.text for b in ticked.flat_buttons if "✅" in b.text] == ["✅ None of these"]

        person.press("Done", message_id=question.message_id)
        await person.wait_for_text("How old are you")
        answered = bot.fake.message(person.chat_id, question.message_id)
        assert answered is not None
        assert answered.added_by_edits == "→ None of these"
        assert answered.buttons == []


async def test_severity_as_a_typed_number_and_a_grid(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(2103)
        await converse(person, PATHS["non_specific"][:2])
        question = await bot.question(person, "severity")
        rows = [[b.text for b in row] for row in question.buttons]
        assert rows == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]

        person.say("11")  # out of range: told so, and asked again
        await person.wait_for_text("whole number from 0 to 10")
        again = await bot.question(person, "severity")
        assert again.message_id > question.message_id
        first = bot.fake.message(person.chat_id, question.message_id)
        assert first is not None and first.callback_buttons == []  # only the newest copy is live

        person.say("7")
        await bot.question(person, "emergency_flags")
        answered = bot.fake.message(person.chat_id, again.message_id)
        assert answered is not None and answered.added_by_edits == "→ 7"
        session = await bot.session(person.chat_id)
        assert session is not None and session.answers["severity"] == 7


async def test_back_changes_the_last_answer(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(2104)
        await converse(person, [("location", "buttock"), ("radiation", "foot")])
        await bot.question(person, "severity")

        person.command("back")
        await bot.question(person, "radiation")
        await answer(person, "radiation", "none")
        await bot.question(person, "severity")

        session = await bot.session(person.chat_id)
        assert session is not None
        assert session.answers == {"location": "buttock", "radiation": "none"}
        assert session.history == ["location", "radiation"]
        live = [m for m in person.bot_messages() if m.callback_buttons]
        assert [step_of(m.callback_buttons[0]) for m in live] == ["severity"]


async def test_restart_begins_again_without_the_old_answers(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(2105)
        await converse(person, PATHS["non_specific"][:3])
        await bot.question(person, "emergency_flags")
        welcomes = len([t for t in person.texts() if t.startswith("Hello")])

        person.command("restart")
        await person.fake.wait_for(
            lambda: len([t for t in person.texts() if t.startswith("Hello")]) == welcomes + 1
        )
        await bot.question(person, "location")
        session = await bot.session(person.chat_id)
        assert session is not None and session.answers == {} and session.step == "location"


async def test_start_with_a_website_link_records_the_source(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        web, plain, odd = bot.fake.user(2106), bot.fake.user(2107), bot.fake.user(2108)
        await begin(web, "website")
        await begin(plain)
        await begin(odd, "not valid!")  # Telegram's rule: A-Z, a-z, 0-9, _ and - only
        for person in (web, plain, odd):
            await bot.question(person, "location")
        web.start()  # a plain /start later keeps where they came from
        await bot.quiet()

        async with bot.storage() as storage:
            stats = await storage.stats(since=0)
            state = await storage.load_chat(web.chat_id)
        assert stats.sources == {"website": 2, "direct": 2}
        assert state is not None and state.source == "website"
        session = await bot.session(odd.chat_id)
        assert session is not None and session.source is None


async def test_two_chats_at_once_keep_their_own_answers(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        first, second = bot.fake.user(2109), bot.fake.user(2110)
        await asyncio.gather(
            converse(first, PATHS["likely_piriformis"]),
            converse(second, PATHS["likely_nerve_root"]),
        )
        await wait_for_outcome(first, "likely_piriformis")
        await wait_for_outcome(second, "likely_nerve_root")
        one, two = await bot.session(first.chat_id), await bot.session(second.chat_id)
        assert one is not None and two is not None
        assert one.answers["radiation"] == "buttock_only"
        assert two.answers["radiation"] == "below_knee"
        assert re.search("piriformis", first.texts()[-1])
