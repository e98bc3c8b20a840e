"""Fixtures for end-to-end tests: a fake Bot API server, started and always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import FakeBotApi
from tests.support.botprocess import BotProcesses, bot_processes


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


@pytest.fixture
def bots(tmp_path: Path, fake: FakeBotApi) -> Iterator[BotProcesses]:
    """Bot processes talking to ``fake`` with a database in tmp_path; all killed at the end."""
    with bot_processes(tmp_path, fake.base_url) as processes:
        yield processes
