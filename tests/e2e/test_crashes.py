"""kill -9 at the worst moments: nothing lost, nothing twice (design.md, Reliability)."""

from __future__ import annotations

import re
import socket
import urllib.request

import pytest

from tests.support import FakeBotApi, FakeUser
from tests.support.botprocess import BotProcesses
from tests.support.conversation import (
    PATHS,
    answer,
    converse,
    wait_for_outcome,
    wait_for_question,
)

pytestmark = pytest.mark.slow

PIRIFORMIS = PATHS["likely_piriformis"]  # location buttock ... worse_sitting yes
BUTTOCK_REASON = r"the pain is deep in one buttock"
SITTING_REASON = r"sitting makes it worse"


def count_sent_questions(fake: FakeBotApi, person: FakeUser, step: str) -> int:
    """Successful sendMessage calls to this chat that asked ``step`` (buttons for it)."""
    return sum(
        1
        for call in fake.calls("sendMessage")
        if call.ok and call.chat_id == person.chat_id and f"|{step}|" in str(call.params)
    )


async def test_kill_9_mid_conversation_then_carry_on_with_every_answer_kept(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    first = await bots.start_polling(fake)
    person = fake.user(4001)
    await converse(person, PIRIFORMIS[:5])  # location ... age
    await wait_for_question(person, "doctor_flags")
    first.kill()

    await bots.start_polling(fake)
    await converse(person, PIRIFORMIS[5:], start=False)

    final = await wait_for_outcome(person, "likely_piriformis")
    # Both reasons need answers given on each side of the crash.
    assert re.search(BUTTOCK_REASON, final.text or ""), person.transcript()
    assert re.search(SITTING_REASON, final.text or ""), person.transcript()


async def test_kill_9_right_after_a_press_applies_it_exactly_once(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    first = await bots.start_polling(fake)
    person = fake.user(4002)
    await converse(person, PIRIFORMIS[:1])
    await wait_for_question(person, "radiation")
    update = person.press_option("buttock_only", step="radiation")
    # Killed as soon as the bot has the update: before, during or after its commit.
    await fake.wait_for(lambda: fake.deliveries(update["update_id"]) > 0, what="the delivery")
    first.kill()

    await bots.start_polling(fake)
    await wait_for_question(person, "severity")
    await fake.wait_for(lambda: fake.is_confirmed(update["update_id"]), what="the confirmation")
    await converse(person, PIRIFORMIS[2:], start=False)

    final = await wait_for_outcome(person, "likely_piriformis")
    assert re.search(BUTTOCK_REASON, final.text or ""), person.transcript()
    assert count_sent_questions(fake, person, "severity") == 1, person.transcript()


async def test_crash_between_commit_and_send_delivers_after_restart_exactly_once(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    first = await bots.start_polling(fake)
    person = fake.user(4003)
    await converse(person, PIRIFORMIS[:1])
    await wait_for_question(person, "radiation")

    fake.hold("sendMessage")  # the next question is committed to the outbox, then in flight
    person.press_option("buttock_only", step="radiation")
    await fake.wait_for(lambda: fake.held_calls("sendMessage"), what="the held send")
    first.kill()
    fake.release("sendMessage")
    assert count_sent_questions(fake, person, "severity") == 0

    await bots.start_polling(fake)
    await wait_for_question(person, "severity")
    await converse(person, PIRIFORMIS[2:], start=False)

    await wait_for_outcome(person, "likely_piriformis")
    assert count_sent_questions(fake, person, "severity") == 1, person.transcript()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def commit_counts(health_port: int) -> tuple[float, float]:
    """The bot's /metrics: transactions that committed updates, and the writes in them."""
    with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/metrics", timeout=5) as page:
        text = page.read().decode()
    found = dict(re.findall(r"^triage_commit_(transactions|writes)_total (\S+)$", text, re.M))
    return float(found["transactions"]), float(found["writes"])


@pytest.mark.long  # 14 s: scripts/test-long, run by .ci/run
async def test_kill_9_between_a_shared_commit_and_its_sends_delivers_each_once(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    """Presses of several people committed in shared transactions (group commit), then the
    process killed before any of their next questions got out: after the restart each person
    gets the next question exactly once, and every press counts."""
    health = free_port()
    first = await bots.start_polling(fake, HEALTH_PORT=str(health))
    people = [fake.user(4200 + n) for n in range(8)]
    for person in people:
        await converse(person, PIRIFORMIS[:1])
    for person in people:
        await wait_for_question(person, "radiation")
    transactions, writes = commit_counts(health)

    fake.hold("sendMessage")  # each next question is committed, then held in flight
    with fake.at_once():
        presses = [p.press_option("buttock_only", step="radiation") for p in people]
    await fake.wait_for(
        lambda: len(fake.held_calls("sendMessage")) == len(people), what="every held send"
    )
    after_transactions, after_writes = commit_counts(health)
    first.kill()
    fake.release("sendMessage")
    assert after_writes - writes == len(people)
    assert after_transactions - transactions < len(people)  # shared transactions
    assert all(count_sent_questions(fake, p, "severity") == 0 for p in people)

    await bots.start_polling(fake)
    for person, press in zip(people, presses, strict=True):
        await wait_for_question(person, "severity")
        await fake.wait_for(lambda u=press: fake.is_confirmed(u["update_id"]), what="confirmed")
    for person in people:
        await converse(person, PIRIFORMIS[2:], start=False)
    for person in people:
        final = await wait_for_outcome(person, "likely_piriformis")
        assert re.search(BUTTOCK_REASON, final.text or ""), person.transcript()
        assert count_sent_questions(fake, person, "severity") == 1, person.transcript()


async def test_an_update_delivered_again_changes_nothing_and_sends_nothing_twice(
    fake: FakeBotApi, bots: BotProcesses
) -> None:
    first = await bots.start_polling(fake)
    person = fake.user(4004)
    await converse(person, PIRIFORMIS[:1])
    await wait_for_question(person, "radiation")

    # The bot's confirmations never arrive: the press is handed out again and again, live...
    fake.losing_confirmations = True
    press = person.press_option("buttock_only", step="radiation")
    await wait_for_question(person, "severity")
    await fake.wait_for(lambda: fake.deliveries(press["update_id"]) >= 3, what="redeliveries")
    # ... and after a crash, to the restarted process.
    first.kill()
    fake.losing_confirmations = False
    await bots.start_polling(fake)
    await fake.wait_for(lambda: fake.is_confirmed(press["update_id"]), what="the confirmation")

    # A typed answer and a press, each delivered twice more (e.g. webhook retries).
    await answer(person, "severity", 4)
    await wait_for_question(person, "emergency_flags")
    fake.redeliver(person.sent[-1])
    await answer(person, "emergency_flags", ["none"])
    await wait_for_question(person, "age")
    fake.redeliver(person.sent[-1])
    await converse(person, PIRIFORMIS[4:], start=False)

    await wait_for_outcome(person, "likely_piriformis")
    # The question on screen when the bot was killed may come once more at the restart: the
    # documented window between Telegram accepting a reply and the bot recording it
    # (tests/hostile/test_hostile_resend_window.py). Nothing else is ever sent twice.
    assert count_sent_questions(fake, person, "severity") <= 2, person.transcript()
    for step in ("emergency_flags", "doctor_flags"):
        assert count_sent_questions(fake, person, step) == 1, (step, person.transcript())
    # Each answered question was edited once. The same window may repeat the edit that went out
    # with that question (Telegram answers "not modified", which changes nothing); no duplicate
    # update ever tried to edit a message again.
    edits = [c for c in fake.calls("editMessageText") if c.chat_id == person.chat_id]
    applied = [c for c in edits if c.ok]
    repeated = [c for c in edits if not c.ok]
    assert len({c.params["message_id"] for c in applied}) == len(applied)
    assert len(repeated) <= 1, [c.description for c in repeated]
    for again in repeated:
        assert "message is not modified" in again.description
        assert again.params["message_id"] in {c.params["message_id"] for c in applied}
