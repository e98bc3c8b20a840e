"""`triage-bot run` with LOG_FORMAT=json: every line is one JSON object, and a whole
conversation at INFO leaves no line of the transitions library (which names each state a
person enters)."""

from __future__ import annotations

import json

import pytest

from tests.support import FakeBotApi
from tests.support.botprocess import BotProcesses
from tests.support.conversation import PATHS, converse, wait_for_outcome

pytestmark = pytest.mark.slow


async def test_json_lines_and_no_transitions_line_at_info(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    bot = await bots.start_polling(fake, LOG_LEVEL="INFO", LOG_FORMAT="json")
    person = fake.user(7101)
    await converse(person, PATHS["likely_piriformis"])
    await wait_for_outcome(person, "likely_piriformis")
    assert bot.stop() == 0

    lines = [line for line in bot.output().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert records, "the bot logged at INFO"
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record
    assert any(r["message"].startswith("Connected to the Bot API") for r in records)
    assert not [r for r in records if r["logger"].startswith("transitions")]
    assert "Finished processing state" not in bot.output()
    assert "piriformis" not in bot.output()  # the outcome a person reached
