"""The engine's yes/no questions over Telegram: two buttons side by side that work.

/back after the emergency advice asks "Was that answer a mistake?" first; taking it back is
counted anonymously for /stats and marked on a lead card sent afterwards. A doubtful mention of
a warning sign ("maybe a bit numb down there?") asks Yes or No before anything else.

The bot runs in-process against the fake Bot API server over real HTTP (tests/bot_inprocess.py).
"""

from __future__ import annotations

from pathlib import Path

from tests.bot_inprocess import RunningBot, running_bot
from tests.practice_bot import ADMIN, ADMINS, CONSENT, anonymous_events, messages_to
from tests.support import FakeUser
from tests.support.conversation import DOUBTFUL, OUTCOME_TEXT, PATHS, converse, wait_for_outcome

MISTAKE = "Was that answer a mistake?"
URGENT = OUTCOME_TEXT["emergency"]
# From the emergency flags on, a way to a booking outcome (answers in the order asked).
AFTERWARDS = [("emergency_flags", ["none"]), ("age", 35), ("doctor_flags", ["none"])]
AFTERWARDS += [("leg_symptoms", ["numbness_tingling"])]


def rows(person: FakeUser) -> list[list[str]]:
    message = person.fake.last_bot_message(person.chat_id, with_buttons=True)
    assert message is not None
    return [[b.callback_data or "" for b in row] for row in message.buttons]


async def at_emergency(bot: RunningBot, user_id: int) -> FakeUser:
    person = bot.fake.user(user_id)
    await converse(person, PATHS["emergency"])
    await wait_for_outcome(person, "emergency")
    return person


async def test_taking_back_an_emergency_answer_is_counted_and_marked_on_the_lead(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=ADMINS) as bot:
        person = await at_emergency(bot, 9301)
        person.command("back")
        asked = await person.wait_for_text(MISTAKE)
        assert rows(person) == [["1|k|emergency|yes", "1|k|emergency|no"]]  # side by side
        assert asked.labels == ["Yes, it was a mistake", "No, it was right"]

        person.press("Yes, it was a mistake")
        again = await bot.question(person, "emergency_flags")  # the answer is open again
        assert again.message_id > asked.message_id
        pressed = bot.fake.message(person.chat_id, asked.message_id)
        assert pressed is not None and pressed.buttons == []
        session = await bot.session(person.chat_id)
        assert session is not None and session.withdrawn and session.outcome is None

        await converse(person, AFTERWARDS, start=False)
        person.tap(await person.wait_for_button(CONSENT))
        (card,) = await bot.fake.wait_for(lambda: messages_to(bot, ADMIN), what="the card")
        assert "They took back an emergency answer" in (card.text or "")

        admin = bot.fake.user(ADMIN)
        admin.command("stats")
        stats = await admin.wait_for_text("Conversations in the last 7 days")
        assert "Emergency answers taken back as a mistake (/back): 1" in (stats.text or "")
    assert anonymous_events(bot.settings.database_path, "withdrawn") == [
        ("withdrawn", None, "emergency", None)  # no chat id, no answers
    ]


async def test_no_it_was_right_keeps_the_advice(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=ADMINS) as bot:
        person = await at_emergency(bot, 9302)
        person.command("back")
        await person.wait_for_text(MISTAKE)
        person.press("No, it was right")
        await person.wait_for_text("Please follow the advice above now")
        session = await bot.session(person.chat_id)
        async with bot.storage() as storage:
            stats = await storage.stats(since=0)
    assert session is not None and session.outcome == "emergency" and not session.withdrawn
    assert stats.withdrawn == 0


async def test_a_doubtful_mention_asks_yes_or_no_with_buttons_that_work(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        no, yes = bot.fake.user(9303), bot.fake.user(9304)
        for person in (no, yes):
            await converse(person, PATHS["non_specific"][:2])
            await bot.question(person, "severity")
            person.say(DOUBTFUL)
            await person.wait_for_text("Do you have numbness")
            assert rows(person) == [["1|k|severity|yes", "1|k|severity|no"]]

        no.press("^No$")
        await no.wait_for_text("Let's carry on where we were")
        await bot.question(no, "severity")
        yes.press("^Yes$")
        await yes.wait_for_text(URGENT)
        kept, urgent = await bot.session(no.chat_id), await bot.session(yes.chat_id)
    assert kept is not None and kept.step == "severity" and kept.pending is None
    assert urgent is not None and urgent.outcome == "emergency"
