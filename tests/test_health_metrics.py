"""``/healthz`` and ``/metrics`` over real HTTP on 127.0.0.1, with the bot in-process against
the fake Bot API and a real SQLite file: healthy while Telegram answers and the database
writes, 503 with the reason otherwise; the counts after real conversations; nothing personal
in any label; one registry per application.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

import bot.telegram.health as health
from bot.app import build_application
from bot.config import load_settings
from bot.run import serve
from bot.storage import OutgoingMessage
from bot.storage.postgres import PostgresStorage
from bot.telegram.runtime import runtime_of
from tests.bot_inprocess import BOOKING_URL, FLOW, USERNAME, running_bot
from tests.support import FAKE_TOKEN, FakeBotApi
from tests.support.conversation import (
    PATHS,
    begin,
    converse,
    wait_for_outcome,
    wait_for_question,
)
from tests.support.storage import commit

NAME, HANDLE = "Ann Example", "ann_example_77"
PHRASE = "cant really feel the paper when i wipe"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read().decode()
            return response.status, response.headers["Content-Type"], body
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


async def get(port: int, path: str) -> tuple[int, str, str]:
    """A GET from another thread: the server runs on this test's own event loop."""
    return await asyncio.to_thread(_get, f"http://127.0.0.1:{port}{path}")


async def answered_poll(fake: FakeBotApi) -> None:
    await fake.wait_for(
        lambda: [c for c in fake.calls("getUpdates") if c.outcome == "ok"], 10, "a poll answered"
    )


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape_until_outbox_empty(port: int, timeout: float = 5.0) -> tuple[int, str, str]:
    """/metrics, scraped until it shows no reply waiting, or as it is after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        status, kind, text = await get(port, "/metrics")
        if value(text, "triage_outbox_pending") == 0 or time.monotonic() > deadline:
            return status, kind, text
        await asyncio.sleep(0.05)


async def test_healthy_bot_and_what_it_counts(tmp_path: Path) -> None:
    port = free_port()
    backups = tmp_path / "backups"
    async with running_bot(tmp_path, HEALTH_PORT=str(port), BACKUP_DIR=str(backups)) as bot:
        await answered_poll(bot.fake)
        status, kind, body = await get(port, "/healthz")
        assert (status, body) == (200, "ok\n")

        walker = bot.fake.user(6101, first_name=NAME, username=HANDLE)
        await converse(walker, PATHS["likely_piriformis"])
        await wait_for_outcome(walker, "likely_piriformis")

        typist = bot.fake.user(6102, first_name=NAME, username=HANDLE)
        await begin(typist)
        await wait_for_question(typist, "location")
        typist.say(PHRASE)  # the safety net: straight to the emergency advice
        await wait_for_outcome(typist, "emergency")

        bot.fake.fail_next("sendMessage", status=502)  # one reply waits for a retry
        bot.fake.rate_limit_next("answerCallbackQuery", times=3, retry_after=1)
        other = bot.fake.user(6103)
        await begin(other, timeout=20)
        await wait_for_question(other, "location", timeout=20)
        other.press_option("buttock", step="location")
        await wait_for_question(other, "radiation", timeout=20)
        await bot.quiet()
        # A delivered reply leaves the outbox table with the next commit, or 50 ms after the
        # last one: the depth reaches 0 soon after the last reply, not at the same instant.
        status, kind, text = await scrape_until_outbox_empty(port)
    assert status == 200 and kind.startswith("text/plain; version=")

    applied = value(text, "triage_updates_total", result="applied")
    assert applied >= 14
    assert value(text, "triage_updates_total", result="failed") == 0
    assert value(text, "triage_update_duration_seconds_count") == applied
    assert value(text, "triage_outcomes_total", outcome="likely_piriformis") == 1
    assert value(text, "triage_outcomes_total", outcome="emergency") == 1
    assert value(text, "triage_safety_net_triggers_total", concept="saddle_numbness",
                 verdict="emergency") == 1  # fmt: skip
    assert value(text, "triage_bot_api_failures_total", kind="server_error",
                 method="sendmessage") == 1  # fmt: skip
    assert value(text, "triage_bot_api_failures_total", kind="rate_limited",
                 method="answercallbackquery") >= 1  # fmt: skip
    assert value(text, "triage_outbox_pending") == 0
    assert value(text, "triage_outbox_oldest_age_seconds") == 0
    assert abs(value(text, "triage_last_backup_timestamp_seconds") - time.time()) < 120
    assert abs(value(text, "triage_last_telegram_contact_timestamp_seconds") - time.time()) < 60

    # No chat id, name, username, answer or typed word in any label, name or help text. The
    # samples' values are left out of the search: a timestamp such as 1.796606761026e+09
    # holds "6102" among its digits without naming anyone.
    labels = {v for _, pairs in samples(text) for _, v in pairs}
    words = "\n".join(
        line if line.startswith("#") else line.rsplit(" ", 1)[0] for line in text.splitlines()
    )
    for secret in ("6101", "6102", "6103", "Ann", HANDLE, "buttock", "wipe", "paper"):
        assert secret not in words, secret
    assert labels <= {
        "applied",
        "failed",
        "likely_piriformis",
        "emergency",
        "saddle_numbness",
        "server_error",
        "rate_limited",
        "sendmessage",
        "answercallbackquery",
    } | {b for b in labels if b.replace(".", "").replace("+Inf", "").isdigit() or b == "+Inf"}


async def test_unhealthy_while_telegram_is_silent_or_the_database_is_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "HEALTH_WINDOW", 1.0)
    monkeypatch.setattr(health, "PROBE_BUSY_TIMEOUT_MS", 100)
    port = free_port()
    async with running_bot(tmp_path, HEALTH_PORT=str(port)) as bot:
        await answered_poll(bot.fake)
        assert (await get(port, "/healthz"))[0] == 200

        bot.fake.hold("getUpdates")  # Telegram stops answering the long poll
        await bot.fake.wait_for(lambda: bot.fake.held_calls("getUpdates"), 5, "a held poll")
        await asyncio.sleep(1.5)
        status, _, body = await get(port, "/healthz")
        assert status == 503 and body.startswith("no answer from Telegram for "), body
        bot.fake.release("getUpdates")
        await bot.fake.wait_for(lambda: bot.fake.calls("getUpdates")[-1].outcome == "ok", 10,
                                "a poll answered again")  # fmt: skip
        assert (await get(port, "/healthz"))[0] == 200

        holder = sqlite3.connect(bot.settings.database_path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # the disk stops taking writes, in effect
            status, _, body = await get(port, "/healthz")
        finally:
            holder.close()
        assert status == 503 and "database not writable" in body and "locked" in body, body
        assert (await get(port, "/healthz"))[0] == 200


@contextlib.asynccontextmanager
async def webhook_bot(tmp_path: Path, fake: FakeBotApi, health_port: int) -> AsyncIterator[None]:
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": FAKE_TOKEN, "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_PATH": str(tmp_path / "triage.db"), "FLOW_FILE": str(FLOW),
            "BOOKING_URL": BOOKING_URL, "WEBHOOK_URL": "https://clinic.example/tg",
            "WEBHOOK_SECRET_TOKEN": "s3cret", "WEBHOOK_PORT": str(free_port()),
            "HEALTH_PORT": str(health_port),
        },
        env_file=None,
    )  # fmt: skip
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, stop))
    try:
        await fake.wait_for(lambda: fake.webhook["url"] or running.done(), 20, "the webhook")
        assert not running.done(), running.result()
        yield
    finally:
        stop.set()
        assert await asyncio.wait_for(running, 20) == 0


async def test_an_idle_webhook_bot_is_healthy_while_telegram_can_deliver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "HEALTH_WINDOW", 2.0)  # Telegram's error times are whole s
    monkeypatch.setattr(health, "WEBHOOK_PROBE_EVERY", 0.2)
    port = free_port()
    with FakeBotApi(username=USERNAME) as fake:
        async with webhook_bot(tmp_path, fake, port):
            await fake.wait_for(lambda: fake.calls("getWebhookInfo"), 10, "the first probe")
            await asyncio.sleep(2.5)  # longer than the window, and no update came
            assert await get(port, "/healthz") == (200, "text/plain; charset=utf-8", "ok\n")
            # Telegram cannot reach us (the proxy is down): its deliveries keep failing.
            for _ in range(15):
                failed = (int(time.time()), "Connection refused")
                fake.set_webhook_state("https://clinic.example/tg", last_error=failed)
                await asyncio.sleep(0.2)
            status, _, body = await get(port, "/healthz")
            assert status == 503 and "no answer from Telegram" in body, body


def test_each_application_has_a_registry_of_its_own(tmp_path: Path) -> None:
    settings = load_settings(
        {"TELEGRAM_BOT_TOKEN": FAKE_TOKEN, "DATABASE_PATH": str(tmp_path / "a.db")},
        env_file=None,
    )
    first, second = (runtime_of(build_application(settings)).metrics for _ in range(2))
    first.handled(True, 0.01)
    assert first.registry is not second.registry
    assert "triage_updates_total" in first.exposition().decode()
    assert value(second.exposition().decode(), "triage_updates_total", result="applied") == 0
    assert not [name for name in REGISTRY._names_to_collectors if name.startswith("triage_")]


async def test_the_health_probe_looks_at_a_postgresql_database(pg_url: str) -> None:
    reply = OutgoingMessage(5, "sendMessage", {"chat_id": 5, "text": "hi"})
    async with await PostgresStorage.open(pg_url) as store:
        await commit(store, update_id=1, chat_id=5, outbox=[reply], now=1_800_000_000.0)
    state = await health.probe_postgres(pg_url, "the test database")
    assert state == health.DatabaseState(None, 1, 1_800_000_000.0)
    unreachable = "postgresql://bot:s3cret@127.0.0.1:1/none"
    down = await health.probe_postgres(unreachable, "postgresql://bot@127.0.0.1:1/none")
    assert down.problem is not None and "s3cret" not in down.problem
