"""What several bot processes on one PostgreSQL database rely on, against a real server.

Each :class:`PostgresStorage` here has its own connection pool, as a process would; a killed
process is played by ending its connections on the server (``pg_terminate_backend``), which
is what the server sees when a process dies. Waits are bounded loops on the server's own view
(``pg_locks``), never sleeps that assume a speed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from bot.redact import redacted_url
from bot.storage import SCHEMA_VERSION, OutgoingMessage, StorageError
from bot.storage.pg_schema import APP_LOCK, LEADER_LOCK
from bot.storage.pg_units import LEASE_S, RETRY_LEASE_S
from bot.storage.postgres import PostgresStorage
from tests.support import postgres
from tests.support.storage import commit, count_chats

NOW = 1_800_000_000.0
WAIT_STEPS = 500  # x 20 ms: ten seconds at most for the server to show a lock or a waiter


@pytest.fixture
async def url(pg_server: str) -> AsyncIterator[str]:
    async with postgres.fresh_database(pg_server) as database:
        yield database


@pytest.fixture
async def two(url: str) -> AsyncIterator[tuple[PostgresStorage, PostgresStorage]]:
    """Two bots' storages on one database."""
    first = await PostgresStorage.open(url)
    second = await PostgresStorage.open(url)
    yield first, second
    await first.close()
    await second.close()


def message(chat_id: int, text: str) -> OutgoingMessage:
    return OutgoingMessage(chat_id, "sendMessage", {"chat_id": chat_id, "text": text})


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(WAIT_STEPS):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the server never showed what the test waits for")


async def waiting_for_advisory_lock(url: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        return bool(
            await conn.fetchval(
                "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
    finally:
        await conn.close()


async def kill_sessions_holding(url: str, where: str, *args: Any) -> int:
    """End (as a crash would) the server sessions holding an advisory lock matching ``where``."""
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                f"WHERE locktype = 'advisory' AND granted AND {where} AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())",
                *args,
            )
        )
    finally:
        await conn.close()


async def test_bots_starting_at_once_migrate_once(url: str) -> None:
    stores = await asyncio.gather(*(PostgresStorage.open(url) for _ in range(4)))
    try:
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetch("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
        finally:
            await conn.close()
        assert count_chats(stores[0]) == 0
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_a_database_from_a_newer_bot_is_refused(url: str) -> None:
    async with await PostgresStorage.open(url):
        pass
    conn = await asyncpg.connect(url)
    await conn.execute("UPDATE schema_version SET version = $1", SCHEMA_VERSION + 3)
    await conn.close()
    with pytest.raises(StorageError, match=f"schema version {SCHEMA_VERSION + 3}"):
        await PostgresStorage.open(url)


async def test_one_update_delivered_to_two_bots_at_once_is_applied_once(
    two: tuple[PostgresStorage, PostgresStorage],
) -> None:
    first, second = two
    results = await asyncio.gather(
        *(
            commit(store, update_id=77, chat_id=5, outbox=[message(5, "once")], now=NOW)
            for store in (first, second, first, second)
        )
    )
    assert sorted(results) == [False, False, False, True]
    assert [item.params["text"] for item in await second.pending_outbox()] == ["once"]


async def test_a_chat_turn_waits_for_the_other_bots_turn_of_the_same_chat(
    url: str, two: tuple[PostgresStorage, PostgresStorage]
) -> None:
    first, second = two
    order: list[str] = []

    async def second_turn() -> None:
        async with second.chat_lock(5):
            order.append("second")
            await commit(second, update_id=2, chat_id=5, session_json="b")

    async with first.chat_lock(5):
        waiting = asyncio.create_task(second_turn())
        await until(lambda: waiting_for_advisory_lock(url))
        async with second.chat_lock(6):  # another chat is not held up
            order.append("other chat")
        order.append("first")
        await commit(first, update_id=1, chat_id=5, session_json="a")
    await waiting
    assert order == ["other chat", "first", "second"]
    state = await first.load_chat(5)
    assert state is not None and state.session_json == "b"


async def test_a_dead_bots_chat_lock_is_freed_with_its_connection(
    url: str, two: tuple[PostgresStorage, PostgresStorage]
) -> None:
    first, second = two
    got = asyncio.Event()

    async def second_turn() -> None:
        async with second.chat_lock(5):
            got.set()

    held = first.chat_lock(5)
    await held.__aenter__()
    waiting = asyncio.create_task(second_turn())
    await until(lambda: waiting_for_advisory_lock(url))
    assert await kill_sessions_holding(url, "objid = 5 AND objsubid = 1") == 1
    await waiting
    assert got.is_set()
    with pytest.raises(StorageError):  # the dead turn's own statements fail, one sentence
        await first.load_chat(5)
    await held.__aexit__(None, None, None)


async def test_the_leader_runs_the_jobs_and_another_bot_takes_over_when_it_dies(
    url: str, two: tuple[PostgresStorage, PostgresStorage]
) -> None:
    first, second = two
    events: list[str] = []
    started = {name: asyncio.Event() for name in ("first", "second")}
    stopped = asyncio.Event()

    def jobs(name: str) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            events.append(f"{name} runs")
            started[name].set()
            try:
                await asyncio.Event().wait()  # the jobs run until cancelled
            finally:
                events.append(f"{name} stops")
                stopped.set()

        return work

    leading = asyncio.create_task(first.lead(jobs("first")))
    await started["first"].wait()
    following = asyncio.create_task(second.lead(jobs("second")))
    await until(lambda: _tried_leader(url))  # the second bot tried, and waits
    assert events == ["first runs"]
    # The first bot's lock connection ends: its jobs stop at once, whoever leads next.
    killed = "classid = $1 AND objid = $2 AND objsubid = 2"
    assert await kill_sessions_holding(url, killed, APP_LOCK, LEADER_LOCK) == 1
    await asyncio.wait_for(stopped.wait(), timeout=60)
    assert events[:2] == ["first runs", "first stops"]
    # The first bot is gone for good: the second takes over.
    leading.cancel()
    await asyncio.gather(leading, return_exceptions=True)
    await asyncio.wait_for(started["second"].wait(), timeout=60)
    assert events[-1] == "second runs"
    following.cancel()
    await asyncio.gather(following, return_exceptions=True)


async def _tried_leader(url: str) -> bool:
    # pg_stat_activity shows the last statement of each session: the waiting bot's probe.
    conn = await asyncpg.connect(url)
    try:
        return bool(
            await conn.fetchval(
                "SELECT count(*) > 0 FROM pg_stat_activity "
                "WHERE query LIKE 'SELECT pg_try_advisory_lock%' AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await conn.close()


async def test_a_second_polling_bot_is_refused_in_one_sentence(url: str) -> None:
    async with await PostgresStorage.open(url, exclusive=True):
        with pytest.raises(StorageError, match="already polling") as error:
            await PostgresStorage.open(url, exclusive=True)
        assert "\n" not in str(error.value)
        async with await PostgresStorage.open(url):  # a tool (db copy, doctor) is no bot
            pass
    async with await PostgresStorage.open(url, exclusive=True):  # freed by close
        pass


async def test_webhook_bots_share_the_database_and_a_polling_bot_refuses_them(url: str) -> None:
    """Polling deletes the webhook, and a webhook stops getUpdates: never both on one database."""
    async with (
        await PostgresStorage.open(url, webhook=True),
        await PostgresStorage.open(url, webhook=True),  # several webhook bots: the scale-out
    ):
        with pytest.raises(StorageError, match="in webhook mode serve") as error:
            await PostgresStorage.open(url, exclusive=True)
        assert "\n" not in str(error.value) and "WEBHOOK_URL" in str(error.value)
    async with await PostgresStorage.open(url, exclusive=True):
        with pytest.raises(StorageError, match="is polling") as error:
            await PostgresStorage.open(url, webhook=True)
        assert "\n" not in str(error.value)
    async with await PostgresStorage.open(url, webhook=True):  # freed by close
        pass


async def test_replies_left_by_a_dead_bot_are_claimed_once_after_their_lease(
    two: tuple[PostgresStorage, PostgresStorage],
) -> None:
    first, second = two
    await commit(first, update_id=1, chat_id=5, outbox=[message(5, "a")], now=NOW)
    await commit(first, update_id=2, chat_id=6, outbox=[message(6, "b")], now=NOW)
    assert await second.claim_orphans(now=NOW + 1) == []  # its sender is still on it
    claims = await asyncio.gather(
        first.claim_orphans(now=NOW + 60), second.claim_orphans(now=NOW + 60)
    )
    assert sorted(claims[0] + claims[1]) == [5, 6]  # each chat to one bot only
    assert await second.claim_orphans(now=NOW + 61) == []


async def test_a_failed_try_keeps_the_row_for_its_sender_for_one_more_lease(
    two: tuple[PostgresStorage, PostgresStorage],
) -> None:
    first, second = two
    await commit(first, update_id=1, chat_id=5, outbox=[message(5, "a")])
    (item,) = await first.pending_outbox(5)
    await first.mark_failed(item.id, "TimedOut: slow", permanent=False)
    assert await second.claim_orphans() == []  # its sender retries it first
    assert await second.claim_orphans(now=time.time() + LEASE_S + 1) == []
    assert await second.claim_orphans(now=time.time() + RETRY_LEASE_S + 1) == [5]
    await first.mark_failed(item.id, "BadRequest: no", permanent=True)
    assert await second.claim_orphans(now=time.time() + 10 * RETRY_LEASE_S) == []  # given up


def test_the_password_never_shows(url: str) -> None:
    shown = redacted_url("postgresql://bot:s3cret@db.example:5432/triage?sslmode=require")
    assert shown == "postgresql://bot@db.example:5432/triage?sslmode=require"
    assert redacted_url(url) == url  # no password: as given


async def test_an_unreachable_server_is_one_sentence_without_the_password() -> None:
    with pytest.raises(StorageError) as error:
        await PostgresStorage.open("postgresql://bot:s3cret@127.0.0.1:1/triage")
    text = str(error.value)
    assert "s3cret" not in text and "\n" not in text
    assert text.startswith("cannot connect to the database at postgresql://bot@127.0.0.1:1/")
