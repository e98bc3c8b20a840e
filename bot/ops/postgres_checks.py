"""``triage-bot doctor``'s database lines for a PostgreSQL database (``DATABASE_URL``).

The same three lines as for the SQLite file, from one connection of the doctor's own that
writes nothing: can it take a row lock (a transaction rolled back), which schema version it
holds, and whether the server answers at all. PostgreSQL checks its own pages, so integrity
is the server's: the line says so.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from bot.ops.doctor_checks import Check, failed, passed
from bot.storage.pg_schema import SCHEMA_VERSION, schema_version

CONNECT_TIMEOUT_S = 10.0
WRITABLE, SCHEMA, INTEGRITY = "database writable", "migrations", "integrity"


async def check_postgres(url: str, name: str) -> list[Check]:
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        found = f"cannot connect to {name}: {_first_line(error)}"
        fix = "check DATABASE_URL, and that PostgreSQL is running and lets this user in"
        return [failed(WRITABLE, found, fix), *_unknown()]
    try:
        return [await _writable(conn, name), await _schema(conn, name), _integrity(name)]
    finally:
        await conn.close()


async def _writable(conn: Any, name: str) -> Check:
    try:
        async with conn.transaction(readonly=False):
            await conn.execute("CREATE TEMP TABLE doctor_probe (x int) ON COMMIT DROP")
            await conn.execute("SELECT 1 FROM pg_class FOR UPDATE LIMIT 0")
    except asyncpg.PostgresError as error:
        return failed(WRITABLE, f"{name}: {_first_line(error)}", "give the bot's user write access")
    read_only = await conn.fetchval("SHOW default_transaction_read_only")
    if read_only == "on":
        return failed(WRITABLE, f"{name} is read-only", "connect to the primary, not a replica")
    return passed(WRITABLE, name)


async def _schema(conn: Any, name: str) -> Check:
    version = await schema_version(conn)
    if version > SCHEMA_VERSION:
        return failed(
            SCHEMA,
            f"schema version {version}, newer than this bot knows ({SCHEMA_VERSION})",
            "run the bot version that wrote it",
        )
    if version == 0:
        return passed(SCHEMA, "an empty database; the first start creates the tables")
    if version < SCHEMA_VERSION:
        return passed(
            SCHEMA,
            f"schema version {version}; the next start upgrades it to {SCHEMA_VERSION} "
            "(back up with pg_dump first)",
        )
    return passed(SCHEMA, f"schema version {version}, current")


def _integrity(name: str) -> Check:
    return passed(INTEGRITY, f"checked by PostgreSQL itself ({name})")


def _unknown() -> list[Check]:
    return [
        failed(SCHEMA, "no connection", "fix the line above"),
        failed(INTEGRITY, "no connection", "fix the line above"),
    ]


def _first_line(error: BaseException) -> str:
    return (str(error).strip() or type(error).__name__).splitlines()[0].rstrip(".")
