"""``triage-bot backup``, ``restore`` (and ``doctor``): the operator's commands.

    triage-bot backup [--to FILE]    copy the database now (default: BACKUP_DIR/triage-<time>.db)
    triage-bot restore FILE          put a backup in place of the database (bot stopped)
    triage-bot doctor                every check before going live: one line each, ✓ or ✗
    triage-bot db copy --from sqlite:///FILE --to postgresql://...   move to PostgreSQL

They read the same settings as ``triage-bot run`` (``.env``, the environment) but need no
token (``doctor`` checks it if it is there). Every expected failure is one sentence on stderr
and exit code 1; ``doctor`` exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings, load_settings
from bot.ops import dbcopy
from bot.ops.backup import BackupError, default_target, prune, restore, take_backup
from bot.ops.dblock import DatabaseInUse
from bot.redact import redacted_url
from bot.storage import StorageError

OK, FAILED = 0, 1
_NOT_SQLITE = (
    "the database is PostgreSQL (DATABASE_URL): back it up with pg_dump and restore it with "
    "pg_restore (docs/deploy.md), these commands copy a SQLite file"
)


def add_commands(commands: Any) -> None:
    """Add the commands to ``triage-bot``'s sub-command parsers."""
    backup = commands.add_parser(
        "backup", help="copy the database now, safely while the bot runs (SQLite's backup API)"
    )
    backup.add_argument(
        "--to", metavar="FILE", type=Path,
        help="where to write it (default: a new triage-<time>.db in BACKUP_DIR)",
    )  # fmt: skip
    backup.set_defaults(handler=cmd_backup)

    restore_ = commands.add_parser(
        "restore", help="replace the database by a backup (the bot must be stopped)"
    )
    restore_.add_argument("file", metavar="FILE", type=Path, help="a backup file")
    restore_.set_defaults(handler=cmd_restore)

    db = commands.add_parser("db", help="database tools: copy SQLite into PostgreSQL")
    db_tools = db.add_subparsers(dest="tool", metavar="TOOL", required=True)
    copy = db_tools.add_parser(
        "copy", help="copy every table into a new, empty PostgreSQL database, verified"
    )
    copy.add_argument("--from", dest="source", required=True, metavar="sqlite:///FILE")
    copy.add_argument("--to", dest="target", required=True, metavar="postgresql://...")
    copy.set_defaults(handler=cmd_db_copy)

    doctor = commands.add_parser(
        "doctor", help="check settings, token, webhook, flow, database, disk, backups, admins"
    )
    doctor.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    # python-telegram-bot (a few tenths of a second to import) only for the command that asks
    # Telegram: a deliberate start-up cost choice, since every triage-bot command imports this.
    from bot.ops.doctor import examine

    logging.getLogger("httpx").setLevel(logging.WARNING)  # its URLs carry the token
    checks = asyncio.run(examine(lambda: load_settings(require_token=False)))
    for check in checks:
        print(check.line(), flush=True)
    bad = [check for check in checks if not check.ok]
    if bad:
        print(f"{len(bad)} of {len(checks)} checks failed.")
        return FAILED
    print(f"All {len(checks)} checks passed.")
    return OK


def _settings() -> Settings | None:
    try:
        return load_settings(require_token=False)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return None


def _fail(message: str) -> int:
    print(f"{message[0].upper()}{message[1:]}.", file=sys.stderr)
    return FAILED


def cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings is None:
        return FAILED
    if settings.database_url is not None:
        return _fail(_NOT_SQLITE)
    now = time.time()
    if args.to is not None:
        target: Path = args.to
    elif settings.backup_dir is not None:
        target = default_target(settings.backup_dir, now)
    else:
        return _fail("set BACKUP_DIR in .env, or say where with --to FILE")
    try:
        made = take_backup(settings.database_path, target, now=now)
        removed = []
        if settings.backup_dir is not None and target.parent.resolve() == (
            settings.backup_dir.resolve()
        ):
            removed = prune(settings.backup_dir, settings.backup_keep)
    except BackupError as error:
        return _fail(str(error))
    size = f"{made.size / 1024:.0f} KB"
    print(f"Backed up {settings.database_path} to {made.path} ({size}, schema version "
          f"{made.schema_version}).")  # fmt: skip
    if removed:
        print(f"Removed {len(removed)} older backup(s), keeping the newest "
              f"{settings.backup_keep} (BACKUP_KEEP).")  # fmt: skip
    return OK


def cmd_db_copy(args: argparse.Namespace) -> int:
    try:
        copied = asyncio.run(dbcopy.copy(args.source, args.target))
    except (dbcopy.CopyError, StorageError, DatabaseInUse) as error:
        return _fail(str(error))
    for table in copied:
        print(f"{table.table}: {table.rows} rows, checksum {table.checksum[:16]} on both sides")
    total = sum(table.rows for table in copied)
    print(f"Copied {total} rows in {len(copied)} tables into {redacted_url(args.target)}; "
          "set DATABASE_URL to it and start the bots.")  # fmt: skip
    return OK


def cmd_restore(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings is None:
        return FAILED
    if settings.database_url is not None:
        return _fail(_NOT_SQLITE)
    try:
        done = restore(args.file, settings.database_path)
    except (BackupError, DatabaseInUse) as error:
        return _fail(str(error))
    print(f"Restored {done.source} into {done.database} (schema version "
          f"{done.schema_version}).")  # fmt: skip
    if done.replaced is not None:
        print(f"The file it replaced is kept at {done.replaced}; delete it once all is well.")
    print("Start the bot again; `triage-bot doctor` checks everything first.")
    return OK
