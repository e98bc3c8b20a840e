"""Waiting for the network at start: growing waits, a time limit, stop, and no wait for a
rejected token (bot.telegram.startup; the real thing over HTTP is in tests/e2e); and a start
without the practice's flow."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from telegram.error import InvalidToken, NetworkError, TimedOut

from bot.config import load_settings
from bot.run import serve
from bot.telegram.runtime import StartupError
from bot.telegram.startup import connect_when_up

TOKEN = "123456789:AAHk3z_example-token-0123456789abcdefg"


class Scripted:
    """connect() fails with the given errors, then succeeds; a clock that the pauses move."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.now = 0.0
        self.waits: list[float] = []

    async def connect(self) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)

    async def pause(self, stop: asyncio.Event, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += seconds
        return stop.is_set()


async def test_waits_double_up_to_a_minute_and_each_try_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    script = Scripted(*[NetworkError(f"refused at bot{TOKEN}") for _ in range(8)])
    caplog.set_level(logging.INFO, "bot.telegram.startup")
    up = await connect_when_up(
        script.connect, limit=600, stop=asyncio.Event(), where="https://api.example/bot",
        secrets=[TOKEN], clock=lambda: script.now, pause=script.pause,
    )  # fmt: skip
    assert up and script.calls == 9
    assert script.waits == [1, 2, 4, 8, 16, 32, 60, 60]
    tries = [r.getMessage() for r in caplog.records if "Cannot reach" in r.getMessage()]
    assert len(tries) == 8
    assert "try 1, next in 1 s" in tries[0] and "refused at bot<token>" in tries[0]
    assert all(TOKEN not in line for line in tries)
    assert "answered on try 9" in caplog.text


async def test_gives_up_after_the_limit_with_the_last_error() -> None:
    script = Scripted(*[TimedOut() for _ in range(100)])
    with pytest.raises(TimedOut):
        await connect_when_up(
            script.connect, limit=10, stop=asyncio.Event(), where="x",
            clock=lambda: script.now, pause=script.pause,
        )  # fmt: skip
    assert script.waits == [1, 2, 4, 3]  # the last wait ends at the limit
    assert sum(script.waits) == 10


async def test_a_rejected_token_is_not_waited_for() -> None:
    script = Scripted(InvalidToken("Unauthorized"))
    with pytest.raises(InvalidToken):
        await connect_when_up(
            script.connect, limit=600, stop=asyncio.Event(), where="x",
            clock=lambda: script.now, pause=script.pause,
        )  # fmt: skip
    assert script.waits == []


async def test_stop_while_waiting_ends_the_wait() -> None:
    stop = asyncio.Event()
    stop.set()
    script = Scripted(NetworkError("refused"), NetworkError("refused"))
    up = await connect_when_up(
        script.connect, limit=600, stop=stop, where="x",
        clock=lambda: script.now, pause=script.pause,
    )  # fmt: skip
    assert not up and script.calls == 1


async def test_no_wait_at_all_when_the_limit_is_zero() -> None:
    script = Scripted(NetworkError("refused"))
    with pytest.raises(NetworkError):
        await connect_when_up(
            script.connect, limit=0, stop=asyncio.Event(), where="x",
            clock=lambda: script.now, pause=script.pause,
        )  # fmt: skip
    assert script.calls == 1


async def test_a_start_without_the_practices_copy_of_the_flow_says_how_to_make_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # .env.example names the practice's copy, practice/sciatica.yaml: before flows init made
    # it, the start stops with the way to make it (and touches no database).
    monkeypatch.chdir(tmp_path)
    environ = {"TELEGRAM_BOT_TOKEN": TOKEN, "FLOW_FILE": "practice/sciatica.yaml"}
    settings = load_settings(environ, env_file=None)
    with pytest.raises(StartupError) as caught:
        await serve(settings)
    assert str(caught.value) == (
        "There is no flow file at practice/sciatica.yaml (FLOW_FILE): make the practice's copy "
        "with `triage-bot flows init`, or leave FLOW_FILE blank for the shipped flow."
    )
    assert not (tmp_path / "data").exists()
