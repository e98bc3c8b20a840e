"""Several ``triage-bot run`` processes on one PostgreSQL database.

Two in webhook mode, one killed. :class:`Balancer` plays a load balancer in front of two
replicas: updates are dealt to the bots in turn, so one chat's answers land on both, 200 chats
at once, and a delivery that fails (the bot died under it) is retried to the other, as Telegram
retries until it hears 200. One
bot is killed with SIGKILL in the middle of the burst. Every person still reaches their
outcome, every update is applied once (the anonymous counts in the database say so), each
chat's questions come in the flow's order, and nothing is sent twice beyond the documented
window (a reply Telegram took just before the kill, not yet recorded as sent). And polling
stays one process: a second polling bot on the database refuses to start.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections import Counter
from functools import partial

import pytest

from bot.storage.postgres import PostgresStorage
from tests.e2e.test_crashes import count_sent_questions
from tests.e2e.test_webhook import PUBLIC_URL, SECRET, free_port, listening
from tests.support import FakeBotApi, post_update
from tests.support.botprocess import BotProcess, BotProcesses
from tests.support.conversation import (
    PATHS,
    answer,
    begin,
    question_buttons,
    wait_for_outcome,
    wait_for_question,
)
from tests.support.driver import FakeUser, option_of, step_of
from tests.support.records import JSON

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

OUTCOME = "likely_piriformis"
PATH = PATHS[OUTCOME]
PEOPLE = 200
KILL_AFTER = 600  # deliveries before the first bot is killed: conversations are mid-way
IN_FLIGHT = 32  # deliveries posted at once
TIMEOUT_S = 120.0  # for one reply, with 200 conversations on a small machine
MAX_TRIES = 200  # per update, across both bots
RETRY_PAUSE_S = 0.05
LEADING = "This bot runs the background jobs"


class Balancer:
    """Deals updates to the bots in turn (one chat's updates land on both) and retries a
    failed delivery on the next one."""

    def __init__(self, ports: list[int]) -> None:
        self.urls = [f"http://127.0.0.1:{port}/telegram/updates" for port in ports]
        self.pool = concurrent.futures.ThreadPoolExecutor(IN_FLIGHT)
        self.sent: list[concurrent.futures.Future[int]] = []
        self.delivered = 0
        self.refused: list[tuple[int, str, int]] = []  # (update id, url, status; 0: no answer)
        self._lock = threading.Lock()

    def deliver(self, update: JSON) -> None:
        self.sent.append(self.pool.submit(self._post, update))

    def _post(self, update: JSON) -> int:
        first = int(update["update_id"]) % len(self.urls)
        for attempt in range(MAX_TRIES):
            url = self.urls[(first + attempt) % len(self.urls)]
            try:
                status = post_update(url, update, SECRET, timeout=20)
            except OSError:  # refused, reset: that bot is gone
                status = 0
            if status == 200:
                with self._lock:
                    self.delivered += 1
                return attempt
            with self._lock:
                self.refused.append((update["update_id"], url, status))
            time.sleep(RETRY_PAUSE_S)  # Telegram waits between retries too
        raise AssertionError(f"update {update['update_id']} was never accepted")


async def start_webhook_bots(
    fake: FakeBotApi, bots: BotProcesses, database_url: str, count: int
) -> tuple[list[BotProcess], list[int]]:
    ports = [free_port() for _ in range(count)]
    started = [
        bots.start(
            DATABASE_URL=database_url,
            WEBHOOK_URL=PUBLIC_URL,
            WEBHOOK_SECRET_TOKEN=SECRET,
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
        )
        for port in ports
    ]
    await fake.wait_for(
        lambda: all(listening(p) for p in ports) or not all(b.running() for b in started),
        timeout=30,
        what="both bots listening",
    )
    assert all(b.running() for b in started), bots.all_output()
    return started, ports


async def converse_across_a_kill(person: FakeUser, timeout: float = TIMEOUT_S) -> None:
    """:func:`converse` through :data:`PATH`, as a person would when a question they were
    answering is sent to them once more (the reply in flight at the kill): a tick shows on the
    message they pressed, which may no longer be the newest; Done goes on the newest."""
    await begin(person, timeout=timeout)
    for step, value in PATH:
        if not isinstance(value, list):
            await answer(person, step, value, timeout)
            continue
        await wait_for_question(person, step, timeout)
        for option in value:
            button = next(b for b in question_buttons(person, step) if option_of(b) == option)
            person.tap(button)
            await person.fake.wait_for(
                partial(ticked, person, step, option, button.text),
                timeout,
                f"the tick on {option!r} in chat {person.chat_id}",
            )
        done = next(
            b for b in question_buttons(person, step) if b.callback_data.split("|")[1] == "d"
        )
        person.tap(done)


def ticked(person: FakeUser, step: str, option: str, unticked: str) -> bool:
    """Some message of ``step`` shows ``option`` relabelled (ticked)."""
    return any(
        step_of(b) == step and option_of(b) == option and b.text != unticked
        for message in person.bot_messages()
        for b in message.flat_buttons
    )


def question_order(fake: FakeBotApi, person: FakeUser) -> list[str]:
    """The button questions the chat was asked, in the order they were first sent."""
    steps = [step for step, _ in PATH]
    seen: list[str] = []
    for call in fake.calls("sendMessage"):
        if not call.ok or call.chat_id != person.chat_id:
            continue
        for step in steps:
            if f"|{step}|" in str(call.params) and step not in seen:
                seen.append(step)
    return seen


@pytest.mark.long  # about a minute: scripts/test-long, run by .ci/run
async def test_two_bots_share_one_database_and_a_killed_one_loses_and_repeats_nothing(
    fake: FakeBotApi, bots: BotProcesses, pg_url: str
) -> None:
    (first, second), ports = await start_webhook_bots(fake, bots, pg_url, 2)
    balancer = Balancer(ports)
    people = [fake.user(8100 + n, deliver=balancer.deliver) for n in range(PEOPLE)]

    talking = asyncio.gather(*(converse_across_a_kill(p) for p in people))
    await fake.wait_for(lambda: balancer.delivered >= KILL_AFTER, TIMEOUT_S, "the burst under way")
    leaders = [bot for bot in (first, second) if LEADING in bot.output()]
    first.kill()
    try:
        await talking
    except AssertionError as error:
        raise AssertionError(f"{error}\nrefused: {balancer.refused}\n{second.output()}") from None
    for person in people:
        await wait_for_outcome(person, OUTCOME, timeout=TIMEOUT_S)
    attempts = [future.result(timeout=60) for future in balancer.sent]
    balancer.pool.shutdown()

    assert second.running(), second.output()
    assert any(attempts), "the kill hit no delivery: every update went through the first try"
    buttoned = [step for step, _ in PATH if step != "age"]
    repeats: Counter[str] = Counter()
    for person in people:
        # Per-chat order: each question came after the one before it.
        assert question_order(fake, person) == buttoned, person.transcript()
        for step in buttoned:
            sent = count_sent_questions(fake, person, step)
            assert 1 <= sent <= 2, (step, person.transcript())
            repeats[step] += sent - 1
    # Only a reply in flight at the kill may go twice: at most one per chat.
    assert sum(repeats.values()) <= PEOPLE, repeats

    # Every update applied once: the anonymous counts would double for one applied twice.
    async with await PostgresStorage.open(pg_url) as store:
        stats = await store.stats(0)
        assert stats.started == PEOPLE
        assert stats.outcomes == {OUTCOME: PEOPLE}
        for step, _ in PATH:
            assert stats.steps.get(step) == PEOPLE, (step, stats.steps)
        assert await store.pending_outbox(None) == []
    # The background jobs ran in one bot at a time, and are the survivor's now.
    assert len(leaders) == 1, bots.all_output()
    await fake.wait_for(lambda: LEADING in second.output(), 60, "the survivor to lead")
    logs = bots.all_output()
    assert "Traceback" not in second.output(), second.output()
    assert "DATABASE_PATH is not used" in logs  # the test's folder was given too


async def test_a_second_polling_bot_on_the_database_refuses_in_one_sentence(
    fake: FakeBotApi, bots: BotProcesses, pg_url: str
) -> None:
    first = await bots.start_polling(fake, DATABASE_URL=pg_url)
    second = bots.start(DATABASE_URL=pg_url)
    assert second.wait_exit() == 1
    output = second.output()
    assert "another triage-bot is already polling" in output, output
    assert "Traceback" not in output
    assert first.running()
