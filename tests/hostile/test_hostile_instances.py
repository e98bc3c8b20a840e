"""Two bots on one database: the second refuses to start, the first carries on unharmed.

Two ``triage-bot run`` processes on one SQLite file used to both start and then break each
other's conversations (each keeps a cache of the chats it wrote, each polls, each sends).
The database has an exclusive lock beside it (``<db>.lock``, ``fcntl.flock``) held for as long
as the bot runs: a second bot finds it taken and stops with one sentence.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.run import serve
from bot.telegram.runtime import StartupError
from tests.bot_inprocess import running_bot
from tests.support import FakeBotApi
from tests.support.botprocess import bot_processes
from tests.support.conversation import begin

LOCK_SENTENCE = r"already running on .*triage\.db"


async def test_a_second_bot_on_the_same_database_refuses_and_the_first_carries_on(
    tmp_path: Path,
) -> None:
    fake = FakeBotApi().start()
    try:
        await first_and_second(tmp_path, fake)
    finally:
        fake.stop()


async def first_and_second(tmp_path: Path, fake: FakeBotApi) -> None:
    async with running_bot(tmp_path, fake=fake) as bot:
        person = fake.user(4101)
        await begin(person)
        await bot.question(person, "location")

        with pytest.raises(StartupError, match=LOCK_SENTENCE) as refused:
            await asyncio.wait_for(serve(bot.settings), timeout=20)
        assert "\n" not in str(refused.value)
        assert (tmp_path / "triage.db.lock").exists()

        person.press_option("buttock")
        await bot.question(person, "radiation")  # the first bot is unharmed
    # Stopped: the lock is free again, and a bot starts on the same database.
    async with running_bot(tmp_path, fake=fake) as again:
        person.say("hello")  # a later update of the same Telegram
        await again.question(person, "radiation")


@pytest.mark.slow
def test_two_bot_processes_on_one_database_the_second_exits_with_one_sentence(
    tmp_path: Path,
) -> None:
    with FakeBotApi() as fake, bot_processes(tmp_path, fake.base_url) as bots:
        first = bots.start()
        fake.wait_for_sync(lambda: fake.calls("getUpdates"), 20, "the first bot to poll")
        second = bots.start()
        code = second.wait_exit(timeout=30)
        output = second.output()
        assert code == 1, output
        assert "Traceback" not in output, output
        said = [line for line in output.splitlines() if line.startswith("triage-bot:")]
        assert len(said) == 1 and "already running on" in said[0], output
        assert first.running(), first.output()
        person = fake.user(4102)
        person.start()
        person.wait_for_button_sync("agree and start", timeout=20)
        person.press("agree and start")
        person.wait_for_button_sync("buttock", timeout=20)
