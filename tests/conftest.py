"""Fixtures for every test folder: a real PostgreSQL server, and a fresh database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support import postgres


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The admin URL of this session's PostgreSQL (skips the test when there is none)."""
    with postgres.server() as url:
        yield url


@pytest.fixture
async def pg_url(pg_server: str) -> AsyncIterator[str]:
    """A ``postgresql://`` URL of an empty database of its own, dropped after the test."""
    async with postgres.fresh_database(pg_server) as url:
        yield url
