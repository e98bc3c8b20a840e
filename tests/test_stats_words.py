"""/stats for the owner: the flow's own words in the admin's language, drop-off counted only
for conversations idle over a day, the check-ins' pain scores (first and later)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.charts import distinct
from bot.engine import Engine
from bot.flow import load_compiled
from bot.storage import PAIN_EVENT, Event, PainScores, Storage
from bot.telegram.practice.admin import stats_words
from bot.telegram.practice.followups import first_score
from tests.bot_inprocess import running_bot
from tests.practice_bot import ADMIN, BOOKING_OUTCOME, at_booking_outcome
from tests.support.storage import commit

ROOT = Path(__file__).resolve().parents[1]
NOW = 1_800_000_000.0
DAY = 86_400.0


def session(step: str, outcome: str | None = None) -> str:
    return json.dumps(
        {"flow": "f", "version": "1", "step": step, "lang": "en", "answers": {},
         "history": [], "outcome": outcome}
    )  # fmt: skip


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(tmp_path / "triage.db")
    yield store
    await store.close()


async def test_idle_counts_only_conversations_untouched_for_the_time_asked(
    storage: Storage,
) -> None:
    chats = [
        (1, "age", None, NOW - 3 * DAY),  # stopped at age three days ago: a drop-off
        (2, "age", None, NOW - 2 * DAY),
        (3, "location", None, NOW - 2 * DAY),
        (4, "age", None, NOW - 3600),  # still answering, an hour ago: not yet
        (5, "see_doctor_soon", "see_doctor_soon", NOW - 3 * DAY),  # finished: not a drop-off
        (6, "age", None, NOW - 40 * DAY),  # before the period
    ]
    for chat_id, step, outcome, at in chats:
        await commit(
            storage, update_id=chat_id, chat_id=chat_id, session_json=session(step, outcome), now=at
        )
    stats = await storage.stats(NOW - 30 * DAY, idle_for=DAY, now=NOW)
    assert stats.idle == {"age": 2, "location": 1}
    assert (await storage.stats(NOW - 30 * DAY)).idle is None  # not asked: not looked up


async def test_check_in_scores_are_kept_in_pairs_anonymously(storage: Storage) -> None:
    events = [
        Event(PAIN_EVENT, step="7", outcome="3"),
        Event(PAIN_EVENT, step="7", outcome="3"),
        Event(PAIN_EVENT, outcome="2"),  # an older check-in, without its first score
    ]
    await commit(storage, update_id=1, chat_id=1, events=events, now=NOW)
    stats = await storage.stats(NOW - DAY)
    assert stats.pain == (PainScores(7, 3, 2), PainScores(None, 2, 1))


def test_the_first_score_is_the_answer_to_the_flows_0_to_10_question() -> None:
    engine = Engine(load_compiled(ROOT / "flows" / "sciatica.yaml"))
    result = engine.start()
    result.session.answers["severity"] = 6
    assert first_score(engine, result.session) == 6
    assert first_score(engine, None) is None


def test_the_words_are_the_flows_own_in_the_admins_language() -> None:
    engine = Engine(load_compiled(ROOT / "flows" / "sciatica.yaml"), {"emergency_number": "112"})
    english, spanish = stats_words(engine, "en"), stats_words(engine, "es")
    assert english.steps["location"] == "Where is the pain worst?"
    assert english.steps["age"] == "How old are you?"
    assert english.outcomes["emergency"] == "Please get medical help now."
    assert english.outcomes[BOOKING_OUTCOME] == "Your answers may involve the piriformis muscle."
    assert spanish.steps["location"] == "¿Dónde te duele más?"
    assert spanish.outcomes["see_doctor_soon"] == "Por favor, consulta antes a un médico."
    assert english.urgent == {"emergency"}
    titles = [english.outcomes[o.id] for o in engine.flow.outcomes]
    assert len(set(distinct(titles, 26))) == len(titles)  # told apart in the chart


async def test_stats_speaks_the_admins_language_and_never_shows_ids(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        await at_booking_outcome(bot, 5101, source="flyer")
        english = bot.fake.user(ADMIN, language_code="en")
        english.command("stats")
        text = (await english.wait_for_text("Conversations in the last 7 days")).text or ""
        assert "Your answers may involve the piriformis muscle.: 1" in text
        assert BOOKING_OUTCOME not in text and "flyer: 1" in text

        spanish = bot.fake.user(ADMIN, language_code="es")
        spanish.command("stats", "30")
        text = (await spanish.wait_for_text("Conversaciones en los últimos 30 días")).text or ""
        assert "Tus respuestas pueden estar relacionadas con el músculo piriforme.: 1" in text
        assert "Terminadas: 1 (100%)" in text
