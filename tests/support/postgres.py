"""A real PostgreSQL server for tests: one per test session, a fresh database per test.

``TEST_DATABASE_URL`` (a server where the tests may create and drop databases) is used when
set; otherwise ``scripts/pg`` starts a throw-away server (initdb in a temporary folder,
127.0.0.1 on a free port) and stops it at the end. Without PostgreSQL's binaries the tests
that need it are skipped with one line, unless ``TRIAGE_REQUIRE_POSTGRES=1`` (CI), where
that is a failure.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pg"
START_TIMEOUT_S = 120.0
_numbers = itertools.count(1)


def binaries_present() -> bool:
    given = os.environ.get("PG_BIN")
    if given:
        return (Path(given) / "initdb").is_file()
    return any(Path("/usr/lib/postgresql").glob("*/bin/initdb")) or _on_path("pg_config")


def _on_path(name: str) -> bool:
    return any((Path(folder) / name).is_file() for folder in os.environ["PATH"].split(":"))


@contextmanager
def server() -> Iterator[str]:
    """The admin URL of a server for this test session (see the module's docstring)."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given
        return
    if not binaries_present():
        reason = "PostgreSQL is not installed (apt-get install postgresql): test skipped"
        if os.environ.get("TRIAGE_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    started = subprocess.run(
        [str(SCRIPT), "start"], capture_output=True, text=True, timeout=START_TIMEOUT_S
    )
    if started.returncode != 0:
        pytest.fail(f"scripts/pg start failed: {started.stderr.strip()}", pytrace=False)
    folder = started.stdout.strip()
    try:
        env = subprocess.run(
            [str(SCRIPT), "env", folder], capture_output=True, text=True, check=True
        )
        yield env.stdout.strip().removeprefix("DATABASE_URL=")
    finally:
        subprocess.run([str(SCRIPT), "stop", folder], capture_output=True, timeout=60)


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@asynccontextmanager
async def fresh_database(admin_url: str) -> AsyncIterator[str]:
    """A new, empty database on the server, dropped afterwards (its connections too)."""
    name = f"triage_test_{os.getpid()}_{next(_numbers)}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(admin_url, name)
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
