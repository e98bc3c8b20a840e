"""`triage-bot run` with something wrong: one clear sentence, a non-zero exit, no traceback."""

from __future__ import annotations

import re
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.storage import SCHEMA_VERSION
from tests.support import FAKE_TOKEN, FakeBotApi
from tests.support.botprocess import bot_processes, wait_until
from tests.support.conversation import begin, wait_for_question

pytestmark = pytest.mark.slow


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def broken_flow(tmp_path: Path) -> str:
    flow = tmp_path / "broken.yaml"
    flow.write_text(
        "flow: sciatica\nversion: 1\ntitle: Broken\nlanguages: [en]\nstart: welcome\n"
        "steps:\n  welcome:\n    type: message\n    text: Hi\n    next: nowhere\n",
        "utf-8",
    )
    return str(flow)


def under_a_file(tmp_path: Path) -> str:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be", "utf-8")
    return str(blocker / "triage.db")


def newer_database(tmp_path: Path) -> str:
    """A database written by a later version of the bot (one migration more than we know)."""
    path = tmp_path / "newer.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    return str(path)


Settings = Callable[[Path, str], dict[str, str | None]]

CASES: dict[str, tuple[Settings, str]] = {
    "missing token": (lambda tmp, api: {"TELEGRAM_BOT_TOKEN": None}, r"TELEGRAM_BOT_TOKEN"),
    "malformed token": (
        lambda tmp, api: {"TELEGRAM_BOT_TOKEN": "12345:short"},
        r"TELEGRAM_BOT_TOKEN does not look like a bot token",
    ),
    "unreachable API": (
        lambda tmp, api: {
            "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{closed_port()}/bot",
            "START_NETWORK_WAIT": "2",  # tries for 2 s, then gives up
        },
        r"[Cc]annot reach the Telegram Bot API",
    ),
    "broken flow file": (
        lambda tmp, api: {"FLOW_FILE": broken_flow(tmp)},
        r"flow file is not valid",
    ),
    "unwritable database path": (
        lambda tmp, api: {"DATABASE_PATH": under_a_file(tmp)},
        r"not-a-folder",
    ),
    "database from a newer version": (
        lambda tmp, api: {"DATABASE_PATH": newer_database(tmp)},
        rf"schema version {SCHEMA_VERSION + 1}, but this version of the bot knows only up to "
        rf"{SCHEMA_VERSION}: upgrade the bot",
    ),
    "token rejected by Telegram": (
        lambda tmp, api: {"TELEGRAM_API_BASE_URL": api},
        r"rejected the bot token",
    ),
    # 404 for getMe (a wrong token path): no waiting for the network, whatever the limit.
    "404 from getMe": (
        lambda tmp, api: {
            "TELEGRAM_API_BASE_URL": api.removesuffix("/bot") + "/nobot",
            "START_NETWORK_WAIT": "600",
        },
        r"rejected the bot token",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_start_ends_with_one_clear_sentence(case: str, tmp_path: Path) -> None:
    settings, expected = CASES[case]
    # A Bot API that refuses our token, for the last case; the others never reach it.
    with (
        FakeBotApi(valid_tokens={"1:someone-else"}) as fake,
        bot_processes(tmp_path, fake.base_url) as bots,
    ):
        bot = bots.start(**settings(tmp_path, fake.base_url))
        code = bot.wait_exit(timeout=45)
        output = bot.output()

    assert code != 0, output
    assert "Traceback" not in output, output
    assert FAKE_TOKEN not in output and FAKE_TOKEN.split(":")[1] not in output
    # Log lines (timestamped) may come before it; the first other line says what is wrong.
    said = [line for line in output.splitlines() if line.strip() and not LOG_LINE.match(line)]
    assert said and re.search(expected, said[0]), output
    assert len([line for line in said if line.startswith("triage-bot:")]) <= 1, output
    if case == "broken flow file":  # then every problem, Elm-style, with where it is
        assert re.search(r"broken\.yaml:10:\d+ .*'nowhere' is not a step", output), output


async def test_a_network_that_is_not_up_yet_is_waited_for(tmp_path: Path) -> None:
    """The server has just booted: the Bot API is not reachable for the first seconds."""
    port = closed_port()
    with bot_processes(tmp_path, f"http://127.0.0.1:{port}/bot") as bots:
        bot = bots.start(START_NETWORK_WAIT="60")
        wait_until(lambda: bot.output().count("Cannot reach the Telegram Bot API") >= 2, 20,
                   "two tries against the network that is not up")  # fmt: skip
        with FakeBotApi(port=port) as fake:  # the network comes up
            await fake.wait_for(lambda: fake.calls("getUpdates"), 20, "the first poll")
            person = fake.user(7201)
            await begin(person)
            await wait_for_question(person, "location")
            assert bot.stop() == 0
        output = bot.output()
    tries = [line for line in output.splitlines() if "Cannot reach the Telegram Bot API" in line]
    assert 2 <= len(tries) <= 4, output
    assert "try 1, next in 1 s" in tries[0] and "try 2, next in 2 s" in tries[1], output
    assert "Traceback" not in output and FAKE_TOKEN.split(":")[1] not in output
    assert "Connected to the Bot API" in output
