"""/stats cannot be flooded, and its check-in scores cannot be forged.

* Anyone can invent /start payloads: 80 of them pushed the /stats text past Telegram's 4,096
  characters, so the therapist got nothing. Now the top 8 sources are listed and the rest
  summed as "other".
* A check-in answer is a button ``x|pain|<follow-up id>|<score>``: anyone could press a
  forged one and record a score. Now it counts only for the check-in actually sent to that
  chat, while it is still open, once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.charts import format_stats_text
from bot.storage import Stats
from bot.telegram.practice import followups
from tests.bot_inprocess import running_bot
from tests.practice_bot import ADMIN, CHECKIN_QUESTION, anonymous_events
from tests.support.conversation import begin, wait_for_question
from tests.support.storage import schedule_followup

TOP = 8
MAX_TEXT = 4096


def test_stats_list_the_top_sources_and_sum_the_rest() -> None:
    sources = {f"{'s' * 60}{n:04d}": 100 - n for n in range(80)}
    stats = Stats(since=0, started=sum(sources.values()), completed=0, sources=sources)
    text = format_stats_text(stats, 7)
    listed = [line for line in text.splitlines() if line.startswith("  ") and "s" * 60 in line]
    assert len(listed) == TOP
    assert listed[0].endswith(": 100") and listed[-1].endswith(": 93")  # most first
    rest = sum(100 - n for n in range(TOP, 80))
    assert f"  other (72 sources): {rest}" in text.splitlines()
    assert len(text) < MAX_TEXT


def test_a_few_sources_are_listed_as_they_are() -> None:
    stats = Stats(since=0, started=3, completed=0, sources={"website": 2, "direct": 1})
    assert "  website: 2\n  direct: 1" in format_stats_text(stats, 7)
    assert "other" not in format_stats_text(stats, 7)


@pytest.mark.long  # 8 s: scripts/test-long, run by .ci/run
async def test_eighty_invented_sources_still_give_the_therapist_their_stats(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        people = [bot.fake.user(20_000 + n) for n in range(80)]
        await asyncio.gather(  # 64 characters each; a conversation starts on agreeing
            *(begin(person, f"{'x' * 60}{n:04d}", timeout=30) for n, person in enumerate(people))
        )
        await bot.quiet()
        admin = bot.fake.user(ADMIN)
        admin.command("stats")
        report = await admin.wait_for_text("Conversations in the last 7 days")
    text = report.text or ""
    assert "other (72 sources): 72" in text and len(text) < MAX_TEXT


async def test_a_checkin_answer_counts_only_for_the_chats_open_checkin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(followups, "POLL_SECONDS", 0.05)
    async with running_bot(tmp_path) as bot:
        asked, stranger = bot.fake.user(7301), bot.fake.user(7302)
        for person in (asked, stranger):
            await begin(person)
            await wait_for_question(person, "location")
        async with bot.storage() as storage:
            followup_id = await schedule_followup(storage, asked.chat_id, time.time() - 60)
        question = await asked.wait_for_text(CHECKIN_QUESTION)
        on_screen = stranger.last_message()
        assert on_screen is not None

        # Forged: a check-in nobody sent, and someone else's.
        for data in (f"x|pain|{followup_id + 1}|9", f"x|pain|{followup_id}|9"):
            stranger.press_data(data, message_id=on_screen.message_id)
        await bot.quiet()
        assert not anonymous_events(bot.settings.database_path, followups.PAIN_EVENT)
        assert len([t for t in stranger.texts() if "has moved on" in t]) == 2

        # The real answer counts once; pressing again later does not count again.
        asked.press("^3$", message_id=question.message_id)
        await asked.wait_for_text("we hope it keeps easing")
        asked.press_data(f"x|pain|{followup_id}|10", message_id=question.message_id)
        await bot.quiet()
        events = anonymous_events(bot.settings.database_path, followups.PAIN_EVENT)
    assert events == [(followups.PAIN_EVENT, None, "3", None)]
