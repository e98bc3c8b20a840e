"""The bot as a separate process (``python -m bot run``), the way it runs in production.

Tests start it against the fake Bot API server with a real SQLite file, kill it with SIGKILL
mid-conversation and start it again. Output goes to a log file per start, so a test can read
every line the process wrote (and check that the token is in none of them). Every process is
killed when the test ends, whatever happened.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.support.fake_botapi import FAKE_TOKEN, FakeBotApi

REPO = Path(__file__).resolve().parents[2]
FLOW = REPO / "flows" / "sciatica.yaml"
BOOKING_URL = "https://clinic.example/book?src=telegram"

# Settings a developer's shell may hold; a test decides each of them itself.
_SETTINGS = (  # noqa: SIM905
    "TELEGRAM_BOT_TOKEN TELEGRAM_API_BASE_URL DATABASE_PATH DATABASE_URL BOOKING_URL "
    "ADMIN_CHAT_IDS FLOW_FILE EMERGENCY_NUMBER URGENT_ADVICE LOG_LEVEL RETENTION_DAYS "
    "BOT_USERNAME WEBHOOK_URL "
    "WEBHOOK_SECRET_TOKEN WEBHOOK_LISTEN WEBHOOK_PORT LOG_FORMAT START_NETWORK_WAIT BACKUP_DIR "
    "BACKUP_KEEP HEALTH_PORT HEALTH_LISTEN"
).split(" ")


def bot_environment(workdir: Path, base_url: str | None, **overrides: str | None) -> dict[str, str]:
    """The environment for one bot process; ``NAME=None`` leaves a setting out."""
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "TELEGRAM_BOT_TOKEN": FAKE_TOKEN,
            "DATABASE_PATH": str(workdir / "triage.db"),
            "FLOW_FILE": str(FLOW),
            "BOOKING_URL": BOOKING_URL,
            "LOG_LEVEL": "INFO",
        }
    )
    if base_url is not None:
        env["TELEGRAM_API_BASE_URL"] = base_url
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class BotProcess:
    """One ``python -m bot run``; ``kill()`` is kill -9, ``stop()`` a polite SIGTERM."""

    def __init__(self, workdir: Path, env: Mapping[str, str], name: str) -> None:
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("wb")
        # cwd is the test's own folder: no developer .env is read by accident.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=workdir,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush; what was not committed is gone."""
        if self.running():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL if it does not end within ``timeout``."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
        return self.process.returncode

    def wait_exit(self, timeout: float = 20.0) -> int:
        """The exit code of a process expected to end by itself (bounded)."""
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.running():
                self.process.kill()
                self.process.wait(timeout=10)
            self._log.close()

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text("utf-8", errors="replace")


class BotProcesses:
    """Starts bot processes for one test and kills whatever is left at the end."""

    def __init__(self, workdir: Path, base_url: str | None) -> None:
        self.workdir = workdir
        self.base_url = base_url
        self.started: list[BotProcess] = []

    def start(self, **overrides: str | None) -> BotProcess:
        env = bot_environment(self.workdir, self.base_url, **overrides)
        process = BotProcess(self.workdir, env, f"bot-{len(self.started) + 1}")
        self.started.append(process)
        return process

    async def start_polling(
        self, fake: FakeBotApi, timeout: float = 20.0, **overrides: str | None
    ) -> BotProcess:
        """Start a bot and wait until it polls the fake for updates."""
        polls = len(fake.calls("getUpdates"))
        process = self.start(**overrides)
        await fake.wait_for(
            lambda: len(fake.calls("getUpdates")) > polls or not process.running(),
            timeout,
            "the bot to start polling",
        )
        assert process.running(), f"the bot ended at start:\n{process.output()}"
        return process

    def all_output(self) -> str:
        return "\n".join(p.output() for p in self.started)

    def kill_all(self) -> None:
        for process in self.started:
            if process.running():
                process.kill()


@contextmanager
def bot_processes(workdir: Path, base_url: str | None) -> Iterator[BotProcesses]:
    processes = BotProcesses(workdir, base_url)
    try:
        yield processes
    finally:
        processes.kill_all()


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """For the few waits that have no fake server to watch (e.g. a process exiting)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)
