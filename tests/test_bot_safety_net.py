"""Every way words reach the bot goes through the safety net, end to end over the fake Bot API.

A warning sign typed as the first message of a chat with nothing stored (a new person, after
/forget, after the retention purge), after a flow edit reset the conversation, after an
outcome, in an edited message, in a photo's or document's caption, or after /start, gets the
emergency advice. (During and after a check-in: tests/test_practice_followups.py.)

The bot runs in-process against the fake Bot API server over real HTTP, with a real SQLite file
(tests/bot_inprocess.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.engine import Session
from bot.storage import Storage
from tests.bot_inprocess import USERNAME, RunningBot, running_bot
from tests.practice_bot import ADMIN, ADMINS, editable_flow
from tests.support import FakeBotApi, FakeUser
from tests.support.conversation import (
    OUTCOME_TEXT,
    PATHS,
    WARNING,
    begin,
    converse,
    wait_for_outcome,
)
from tests.support.storage import commit

URGENT = OUTCOME_TEXT["emergency"]
DAY = 86400.0


async def at_severity(bot: RunningBot, user_id: int) -> FakeUser:
    """A person who agreed and answered location and radiation."""
    person = bot.fake.user(user_id)
    await converse(person, PATHS["non_specific"][:2])
    await bot.question(person, "severity")
    return person


async def advised_urgently(bot: RunningBot, person: FakeUser) -> None:
    """The emergency advice, with no booking button, is the newest message."""
    advice = await person.wait_for_text(URGENT)
    assert advice.flat_buttons == [], person.transcript()
    await bot.quiet()
    last = person.last_message()
    assert last is not None and last.message_id == advice.message_id, person.transcript()


async def emergency_stored(bot: RunningBot, chat_id: int) -> bool:
    session = await bot.session(chat_id)
    return session is not None and session.outcome == "emergency"


# --- a chat with nothing stored ------------------------------------------------------------------


async def test_a_new_person_after_forget_gets_the_advice_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as bot:
        person = await at_severity(bot, 9101)
        person.command("forget")
        ask = await person.wait_for_text("Delete everything we store")
        person.press("Yes, delete everything", message_id=ask.message_id)
        await person.wait_for_text("everything we stored about you is deleted")

        person.say(WARNING)
        await advised_urgently(bot, person)
        assert await bot.session(person.chat_id) is None


async def test_after_the_retention_purge_the_first_message_is_screened(tmp_path: Path) -> None:
    database = tmp_path / "triage.db"
    aged = Session("sciatica", "1", "severity", "en", answers={"location": "buttock"})
    async with await Storage.open(database) as storage:  # agreed and answered 40 days ago
        await commit(
            storage,
            update_id=None,
            chat_id=9102,
            session_json=aged.to_json(),
            consented_at=time.time() - 40 * DAY,
            now=time.time() - 40 * DAY,
        )
    async with running_bot(tmp_path, RETENTION_DAYS="30") as bot:  # purged at start
        assert await bot.session(9102) is None
        person = bot.fake.user(9102)
        person.say(WARNING)
        await advised_urgently(bot, person)
        assert await bot.session(person.chat_id) is None  # nothing kept: no consent any more


# --- a conversation under way ---------------------------------------------------------------------


async def test_a_conversation_reset_by_a_flow_edit_is_screened_first(tmp_path: Path) -> None:
    flow = editable_flow(tmp_path)
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=ADMINS, FLOW_FILE=str(flow)) as bot:
        person = await at_severity(bot, 9103)
        # A new flow under the same file: every stored conversation starts again.
        text = flow.read_text(encoding="utf-8").replace("flow: sciatica\n", "flow: sciatica2\n")
        flow.write_text(text, encoding="utf-8")
        admin = bot.fake.user(ADMIN)
        admin.command("reload")
        await admin.wait_for_text("Flow updated")

        person.say(WARNING)
        await advised_urgently(bot, person)
        assert not person.has_text("We have updated our questions")
        session = await bot.session(person.chat_id)
    assert session is not None and session.flow_id == "sciatica2"
    assert session.outcome == "emergency"


async def test_after_an_outcome_a_warning_still_gets_the_advice(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(9104)
        await converse(person, PATHS["non_specific"])
        await wait_for_outcome(person, "non_specific")
        person.say(WARNING)
        await advised_urgently(bot, person)
        assert await emergency_stored(bot, person.chat_id)


async def test_an_edited_message_is_screened(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = await at_severity(bot, 9105)
        said = person.say("it is bad")
        await person.wait_for_text("whole number from 0 to 10")
        person.edit(said, WARNING)
        await advised_urgently(bot, person)
        assert await emergency_stored(bot, person.chat_id)


SENDS: dict[str, Callable[[FakeUser, str], object]] = {
    "photo": lambda person, caption: person.send_photo(caption),
    "document": lambda person, caption: person.send_document(caption),
}


@pytest.mark.parametrize("kind", sorted(SENDS))
async def test_a_caption_is_screened_as_typed_text(tmp_path: Path, kind: str) -> None:
    async with running_bot(tmp_path) as bot:
        person = await at_severity(bot, 9106)
        SENDS[kind](person, WARNING)
        await advised_urgently(bot, person)
        assert await emergency_stored(bot, person.chat_id)
        assert not person.has_text("I can only read text")


async def test_a_caption_is_read_like_any_typed_answer(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = await at_severity(bot, 9107)
        person.send_photo("4")
        await bot.question(person, "emergency_flags")
        session = await bot.session(person.chat_id)
    assert session is not None and session.answers["severity"] == 4


# --- /start with words ----------------------------------------------------------------------------


async def test_start_with_words_that_are_a_warning_gets_the_advice(tmp_path: Path) -> None:
    with FakeBotApi(username=USERNAME) as fake:
        async with running_bot(tmp_path, fake=fake) as bot:
            stranger = bot.fake.user(9108)  # nothing stored, no consent yet
            stranger.start(WARNING)
            await advised_urgently(bot, stranger)
            assert await bot.session(stranger.chat_id) is None

            person = await at_severity(bot, 9109)  # mid-conversation
            person.start(WARNING)
            await advised_urgently(bot, person)
            assert await emergency_stored(bot, person.chat_id)

            linked = bot.fake.user(9110)  # a real deep link is still a source
            await begin(linked, "website")
            await bot.question(linked, "location")
            session = await bot.session(linked.chat_id)
    assert session is not None and session.source == "website"
