"""Fixtures for every test folder: a real PostgreSQL server, a fresh database per test, and the
guard that keeps every test off the practice's own files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support import postgres, private


@pytest.fixture(autouse=True)
def _never_the_practices_own_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads the developer's .env or anything in practice/; nor does a FLOW_FILE set
    in the developer's shell reach a test that did not set one itself."""
    monkeypatch.delenv("FLOW_FILE", raising=False)
    del private.touched[:]
    yield
    touched = sorted(set(private.touched))
    del private.touched[:]
    assert not touched, (
        f"This test read {', '.join(touched)}: the developer's settings or the practice's own "
        "flow. Tests pin the shipped flow only: run the code from tmp_path "
        "(monkeypatch.chdir) or pass the settings and the flow explicitly."
    )


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
