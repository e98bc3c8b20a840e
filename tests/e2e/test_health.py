"""`triage-bot run` with HEALTH_PORT: /healthz is up before Telegram is reachable (503, "no
answer from Telegram yet"), turns 200 once the Bot API answers, and /metrics is served."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support import FakeBotApi
from tests.support.botprocess import bot_processes, wait_until

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return None  # not listening yet


def test_healthz_tells_the_network_is_not_up_then_that_all_is_well(tmp_path: Path) -> None:
    api_port, health_port = free_port(), free_port()
    with bot_processes(tmp_path, f"http://127.0.0.1:{api_port}/bot") as bots:
        bot = bots.start(HEALTH_PORT=str(health_port), START_NETWORK_WAIT="60")
        seen: list[tuple[int, str] | None] = []
        wait_until(lambda: seen.append(get(health_port, "/healthz")) or seen[-1], 20,
                   "the health server")  # fmt: skip
        assert seen[-1] == (503, "no answer from Telegram yet since the start\n"), bot.output()
        with FakeBotApi(port=api_port):  # the network comes up
            wait_until(lambda: (get(health_port, "/healthz") or (0, ""))[0] == 200, 30,
                       "/healthz to turn 200")  # fmt: skip
            metrics = get(health_port, "/metrics")
            assert metrics is not None and metrics[0] == 200
            assert "triage_last_telegram_contact_timestamp_seconds" in metrics[1]
            assert bot.stop() == 0
    assert "Traceback" not in bot.output()
