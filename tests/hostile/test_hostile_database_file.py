"""A database file deleted or replaced under the running bot is noticed, not silently lost.

SQLite keeps writing to the file it opened, so a bot whose database was deleted (or replaced,
by a careless restore) carried on as if nothing happened, and everything it wrote from then
on was gone at the next start: /healthz said "ok" (a replaced file takes the write lock) and
`triage-bot doctor` said the database was "not created yet". Now /healthz answers 503 with
the reason, the bot warns in its log (at most once a minute), and doctor fails its database
line while a bot holds the lock of a database that is not there, or that is not the file the
bot has open. The real bot polling the
fake Bot API over HTTP, on a real SQLite file.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from pathlib import Path

import pytest

import bot.storage.store as store
from bot.ops.doctor import check_database
from tests.bot_inprocess import running_bot
from tests.support.conversation import begin
from tests.support.health import healthz, healthz_until

DELETED = "was deleted while the bot runs"
REPLACED = "was replaced while the bot runs"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def warnings(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and text in r.getMessage()
    ]


def looks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The bot's looks at its file after the warning, each a DEBUG line until a minute passed."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.DEBUG and r.getMessage().startswith("still: ")
    ]


async def test_a_deleted_database_fails_healthz_doctor_and_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "FILE_CHECK_S", 0.05)  # the bot looks at its file this often
    caplog.set_level(logging.DEBUG, logger="bot")
    port = free_port()
    async with running_bot(tmp_path, HEALTH_PORT=str(port)) as bot:
        person = bot.fake.user(5601)
        await begin(person)
        await bot.question(person, "location")
        await bot.quiet()
        await healthz_until(port, lambda status, _: status == 200, "ok at first")
        database = bot.settings.database_path
        assert all(check.ok for check in check_database(database))

        database.unlink()  # the bot still has it open, and writes on as if nothing happened
        status, body = await healthz(port)
        assert status == 503 and DELETED in body, body
        writable, *_ = check_database(database)
        assert not writable.ok and "a bot is running on it" in writable.found, writable.line()
        assert not database.exists()  # doctor only looked: it created nothing

        await bot.fake.wait_for(lambda: warnings(caplog, DELETED), 10, "the bot's warning")
        person.press_option("buttock")  # the bot goes on answering, and looking
        await bot.question(person, "radiation")
        await bot.fake.wait_for(lambda: len(looks(caplog)) >= 3, 10, "three more looks")
    assert len(warnings(caplog, DELETED)) == 1  # at most once a minute: this was shorter


async def test_a_database_replaced_under_the_bot_fails_healthz_and_doctor(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy put in the file's place (a restore while the bot runs) takes the write lock,
    so only the file's identity tells it from the one the bot writes to."""
    monkeypatch.setattr(store, "FILE_CHECK_S", 0.05)
    port = free_port()
    async with running_bot(tmp_path, HEALTH_PORT=str(port)) as bot:
        person = bot.fake.user(5701)
        await begin(person)
        await bot.question(person, "location")
        await bot.quiet()
        await healthz_until(port, lambda status, _: status == 200, "ok at first")
        database = bot.settings.database_path
        assert all(check.ok for check in check_database(database))
        copy = tmp_path / "copy.db"
        shutil.copyfile(database, copy)
        os.replace(copy, database)
        status, body = await healthz(port)
        assert status == 503 and REPLACED in body, body
        # doctor, another process in life, finds the bot by its lock and asks /proc what the
        # bot has open: a file of that name that is no longer the one there
        writable, schema, intact = check_database(database)
        assert not writable.ok, writable.line()
        assert f"was replaced while a bot runs on it (process {os.getpid()} holds" in writable.found
        assert not schema.ok and not intact.ok
        await bot.fake.wait_for(lambda: warnings(caplog, REPLACED), 10, "the bot's warning")
