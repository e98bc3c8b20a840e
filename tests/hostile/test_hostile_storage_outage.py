"""A database that cannot be written: nothing confirmed, nothing lost, nothing twice, no spam.

A full disk used to lose messages: each update failed five times, was skipped and confirmed
to Telegram. Now, while the database cannot be written (disk full, I/O error, read-only), the
bot stops fetching, tries the database again with backoff, says so once a minute, and carries
on when it can: every update is answered exactly once. The faults are SQLite's own on the bot's
connection (tests/support/disk.py), in the real bot polling the fake Bot API over HTTP.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.storage import Storage, StorageUnavailable
from bot.storage.outage import Outage
from tests.bot_inprocess import RunningBot, running_bot
from tests.support import FakeBotApi
from tests.support.conversation import begin
from tests.support.disk import fill_disk, free_disk, make_read_only, make_writable
from tests.support.health import healthz, healthz_until
from tests.support.records import JSON
from tests.support.storage import commit, is_processed

WELCOME = r"Hello, and thank you"
OUTAGE = "tries again until it can write"
RECOVERED = "can be written again"
RESTARTS = 15  # each: one welcome, and anonymous events that need room (under the backlog)
PEOPLE = 8


def records(caplog: pytest.LogCaptureFixture, level: int, text: str = "") -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level and text in r.getMessage()]


def tries(caplog: pytest.LogCaptureFixture, count: int) -> Callable[[], bool]:
    """Has the poller waited for the database ``count`` times?"""
    return lambda: len(records(caplog, logging.DEBUG, "next try in")) >= count


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


async def confirmed_only_if_committed(bot: RunningBot, sent: list[JSON]) -> None:
    """Every update Telegram was told is done is in the database."""
    confirmed = bot.fake.confirmed_offset
    async with bot.storage() as storage:
        for update in sent:
            if update["update_id"] < confirmed:
                assert is_processed(storage, update["update_id"]), update["update_id"]


@pytest.mark.long  # 9 s: scripts/test-long, run by .ci/run
async def test_a_full_disk_stops_fetching_then_every_update_is_answered_exactly_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    async with running_bot(tmp_path) as bot:
        people = [bot.fake.user(5200 + n) for n in range(PEOPLE)]
        for person in people:
            await begin(person)
        for person in people:
            await bot.question(person, "location")
        await bot.quiet()
        assert await fill_disk(bot.runtime.storage) > 0

        sent = [person.command("restart") for _ in range(RESTARTS) for person in people]
        await bot.fake.wait_for(
            lambda: records(caplog, logging.WARNING, OUTAGE), 30, "the full disk to be reported"
        )
        await bot.fake.wait_for(tries(caplog, 1), 30, "the poller to wait for the database")
        polls = len(bot.fake.calls("getUpdates"))
        # The bot tries the database again (twice more here) and fetches nothing meanwhile.
        await bot.fake.wait_for(tries(caplog, 3), 30, "two more tries of the database")
        assert len(bot.fake.calls("getUpdates")) == polls, "no fetching while the disk is full"
        assert bot.fake.pending_updates(), "the updates wait at Telegram, unconfirmed"
        await confirmed_only_if_committed(bot, sent)

        await free_disk(bot.runtime.storage)
        await bot.fake.wait_for(lambda: not bot.fake.pending_updates(), 40, "all confirmed")
        for person in people:
            await bot.question(person, "location")
        await confirmed_only_if_committed(bot, sent)
        for person in people:
            welcomes = [t for t in person.texts() if WELCOME in t]
            assert len(welcomes) == RESTARTS + 1, person.transcript()  # /start, then each

    assert len(records(caplog, logging.WARNING, OUTAGE)) == 1  # once a minute: this was shorter
    assert records(caplog, logging.INFO, RECOVERED)
    assert not errors(caplog), errors(caplog)


async def test_a_read_only_database_keeps_sent_replies_quietly_until_it_can_record_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The outbox cannot remove a delivered reply: it tries again with backoff, not every
    50 ms with an ERROR each time, and the reply is neither lost nor sent twice."""
    caplog.set_level(logging.DEBUG, logger="bot")
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(5301)
        await begin(person)
        await bot.question(person, "location")
        await bot.quiet()
        bot.fake.fail_next("sendMessage", status=502)  # the next question waits in the outbox
        person.press_option("buttock")
        await bot.fake.wait_for(
            lambda: only_a_failed_reply_queued(bot.settings.database_path), 10, "a retry"
        )
        await make_read_only(bot.runtime.storage)

        await bot.question(person, "radiation")  # sent by the outbox's retry
        await bot.fake.wait_for(
            lambda: len(records(caplog, logging.DEBUG, "cannot record sent messages yet")) >= 3,
            30,
            "the outbox to try recording the sent reply a few times",
        )
        assert not errors(caplog), errors(caplog)
        assert len(records(caplog, logging.WARNING, OUTAGE)) == 1

        await make_writable(bot.runtime.storage)
        await bot.fake.wait_for(
            lambda: not queued(bot.settings.database_path), 30, "the sent reply to be recorded"
        )
        person.press_option("back_of_thigh")
        await bot.question(person, "severity")
        radiation = [t for t in person.texts() if t.startswith("How far down")]
        assert len(radiation) == 1, person.transcript()
    assert records(caplog, logging.INFO, RECOVERED)
    assert not errors(caplog), errors(caplog)


async def test_stopping_while_the_database_cannot_be_written_ends_cleanly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A delivered reply that cannot be recorded is said to go again at the next start; the
    bot still stops with exit code 0 (running_bot checks) and no traceback."""
    with FakeBotApi() as fake:
        async with running_bot(tmp_path, fake=fake) as bot:
            person = fake.user(5401)
            await begin(person)
            await bot.question(person, "location")
            await bot.quiet()
            await make_read_only(bot.runtime.storage)
            person.say("hello")  # cannot be committed: not answered, not confirmed
            await fake.wait_for(lambda: records(caplog, logging.WARNING, OUTAGE), 10, "outage")
        assert not errors(caplog), errors(caplog)
        assert records(caplog, logging.WARNING, "Closing without a checkpoint")
        async with running_bot(tmp_path, fake=fake) as again:  # the update comes again
            await fake.wait_for(lambda: person.has_text("choose one"), 10, "the answer")
            await again.quiet()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_healthz_says_the_disk_is_full_while_it_is_and_ok_when_it_is_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A full disk still lets a connection take SQLite's write lock, so /healthz once said
    "ok" while no update could be committed. Now it reports the bot's own failing writes,
    with their reason, until a write works again."""
    caplog.set_level(logging.DEBUG, logger="bot")
    port = free_port()
    async with running_bot(tmp_path, HEALTH_PORT=str(port)) as bot:
        people = [bot.fake.user(5500 + n) for n in range(PEOPLE)]
        for person in people:
            await begin(person)
        for person in people:
            await bot.question(person, "location")
        await bot.quiet()
        await healthz_until(port, lambda status, _: status == 200, "ok before the disk fills")
        assert await fill_disk(bot.runtime.storage) > 0
        for _ in range(RESTARTS):  # the last free bytes of the database's pages go first
            for person in people:
                person.command("restart")
        await bot.fake.wait_for(lambda: records(caplog, logging.WARNING, OUTAGE), 30, "outage")
        status, body = await healthz(port)
        assert status == 503, body
        assert "database not writable" in body and "database or disk is full" in body, body
        await free_disk(bot.runtime.storage)
        await healthz_until(port, lambda status, _: status == 200, "ok once the disk has room")
        await bot.fake.wait_for(lambda: not bot.fake.pending_updates(), 40, "all confirmed")
    assert not errors(caplog), errors(caplog)


def only_a_failed_reply_queued(database: Path) -> bool:
    """The question waits for a retry, and the edit sent before it is recorded as sent."""
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT attempts FROM outbox").fetchall()
    return len(rows) == 1 and rows[0][0] > 0


def queued(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])


# --- the pieces ---------------------------------------------------------------------------------


async def test_storage_says_which_failures_are_the_databases_and_when_it_can_write(
    tmp_path: Path,
) -> None:
    async with await Storage.open(tmp_path / "triage.db") as storage:
        assert await storage.writable()
        await fill_disk(storage)
        with pytest.raises(StorageUnavailable, match="database or disk is full"):
            await commit(storage, update_id=1, chat_id=1, session_json="{}" * 4000)
        assert not await storage.writable()
        await free_disk(storage)
        assert await storage.writable()
        await make_read_only(storage)
        with pytest.raises(StorageUnavailable, match="read-only"):
            await commit(storage, update_id=2, chat_id=1)
        await make_writable(storage)
        assert await storage.mark_processed([3, 4]) == 2
        assert is_processed(storage, 3) and not is_processed(storage, 1)
        await make_read_only(storage)  # closing cannot tidy up now, and says so calmly


def test_an_outage_is_reported_when_it_starts_once_a_minute_and_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    now = [1000.0]
    outage = Outage("data/triage.db", clock=lambda: now[0])
    error = StorageUnavailable("the database at data/triage.db cannot be written: disk full")
    outage.recovered()  # nothing to say: there was no outage
    for at in (1000.0, 1010.0, "flap", 1059.0, 1061.0, 1100.0, 1125.0):
        if at == "flap":  # a nearly full disk lets one write through: still once a minute
            outage.recovered()
            continue
        now[0] = float(at)
        outage.failed(error)
    assert outage.down
    now[0] = 1140.0
    outage.recovered()
    outage.recovered()
    assert not outage.down
    warnings = records(caplog, logging.WARNING)
    assert len(warnings) == 3, warnings  # at 1000, 1061 and 1125
    assert all("disk full" in w for w in warnings)
    infos = records(caplog, logging.INFO, RECOVERED)
    assert len(infos) == 2 and "81 s" in infos[-1], infos  # after the flap, and at the end
