"""Double taps, stale and forged buttons, and everything else people send: never a corrupted
session, never a crash, always a kind word and the current question again."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

import pytest

from bot.flow.ui import UI_DEFAULTS
from tests.support import FakeBotApi, FakeUser, updates
from tests.support.botprocess import BotProcesses
from tests.support.conversation import (
    PATHS,
    answer,
    begin,
    converse,
    wait_for_outcome,
    wait_for_question,
)
from tests.support.driver import step_of

pytestmark = pytest.mark.slow

PIRIFORMIS = PATHS["likely_piriformis"]
MOVED_ON = re.escape(UI_DEFAULTS["moved_on"]["en"])
BUTTOCK_REASON = r"the pain is deep in one buttock"


def moved_on_shown(fake: FakeBotApi, person: FakeUser) -> int:
    """Times the person was told the question has moved on (message or button answer)."""
    in_chat = sum(1 for m in person.bot_messages() if re.search(MOVED_ON, m.text or ""))
    in_answers = sum(
        1 for a in fake.answered_queries().values() if re.search(MOVED_ON, str(a.get("text", "")))
    )
    return in_chat + in_answers


def telegram_refusals(fake: FakeBotApi) -> list[str]:
    """400s other than harmless "not modified" ones: bad HTML, bad buttons, empty texts."""
    return [
        f"{c.method}: {c.description}"
        for c in fake.calls()
        if c.outcome == "400" and "not modified" not in c.description
    ]


async def test_double_tap_and_stale_buttons_never_corrupt_the_session(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    bot = await bots.start_polling(fake)
    person = fake.user(6001)
    await begin(person)
    await wait_for_question(person, "location")
    stale_location = person.find_button("tailbone")

    person.double_tap("Deep in one buttock")
    await fake.wait_for(lambda: not fake.unanswered_queries(), what="both taps answered")
    await fake.wait_for(lambda: moved_on_shown(fake, person), what="'moved on' for the 2nd tap")
    await wait_for_question(person, "radiation")
    await converse(person, PIRIFORMIS[1:3], start=False)  # radiation, severity
    await wait_for_question(person, "emergency_flags")

    told = moved_on_shown(fake, person)
    person.tap(stale_location)  # a button from three questions ago, still on the phone
    await fake.wait_for(lambda: moved_on_shown(fake, person) > told, what="'moved on'")
    await wait_for_question(person, "emergency_flags")
    await converse(person, PIRIFORMIS[3:], start=False)

    final = await wait_for_outcome(person, "likely_piriformis")
    assert re.search(BUTTOCK_REASON, final.text or ""), person.transcript()
    assert not fake.unanswered_queries()
    assert telegram_refusals(fake) == []
    assert bot.running()


async def test_after_a_double_tap_no_answered_question_keeps_its_buttons(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    await bots.start_polling(fake)
    person = fake.user(6006)
    await begin(person)
    await wait_for_question(person, "location")
    person.double_tap("Deep in one buttock")
    await fake.wait_for(lambda: moved_on_shown(fake, person), what="'moved on' for the 2nd tap")
    await wait_for_question(person, "radiation")
    await converse(person, PATHS["emergency"][1:], start=False)
    await wait_for_outcome(person, "emergency")

    live = [m.describe() for m in person.bot_messages() if m.callback_buttons]
    assert live == [], live


FORGED = [
    "1|c|location|no_such_option",
    "1|c|no_such_step|x",
    "1|n|severity|eleven",
    "1|n|severity|99",
    "1|d|location|",
    "9|c|severity|4",
    "not our format at all",
    "1|c|severity",
    "1|t|emergency_flags|none",
]


def answered(fake: FakeBotApi, query_id: str) -> bool:
    return query_id in fake.answered_queries()


async def test_forged_buttons_are_answered_and_change_nothing(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    await bots.start_polling(fake)
    person = fake.user(6002)
    await converse(person, PIRIFORMIS[:2])  # location buttock, radiation buttock_only
    await wait_for_question(person, "severity")
    question = person.find_button("^4$")

    for data in FORGED:
        query_id = person.press_data(data, message_id=question.message_id)["callback_query"]["id"]
        await fake.wait_for(
            partial(answered, fake, query_id),
            what=f"an answer to the forged {data!r}",
        )
    await wait_for_question(person, "severity")
    await converse(person, PIRIFORMIS[2:], start=False)

    final = await wait_for_outcome(person, "likely_piriformis")
    assert re.search(BUTTOCK_REASON, final.text or ""), person.transcript()
    assert telegram_refusals(fake) == []


GARBAGE: list[tuple[str, Callable[[FakeUser], object]]] = [
    ("sticker", lambda p: p.send_sticker()),
    ("photo", lambda p: p.send_photo("my MRI <b>scan</b>")),
    ("voice", lambda p: p.send_voice()),
    ("location", lambda p: p.send_location()),
    ("document", lambda p: p.send_document()),
    ("contact", lambda p: p.send_contact()),
    ("dice", lambda p: p.send_dice()),
    ("very long text", lambda p: p.say(updates.very_long_text())),
    ("edited message", lambda p: p.edit(p.sent[0], "/start but edited")),
    ("unknown command", lambda p: p.command("frobnicate", "now")),
    *[(f"text {t!r}", lambda p, t=t: p.say(t)) for t in updates.GARBAGE_TEXTS],
]


def replied_and_asked_again(person: FakeUser, before: int, step: str) -> bool:
    """A new message came, and the newest buttons are the current question's."""
    return len(person.bot_messages()) > before and any(
        step_of(b) == step for b in person.keyboard()
    )


async def test_garbage_of_every_kind_gets_a_reply_and_the_conversation_goes_on(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    bot = await bots.start_polling(fake)
    person = fake.user(6003)
    await converse(person, PIRIFORMIS[:2])
    await wait_for_question(person, "severity")

    for name, send in GARBAGE:
        before = len(person.bot_messages())
        send(person)
        # A reply, and the current question on screen again (its buttons on the newest one).
        await fake.wait_for(
            partial(replied_and_asked_again, person, before, "severity"),
            what=f"a reply to the {name}",
        )

    await answer(person, "severity", 4)
    await converse(person, PIRIFORMIS[3:], start=False)
    final = await wait_for_outcome(person, "likely_piriformis")
    assert re.search(BUTTOCK_REASON, final.text or ""), person.transcript()
    assert telegram_refusals(fake) == []
    assert bot.running()


async def test_groups_and_channels_get_a_private_chat_button_never_the_questions(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    await bots.start_polling(fake)
    member = fake.user(6004, chat=updates.group_chat(-400123))
    member.start()
    await fake.wait_for(lambda: fake.bot_messages(-400123), what="the group reply")
    member.say("I have sciatica, can you help?")
    channel = updates.channel_chat(-1009001)
    fake.enqueue(updates.channel_post(channel, fake.next_message_id(-1009001), "/start"))
    person = fake.user(6005)  # a private chat after them shows the bot is still fine
    await begin(person)
    await wait_for_question(person, "location")

    replies = fake.bot_messages(-400123) + fake.bot_messages(-1009001)
    assert replies, "the group gets a pointer to the private chat"
    assert all(not m.callback_buttons for m in replies), "no questionnaire in groups"
    links = [b.url or "" for m in replies for b in m.flat_buttons]
    assert links and all(f"t.me/{fake.username}" in link for link in links), links
    assert telegram_refusals(fake) == []
