"""Helpers for the practice tests (tests/test_practice_*.py): admins, a person at a booking
outcome, a flow file the test may edit, and a look at the anonymous events.

The bot runs in-process against the fake Bot API server over real HTTP (tests/bot_inprocess.py),
with a real SQLite file in tmp_path.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

from tests.bot_inprocess import FLOW, RunningBot
from tests.support import FakeUser
from tests.support.conversation import PATHS, begin, converse, wait_for_outcome
from tests.support.records import ChatMessage

ADMIN = 9001
OTHER_ADMIN = 9002
ADMINS = f"{ADMIN},{OTHER_ADMIN}"
BOOKING_OUTCOME = "likely_piriformis"

CONSENT = "Send my answers to the therapist"
CHECKIN = r"Check in with me in 3 days"
CONSENT_SENT = "are now with the therapist"
CHECKIN_QUESTION = "How is your pain now"


async def at_booking_outcome(
    bot: RunningBot, user_id: int, *, source: str = "website", **person: Any
) -> tuple[FakeUser, ChatMessage]:
    """A person who came from ``source`` and reached the piriformis outcome (booking)."""
    someone = bot.fake.user(user_id, **person)
    await begin(someone, source)
    await converse(someone, PATHS[BOOKING_OUTCOME], start=False)
    final = await wait_for_outcome(someone, BOOKING_OUTCOME)
    return someone, final


def editable_flow(tmp_path: Path) -> Path:
    """A copy of the default flow that the test may edit while the bot runs."""
    path = tmp_path / "flow.yaml"
    shutil.copyfile(FLOW, path)
    return path


def line_of(text: str, needle: str) -> int:
    """The 1-based line number of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in the text")


def anonymous_events(database: Path, kind: str) -> list[tuple[Any, ...]]:
    """Rows of the events table of one kind (read with sqlite3, beside the running bot)."""
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT kind, step, outcome, source FROM events WHERE kind = ? ORDER BY id", (kind,)
        ).fetchall()


def messages_to(bot: RunningBot, chat_id: int) -> list[ChatMessage]:
    return bot.fake.bot_messages(chat_id)
