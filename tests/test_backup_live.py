"""A backup taken while the bot is busy holds everything committed before it began, and a
restore of it puts every conversation back where it was.

The bot runs in-process against the fake Bot API over real HTTP with a real SQLite file; 12
people walk through the flow at once, and the backup is taken (SQLite's online backup, on a
worker thread, as the daily job and ``triage-bot backup`` do) in the middle of that burst.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.engine import Session
from bot.ops.backup import backups_in, restore, take_backup
from tests.bot_inprocess import USERNAME, running_bot
from tests.support import FakeBotApi
from tests.support.conversation import (
    OUTCOME_TEXT,
    PATHS,
    converse,
    wait_for_outcome,
    wait_for_question,
)
from tests.support.records import ChatMessage

PEOPLE = 12  # two for each outcome: a burst, and every path
OUTCOMES = sorted(PATHS)
SINGLE_CHOICE = {"location", "radiation", "severity", "first_episode", "worse_sitting"}


@dataclass
class Committed:
    """What a database holds: the processed update ids, and each chat's session."""

    update_ids: set[int]
    sessions: dict[int, tuple[float, str | None]]  # chat id -> (updated_at, session json)


def committed(path: Path) -> Committed:
    conn = sqlite3.connect(path)
    try:
        conn.execute("BEGIN")  # one snapshot for both reads
        ids = {row[0] for row in conn.execute("SELECT update_id FROM processed_updates")}
        rows = conn.execute("SELECT chat_id, updated_at, session_json FROM chats")
        sessions = {chat: (at, text) for chat, at, text in rows}
        conn.execute("COMMIT")
    finally:
        conn.close()
    return Committed(ids, sessions)


def reached(messages: list[ChatMessage], outcome: str) -> bool:
    return any(m.text and re.search(OUTCOME_TEXT[outcome], m.text) for m in messages)


def path_of(number: int) -> str:
    return OUTCOMES[number % len(OUTCOMES)]


@pytest.mark.long  # 14 s: scripts/test-long, run by .ci/run
async def test_a_backup_mid_burst_then_a_restore_resumes_conversations(tmp_path: Path) -> None:
    database = tmp_path / "triage.db"
    backups = tmp_path / "backups"
    with FakeBotApi(username=USERNAME) as fake:
        async with running_bot(tmp_path, fake=fake, BACKUP_DIR=str(backups)) as bot:
            # The daily job found no earlier run, so it backed up at start.
            await fake.wait_for(lambda: backups_in(backups), 10, "the first daily backup")
            people = [fake.user(30_000 + n) for n in range(PEOPLE)]
            walks = [
                asyncio.create_task(converse(person, PATHS[path_of(n)], timeout=60))
                for n, person in enumerate(people)
            ]
            # about three answers each: most people are at one of the first button questions
            await fake.wait_for(lambda: len(committed(database).update_ids) >= 3 * PEOPLE, 60,
                                "three updates a person committed")  # fmt: skip
            before = await asyncio.to_thread(committed, database)
            mid = await asyncio.to_thread(take_backup, database, tmp_path / "mid-burst.db")
            await asyncio.gather(*walks)
            for n, person in enumerate(people):
                await wait_for_outcome(person, path_of(n), timeout=30)
            await bot.quiet()
        final = committed(database)

        saved = committed(mid.path)
        # Everything committed before the backup began is in it, and nothing else is invented.
        assert before.update_ids <= saved.update_ids <= final.update_ids
        assert len(saved.update_ids) < len(final.update_ids), "taken in the middle of the burst"
        for chat, (at, text) in before.sessions.items():
            saved_at, saved_text = saved.sessions[chat]
            assert saved_at >= at and (saved_at > at or saved_text == text), chat

        # Which conversations were halfway at a button question in the backup?
        halfway = {}
        for n, person in enumerate(people):
            text = saved.sessions.get(person.chat_id, (0.0, None))[1]
            session = Session.from_json(text) if text else None
            if session and not session.finished and session.step in SINGLE_CHOICE:
                halfway[n] = session
        assert halfway, "some conversations were halfway when the backup was taken"

        restored = restore(mid.path, database)  # the bot is stopped: the lock is free
        assert restored.replaced is not None
        assert committed(database).update_ids == saved.update_ids

        async with running_bot(tmp_path, fake=fake) as bot:
            for n, session in list(halfway.items())[:5]:
                person = people[n]
                mark = len(fake.bot_messages(person.chat_id))  # the chat shows the old ending
                person.say("hello?")  # where was I? The question of the backup's step comes back
                await wait_for_question(person, session.step, timeout=20)
                path = PATHS[path_of(n)]
                rest = path[[step for step, _ in path].index(session.step) :]
                await converse(person, rest, start=False, timeout=20)
                await fake.wait_for(
                    lambda: reached(fake.bot_messages(person.chat_id)[mark:], path_of(n)),  # noqa: B023
                    20, "the outcome again",
                )  # fmt: skip
                after = await bot.session(person.chat_id)
                assert after is not None and after.outcome == path_of(n)
                # every answer the backup held is still the person's answer (a conversation
                # caught at its first question held none yet)
                assert all(after.answers.get(k) == v for k, v in session.answers.items())
