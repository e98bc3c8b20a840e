"""Fixtures for end-to-end tests: a fake Bot API server, started and always stopped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# `tests.support` lives beside this folder; pytest puts only this folder on sys.path.
REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support import FakeBotApi  # noqa: E402
from tests.support.botprocess import BotProcesses, bot_processes  # noqa: E402


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


@pytest.fixture
def bots(tmp_path: Path, fake: FakeBotApi) -> Iterator[BotProcesses]:
    """Bot processes talking to ``fake`` with a database in tmp_path; all killed at the end."""
    with bot_processes(tmp_path, fake.base_url) as processes:
        yield processes
