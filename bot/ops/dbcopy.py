"""``triage-bot db copy``: move a SQLite database into an empty PostgreSQL one, verified.

    triage-bot db copy --from sqlite:///data/triage.db --to postgresql://USER:PASS@HOST/DB

Every table the schema holds (sessions, exactly-once update ids, the outbox, anonymous events,
leads, follow-ups, small facts) is copied row for row, ids included, in ONE PostgreSQL
transaction, and verified before it commits: the same number of rows in each table and the
same checksum (SHA-256 over every row, in key order, of the values as Python reads them). Any
difference rolls the whole copy back. The target is brought to the current schema first and
must be empty; the source is brought to the current schema too (as the bot would at start),
and must not be in use by a running bot (its lock is held for the copy).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import asyncpg

from bot.ops.dblock import holding_lock
from bot.redact import redacted_url
from bot.storage import Storage
from bot.storage.pg_schema import SERIAL_TABLES
from bot.storage.postgres import PostgresStorage

# Every table of the schema and the column that orders it (its primary key). A table the
# source holds and this does not name stops the copy: nothing is left behind unnoticed.
TABLES: Final = {
    "chats": "chat_id",
    "processed_updates": "update_id",
    "outbox": "id",
    "events": "id",
    "leads": "id",
    "followups": "id",
    "meta": "key",
}
SQLITE_OWN: Final = ("sqlite_sequence", "sqlite_stat1", "sqlite_stat4")


class CopyError(Exception):
    """The copy cannot be made or did not verify; one sentence, nothing was written."""


@dataclass(frozen=True, slots=True)
class Copied:
    table: str
    rows: int
    checksum: str  # the same on both sides


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///") or url == "sqlite:///":
        raise CopyError(f"--from must be a SQLite file as sqlite:///path, got {url!r}")
    return Path(url.removeprefix("sqlite:///"))


def postgres_url(url: str) -> str:
    if not url.startswith(("postgresql://", "postgres://")):
        raise CopyError(
            f"--to must be a PostgreSQL database as postgresql://..., got {redacted_url(url)!r}"
        )
    return url


async def copy(source_url: str, target_url: str) -> list[Copied]:
    """Copy, verify, commit; the tables as copied. Raises CopyError or StorageError."""
    source = sqlite_path(source_url)
    target = postgres_url(target_url)
    if not source.is_file():
        raise CopyError(f"there is no SQLite database at {source}")
    with holding_lock(source):  # DatabaseInUse: a bot is running on it
        await (await Storage.open(source)).close()  # the current schema, as the bot sees it
        with contextlib.closing(_reading(source)) as conn:
            tables = _tables(conn)
            rows = {table: _sqlite_rows(conn, table) for table in tables}
            columns = {table: _columns(conn, table) for table in tables}
        store = await PostgresStorage.open(target)  # migrated to the current schema
        await store.close()
        conn_pg = await asyncpg.connect(target)
        try:
            async with conn_pg.transaction():
                await _refuse_non_empty(conn_pg, target)
                return await _copy_all(conn_pg, columns, rows)
        finally:
            await conn_pg.close()


def _reading(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.execute("BEGIN")  # one snapshot for every table
    return conn


def _tables(conn: sqlite3.Connection) -> list[str]:
    found = [
        name
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if name not in SQLITE_OWN
    ]
    unknown = sorted(set(found) - set(TABLES))
    if unknown:
        raise CopyError(
            f"the source holds tables this version cannot copy ({', '.join(unknown)}): "
            "upgrade triage-bot first"
        )
    return [table for table in TABLES if table in found]


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _sqlite_rows(conn: sqlite3.Connection, table: str) -> list[tuple[Any, ...]]:
    columns = ", ".join(_columns(conn, table))
    return [tuple(row) for row in conn.execute(f"SELECT {columns} FROM {table}")]


async def _refuse_non_empty(conn: asyncpg.Connection, url: str) -> None:
    filled = [t for t in TABLES if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {t})")]
    if filled:
        raise CopyError(
            f"the database at {redacted_url(url)} is not empty ({', '.join(filled)} hold rows): "
            "copy only into a new, empty database"
        )


async def _copy_all(
    conn: asyncpg.Connection,
    columns: dict[str, list[str]],
    rows: dict[str, list[tuple[Any, ...]]],
) -> list[Copied]:
    copied = []
    for table, names in columns.items():
        source_rows = rows[table]
        if source_rows:
            await conn.copy_records_to_table(table, records=source_rows, columns=names)
        if table in SERIAL_TABLES:
            # The next id the sequence hands out must follow the copied ones.
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        target_rows = [
            tuple(row) for row in await conn.fetch(f"SELECT {', '.join(names)} FROM {table}")
        ]
        key = names.index(TABLES[table])
        expected, found = _checksum(source_rows, key), _checksum(target_rows, key)
        if len(target_rows) != len(source_rows) or found != expected:
            raise CopyError(
                f"the copy of {table} did not verify ({len(source_rows)} rows read, "
                f"{len(target_rows)} written, checksums {expected[:12]} and {found[:12]}): "
                "nothing was written"
            )
        copied.append(Copied(table, len(source_rows), expected))
    return copied


def _checksum(rows: Iterable[Sequence[Any]], key: int) -> str:
    """SHA-256 over the rows in key order, each value as JSON (floats by their exact repr)."""
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda row: row[key]):
        digest.update(json.dumps(list(row), ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()
