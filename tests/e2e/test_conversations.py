"""Whole conversations with `triage-bot run` over real HTTP: every outcome, many chats at once."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.bot_inprocess import running_bot
from tests.support import FakeBotApi, FakeUser
from tests.support.botprocess import BOOKING_URL, BotProcesses
from tests.support.conversation import OUTCOME_TEXT, PATHS, converse, wait_for_outcome

BOOKING_OUTCOMES = {"likely_nerve_root", "likely_piriformis", "likely_sacroiliac", "non_specific"}

EMERGENCY_FLAGS = ["saddle_numbness", "bladder_change", "bowel_change", "both_legs"]
# The reason text the emergency outcome shows for each flag (flows/sciatica.yaml reasons).
FLAG_REASON = {
    "saddle_numbness": r"numbness, tingling or an odd feeling between your legs",
    "bladder_change": r"new trouble peeing",
    "bowel_change": r"new trouble controlling your bowels",
    "both_legs": r"in both legs",
}
LOCATIONS = {
    "buttock": "Deep in one buttock",
    "low_back_near_dimples": "Beside a buttock dimple",
    "tailbone": "On the tailbone",
    "low_back_central": "Across the lower back",
    "hip_side": "Outside of the hip",
    "other": "Somewhere else",
}


def outcome_texts_in(person: FakeUser) -> set[str]:
    return {
        outcome
        for outcome, pattern in OUTCOME_TEXT.items()
        if any(re.search(pattern, text) for text in person.texts())
    }


@pytest.mark.slow
async def test_every_outcome_in_its_own_chat_at_once(fake: FakeBotApi, bots: BotProcesses) -> None:
    await bots.start_polling(fake)
    people = {outcome: fake.user(3000 + i) for i, outcome in enumerate(PATHS)}

    await asyncio.gather(*(converse(people[o], PATHS[o]) for o in PATHS))

    for outcome, person in people.items():
        final = await wait_for_outcome(person, outcome)
        assert outcome_texts_in(person) == {outcome}, person.transcript()
        links = [b.url for b in final.flat_buttons if b.url]
        assert links == ([BOOKING_URL] if outcome in BOOKING_OUTCOMES else []), outcome
        # Every answered question lost its buttons and shows the answer: a readable chat.
        questions = [m for m in person.bot_messages() if m.message_id < final.message_id]
        assert all(not m.callback_buttons for m in questions), person.transcript()
    answers = [m.added_by_edits for m in people["likely_piriformis"].bot_messages()]
    assert any(LOCATIONS["buttock"] in a for a in answers), answers
    assert not fake.unanswered_queries(), "every button press gets an answer (no spinner)"


@pytest.mark.slow
@pytest.mark.long  # 10 s: scripts/test-long, run by .ci/run
async def test_fifty_chats_at_once_keep_their_own_answers(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    await bots.start_polling(fake)
    people = [fake.user(5000 + i, first_name=f"P{i}") for i in range(50)]
    locations = list(LOCATIONS)

    def path(i: int) -> list[tuple[str, str | int | list[str]]]:
        return [
            ("location", locations[i % len(locations)]),
            ("radiation", "none"),
            ("severity", i % 11),
            ("emergency_flags", [EMERGENCY_FLAGS[i % len(EMERGENCY_FLAGS)]]),
        ]

    await asyncio.gather(*(converse(p, path(i), timeout=60) for i, p in enumerate(people)))

    for i, person in enumerate(people):
        final = await wait_for_outcome(person, "emergency", timeout=60)
        own_flag = EMERGENCY_FLAGS[i % len(EMERGENCY_FLAGS)]
        assert re.search(FLAG_REASON[own_flag], final.text or ""), person.transcript()
        others = [f for f in EMERGENCY_FLAGS if f != own_flag]
        assert not any(re.search(FLAG_REASON[f], final.text or "") for f in others)
        own_location = LOCATIONS[locations[i % len(locations)]]
        edits = [m.added_by_edits for m in person.bot_messages() if m.added_by_edits]
        answered = [a for a in edits if a != "→ Agree and start"]  # the flow's questions
        assert [a for a in answered if a.endswith(tuple(LOCATIONS.values()))] == [answered[0]], (
            person.transcript()
        )
        assert answered[0].endswith(own_location), person.transcript()
    assert not fake.unanswered_queries()


# The outbox sends with Bot.do_api_request on purpose (bot/telegram/outbox.py filters this
# warning at import; pytest resets warning filters for each test).
@pytest.mark.filterwarnings("ignore:Please use 'Bot:telegram.warnings.PTBUserWarning")
async def test_every_outcome_in_process(fake: FakeBotApi, tmp_path: Path) -> None:
    """The same application (bot.app.build_application, via the runner) in the test's loop."""
    async with running_bot(tmp_path, fake=fake):
        people = {outcome: fake.user(3100 + i) for i, outcome in enumerate(PATHS)}
        await asyncio.gather(*(converse(people[o], PATHS[o]) for o in PATHS))
        for outcome, person in people.items():
            await wait_for_outcome(person, outcome)
            assert outcome_texts_in(person) == {outcome}, person.transcript()
