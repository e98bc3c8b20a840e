"""Telegram misbehaving: 429, 5xx, dropped connections and blocked users (design.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.storage import Storage
from tests.support import FakeBotApi
from tests.support.botprocess import BotProcesses
from tests.support.conversation import (
    PATHS,
    answer,
    begin,
    converse,
    wait_for_outcome,
    wait_for_question,
)

pytestmark = pytest.mark.slow


def troubled_polls(fake: FakeBotApi) -> None:
    fake.fail_next("getUpdates", status=502)
    fake.drop_next("getUpdates")


def no_fault(fake: FakeBotApi) -> None:
    """Nothing goes wrong this time."""


# One failure before each answer, so every kind of trouble hits a different moment.
FAULTS: list[tuple[str, Callable[[FakeBotApi], None]]] = [
    ("429 on the next question", lambda f: f.rate_limit_next("sendMessage", retry_after=1)),
    ("500 on the answered edit", lambda f: f.fail_next("editMessageText", status=500)),
    ("dropped send", lambda f: f.drop_next("sendMessage")),
    ("502 and a drop while polling", lambda f: troubled_polls(f)),
    ("500 on answering a press", lambda f: f.fail_next("answerCallbackQuery", status=500)),
    ("429 on a tick", lambda f: f.rate_limit_next("editMessageReplyMarkup", retry_after=1)),
]


@pytest.mark.long  # 12 s of backoff: scripts/test-long, run by .ci/run
async def test_rate_limits_and_network_errors_are_retried_until_the_outcome(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    bot = await bots.start_polling(fake)
    person = fake.user(8001)
    path = PATHS["likely_sacroiliac"]
    await begin(person, timeout=20)
    injections = [inject for _, inject in FAULTS] + [no_fault] * len(path)
    for (step, value), inject in zip(path, injections, strict=False):
        inject(fake)
        await answer(person, step, value, timeout=20)

    final = await wait_for_outcome(person, "likely_sacroiliac", timeout=20)
    outcomes = {c.outcome for c in fake.calls()}
    assert {"429", "500", "502", "dropped"} <= outcomes, "every fault was hit"
    # Retried, never duplicated: each text reached the person once.
    sent = [c.params["text"] for c in fake.calls("sendMessage") if c.ok]
    assert len(sent) == len(set(sent)), person.transcript()
    assert final.flat_buttons, "the booking button survived the retries"
    assert bot.running()


async def test_a_blocked_user_is_marked_not_retried_and_the_bot_keeps_going(
    fake: FakeBotApi, bots: BotProcesses, tmp_path: Path
) -> None:
    bot = await bots.start_polling(fake)
    blocker = fake.user(8002)
    await begin(blocker)
    await wait_for_question(blocker, "location")
    fake.block(blocker.chat_id)
    blocker.press_option("buttock", step="location")
    await fake.wait_for(
        lambda: [c for c in fake.calls() if c.chat_id == blocker.chat_id and c.outcome == "403"],
        what="the 403",
    )

    other = fake.user(8003)  # meanwhile everyone else is served as usual
    await converse(other, PATHS["non_specific"])
    await wait_for_outcome(other, "non_specific")

    to_blocker = [c for c in fake.calls() if c.chat_id == blocker.chat_id]
    refused = [c for c in to_blocker if c.outcome == "403"]
    assert len(refused) == 1, [(c.method, c.outcome) for c in to_blocker]
    assert to_blocker[-1].outcome == "403", "nothing was sent to the blocked chat after it"
    assert bot.running()
    storage = await Storage.open(tmp_path / "triage.db")
    try:
        state = await storage.load_chat(blocker.chat_id)
        assert state is not None and state.blocked
        assert await storage.pending_outbox(blocker.chat_id) == []
    finally:
        await storage.close()

    # Writing again means they unblocked the bot: they are served again.
    fake.unblock(blocker.chat_id)
    blocker.start()
    await wait_for_question(blocker, "location")
