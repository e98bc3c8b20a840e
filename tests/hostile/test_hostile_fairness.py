"""One person's burst does not hold up anyone else, and each person's order is kept.

In polling mode the next batch used to be fetched only when every chat of the current batch
was done: another person waited 17.5 s behind one person's 100 taps. Now fetching goes on
while a chat is busy, each chat is served by its own worker, and a chat's backlog is bounded:
taps beyond it are dropped with one polite note (and recorded as processed, so the offset may
pass them). The offset never passes an update that is not in the database.

The real bot (in-process, our polling loop) against the fake Bot API over HTTP; bursts are
queued at Telegram before the bot starts, so the first getUpdates sees them whole.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.telegram.polling import MAX_BACKLOG
from tests.bot_inprocess import RunningBot, running_bot
from tests.support import FakeBotApi, FakeUser
from tests.support.conversation import OUTCOME_TEXT, PATHS, begin
from tests.support.records import JSON

CHOOSE = "Please choose one of the options below."
SLOW_DOWN = "I skipped the messages you sent after them"
MOVED_ON = "That question has moved on"
BURST = 100


def answered(person: FakeUser, text: str) -> int:
    return sum(1 for t in person.texts() if text in t)


def processed_ids(database: Path) -> set[int]:
    with sqlite3.connect(database) as conn:
        return {row[0] for row in conn.execute("SELECT update_id FROM processed_updates")}


def confirmed_only_if_recorded(bot: RunningBot, sent: list[JSON]) -> None:
    confirmed = bot.fake.confirmed_offset
    done = processed_ids(bot.settings.database_path)
    for update in sent:
        assert update["update_id"] >= confirmed or update["update_id"] in done, update


async def test_another_person_is_answered_without_waiting_for_a_burst(tmp_path: Path) -> None:
    with FakeBotApi() as fake:
        tapper, other = fake.user(6101), fake.user(6102)
        async with running_bot(tmp_path, fake=fake) as bot:
            for person in (tapper, other):  # both agree first: the burst is health answers
                await begin(person)
                await bot.question(person, "location")
            sent = [tapper.say("hello") for _ in range(BURST)]
            sent.append(other.press_option("buttock", step="location"))
            await bot.question(other, "radiation")
            # The other person was answered while most of the burst still waited.
            assert answered(tapper, CHOOSE) < MAX_BACKLOG, tapper.transcript()
            for _ in range(200):  # bounded: the backlog drains in far fewer looks
                confirmed_only_if_recorded(bot, sent)
                if not fake.pending_updates():
                    break
                await asyncio.sleep(0.05)
            await bot.quiet()
            confirmed_only_if_recorded(bot, sent)

        notes = answered(tapper, SLOW_DOWN)
        applied = answered(tapper, CHOOSE)
        assert notes == 1, tapper.transcript()
        assert MAX_BACKLOG - 1 <= applied <= MAX_BACKLOG + 5, applied  # the rest were dropped
        assert {u["update_id"] for u in sent} <= processed_ids(bot.settings.database_path)
        assert tapper.keyboard(), "the person can carry on: the question is still on screen"


LONG_BURST = 300  # three of Telegram's batches of 100


def replies_before(fake: FakeBotApi, since: int, tapper: FakeUser, other: FakeUser) -> int:
    """How many of the tapper's taps the bot had answered ("please choose", each followed by
    the question again), from call ``since`` on, before its first message to the other."""
    count = 0
    for call in fake.calls("sendMessage")[since:]:
        if call.chat_id == other.chat_id:
            return count
        count += call.chat_id == tapper.chat_id and CHOOSE in str(call.params.get("text"))
    raise AssertionError("the other person got no message")


async def test_a_burst_longer_than_a_batch_is_bounded_and_delays_nobody_long(
    tmp_path: Path,
) -> None:
    """Telegram hands out 100 updates a time, from the oldest not confirmed, and the offset
    stays at the tapper's oldest unfinished tap: each new batch used to refill their backlog
    (42-60 replies for 300 taps), and the other person waited behind all of them. Once the
    backlog overflowed, the rest of the burst is dropped, across batches: the tapper gets at
    most MAX_BACKLOG replies and one note, and the other person is answered as soon as the
    tapper's bounded backlog (all the offset waits for) is done."""
    with FakeBotApi() as fake:
        tapper, other = fake.user(6301), fake.user(6302)
        async with running_bot(tmp_path, fake=fake) as bot:
            for person in (tapper, other):
                await begin(person)
                await bot.question(person, "location")
            await bot.quiet()
            since = len(fake.calls("sendMessage"))
            with fake.at_once():  # the first batch is a whole one: the burst's first 100
                sent = [tapper.say("hello") for _ in range(LONG_BURST)]
                sent.append(other.press_option("buttock", step="location"))
            await bot.question(other, "radiation")
            for _ in range(400):  # bounded: the burst is recorded in far fewer looks
                confirmed_only_if_recorded(bot, sent)
                if not fake.pending_updates():
                    break
                await asyncio.sleep(0.05)
            await bot.quiet()
            confirmed_only_if_recorded(bot, sent)

        assert replies_before(fake, since, tapper, other) <= MAX_BACKLOG
        assert answered(tapper, SLOW_DOWN) == 1, tapper.transcript()
        assert MAX_BACKLOG - 1 <= answered(tapper, CHOOSE) <= MAX_BACKLOG, tapper.transcript()
        assert {u["update_id"] for u in sent} <= processed_ids(bot.settings.database_path)
        assert tapper.keyboard(), "the person can carry on: the question is still on screen"


async def test_a_person_typing_at_an_ordinary_pace_is_never_dropped(tmp_path: Path) -> None:
    """The bound is on what waits: more than MAX_BACKLOG messages over a conversation, each
    sent as soon as the answer to the one before arrives, are all answered."""
    with FakeBotApi() as fake:
        person = fake.user(6401)
        async with running_bot(tmp_path, fake=fake) as bot:
            await begin(person)
            await bot.question(person, "location")
            for count in range(1, MAX_BACKLOG + 6):
                person.say("hello")
                await fake.wait_for(lambda: answered(person, CHOOSE) >= count, 10, "a reply")  # noqa: B023
            await bot.quiet()
        assert answered(person, CHOOSE) == MAX_BACKLOG + 5 and not answered(person, SLOW_DOWN)


async def test_bursts_from_several_people_keep_each_persons_order(tmp_path: Path) -> None:
    """Five people each type a whole conversation in one burst, interleaved: each burst is
    applied in order (any other order would get "please choose" or "moved on" notices)."""
    path = PATHS["likely_piriformis"]
    with FakeBotApi() as fake:
        people = [fake.user(6200 + n) for n in range(5)]
        async with running_bot(tmp_path, fake=fake) as bot:
            for person in people:
                await begin(person)
            for _step, value in path:
                for person in people:
                    for text in typed(value):
                        person.say(text)
            for person in people:
                await person.wait_for_text(OUTCOME_TEXT["likely_piriformis"], timeout=20)
            await bot.quiet()
    for person in people:
        assert not answered(person, CHOOSE) and not answered(person, MOVED_ON), person.transcript()
        assert not answered(person, SLOW_DOWN)


def typed(value: str | int | list[str]) -> list[str]:
    """An answer typed instead of tapped: an option's id, a number, or ticks then "Done"."""
    if isinstance(value, list):
        return [*value, "done"]
    return [str(value)]
