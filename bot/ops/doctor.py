"""``triage-bot doctor``: is everything in place to go live, or to restart after an upgrade?

One line per check, ✓ or ✗, and for a ✗ what to do about it; exit code 0 only when every
check passed, so ``triage-bot doctor && systemctl restart triage-bot`` is safe to script.

The checks go from local to remote, in the order a person setting up would fix things:
settings, the flow file, the database (writable, schema version, ``PRAGMA integrity_check``),
free disk, the newest backup, then Telegram: the token (``getMe``), the webhook against the
chosen mode (``getWebhookInfo``) and each admin chat (``getChat``). It reads, never changes: no
database is created or migrated, no webhook set or removed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.config import ConfigError, Settings, load_settings
from bot.flow import check_flow
from bot.flow.safety_rules import broken_rules
from bot.ops.backup import newest_backup
from bot.ops.database import (
    DatabaseProblem,
    check_schema,
    check_writable,
    connect_existing,
    integrity_problems,
    schema_version_of,
)
from bot.ops.dblock import holder, in_use, replaced_under
from bot.ops.doctor_checks import Check, failed, passed
from bot.ops.postgres_checks import check_postgres
from bot.storage import SCHEMA_VERSION
from bot.storage.lock import lock_path

MIN_FREE_BYTES = 200 * 1024 * 1024  # below this a busy day's WAL and a backup may not fit
BACKUP_MAX_AGE = 26 * 3600.0  # daily, with two hours' slack for a slow or late run
WEBHOOK_ERROR_RECENT = 3600.0  # a delivery error older than this is history, not a problem
REQUEST_TIMEOUT = 10.0

# --- the whole report ----------------------------------------------------------------------------


async def examine(
    load: Callable[[], Settings] = load_settings, *, now: float | None = None
) -> list[Check]:
    """Every check, in order. Settings that cannot be read stop it there (nothing else can be
    looked at without them)."""
    try:
        settings = load()
    except ConfigError as error:
        return [failed("settings", str(error).rstrip("."), "fix it in .env (see .env.example)")]
    checks = [passed("settings", _describe(settings))]
    checks.append(check_flow_file(settings))
    if settings.database_url is not None:
        checks.extend(await check_postgres(settings.database_url, settings.database_name))
    else:
        checks.extend(check_database(settings.database_path))
    checks.append(check_disk(settings))
    checks.append(check_backups(settings, time.time() if now is None else now))
    checks.extend(await check_telegram(settings, time.time() if now is None else now))
    return checks


def _describe(settings: Settings) -> str:
    mode = f"webhook mode ({settings.webhook_url})" if settings.webhook_mode else "polling mode"
    return f"read; {mode}, database {settings.database_name}"


# --- local -------------------------------------------------------------------------------------


def check_flow_file(settings: Settings) -> Check:
    name = "flow"
    path = settings.flow_file
    if not path.is_file():
        return failed(
            name,
            f"there is no flow file at {path}",
            "make the practice's copy with `triage-bot flows init` (it goes into practice/), "
            "or set FLOW_FILE to where it is",
        )
    problems = check_flow(path)
    errors = [p for p in problems if p.is_error]
    if errors:
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        rules = ", ".join(rule.label for rule in broken_rules([p.message for p in errors]))
        breaks = f", breaking the safety rules {rules}" if rules else ""
        return failed(
            name,
            f"{path} has {count}{breaks}",
            f"run `triage-bot flows check {path}` to see and fix them",
        )
    return passed(name, f"{path} is valid")


def check_database(path: Path) -> list[Check]:
    """Writable, schema version, integrity: three lines, from one look at the file."""
    writable, schema, intact = "database writable", "migrations", "integrity"
    if not path.exists() and in_use(path):
        return [
            failed(
                writable,
                f"{path} is missing, but a bot is running on it (it holds {lock_path(path)}): "
                "its database was deleted under it, and what it writes now is lost when it "
                "stops",
                "stop the bot and `triage-bot restore` the newest backup",
            ),
            failed(schema, "no database", "fix the line above"),
            failed(intact, "no database", "fix the line above"),
        ]
    pid = holder(path) if path.exists() and in_use(path) else None
    if pid is not None and replaced_under(path, pid):
        return [
            failed(
                writable,
                f"{path} was replaced while a bot runs on it (process {pid} holds "
                f"{lock_path(path)}): the bot still writes to the file it opened, which is no "
                "longer there, and what it writes now is lost when it stops",
                "stop the bot, make sure the file in place is the one you want (or "
                "`triage-bot restore` the newest backup), then start it again",
            ),
            failed(schema, "not the bot's database", "fix the line above"),
            failed(intact, "not the bot's database", "fix the line above"),
        ]
    if not path.exists():
        folder = next((p for p in path.parents if p.exists()), Path("."))
        if folder.is_dir() and _can_write(folder):
            note = "not created yet; the first start creates it"
            return [
                passed(writable, f"{path} {note}"),
                passed(schema, "none to run yet"),
                passed(intact, "nothing to check yet"),
            ]
        return [
            failed(
                writable,
                f"{path} cannot be created ({folder} is not a writable folder)",
                "create the folder and give it to the bot's user, or set DATABASE_PATH",
            ),
            failed(schema, "no database", "fix the line above"),
            failed(intact, "no database", "fix the line above"),
        ]
    try:
        with connect_existing(path) as conn:
            return [
                _writable(conn, path, writable),
                _schema(conn, path, schema),
                _integrity(conn, path, intact),
            ]
    except DatabaseProblem as problem:
        fix = "set DATABASE_PATH to the bot's database file"
        return [
            failed(writable, str(problem), fix),
            failed(schema, "not checked", fix),
            failed(intact, "not checked", fix),
        ]


def _can_write(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def _writable(conn: sqlite3.Connection, path: Path, name: str) -> Check:
    try:
        check_writable(conn, path)
    except DatabaseProblem as problem:
        return failed(
            name,
            str(problem),
            "give the file and its folder to the bot's user (chown), or free the "
            "database from whatever holds it",
        )
    return passed(name, f"{path}")


def _schema(conn: sqlite3.Connection, path: Path, name: str) -> Check:
    try:
        version = schema_version_of(conn, path)
        check_schema(version, path)
    except DatabaseProblem as problem:
        return failed(name, str(problem), "run the bot version that wrote it, or restore a backup")
    if version < SCHEMA_VERSION:
        return passed(
            name,
            f"schema version {version}; the next start upgrades it to "
            f"{SCHEMA_VERSION} (back up first)",
        )
    return passed(name, f"schema version {version}, current")


def _integrity(conn: sqlite3.Connection, path: Path, name: str) -> Check:
    problems = integrity_problems(conn)
    if problems:
        return failed(
            name,
            f"{path} is damaged ({problems[0]})",
            "stop the bot and `triage-bot restore` the newest backup",
        )
    return passed(name, "PRAGMA integrity_check: ok")


def check_disk(settings: Settings) -> Check:
    """Free space where the database file lives; with PostgreSQL, where the bot runs (its
    logs, the practice's files), since the database's own disk is on its server."""
    name = "free disk"
    if settings.database_url is not None:
        folder = Path.cwd()
        where = f"{folder} (the bot's folder; PostgreSQL's disk is its server's to watch)"
    else:
        parents = settings.database_path.resolve().parents
        folder = next((p for p in parents if p.exists()), Path("/"))
        where = str(folder)
    usage = shutil.disk_usage(folder)
    found = f"{_size(usage.free)} free of {_size(usage.total)} at {where}"
    if usage.free < MIN_FREE_BYTES:
        return failed(name, found, f"free at least {_size(MIN_FREE_BYTES)} (old backups, logs)")
    return passed(name, found)


def check_backups(settings: Settings, now: float) -> Check:
    name = "last backup"
    folder = settings.backup_dir
    if folder is None:
        return failed(
            name,
            "BACKUP_DIR is not set, so there are no daily backups",
            "set BACKUP_DIR in .env (e.g. data/backups) and restart the bot",
        )
    newest = newest_backup(folder)
    if newest is None:
        return failed(
            name,
            f"no backup in {folder} yet",
            "run `triage-bot backup` (the running bot makes one daily)",
        )
    path, written = newest
    age = now - written
    found = f"{path.name}, {_age(age)} old"
    if age > BACKUP_MAX_AGE:
        return failed(
            name,
            found,
            "is the bot running? Its log says why the daily backup failed; "
            "`triage-bot backup` makes one now",
        )
    return passed(name, found)


# --- Telegram ----------------------------------------------------------------------------------


async def check_telegram(settings: Settings, now: float) -> list[Check]:
    """Token, webhook, admin chats: one Bot API session for all three."""
    token_name = "token"
    if not settings.telegram_bot_token:
        fix = "put the token from @BotFather in .env as TELEGRAM_BOT_TOKEN"
        return [failed(token_name, "TELEGRAM_BOT_TOKEN is not set", fix)]
    request = HTTPXRequest(connect_timeout=REQUEST_TIMEOUT, read_timeout=REQUEST_TIMEOUT)
    bot = Bot(
        settings.telegram_bot_token,
        base_url=settings.api_base_url or "https://api.telegram.org/bot",
        request=request,
        get_updates_request=HTTPXRequest(connect_timeout=REQUEST_TIMEOUT),
    )
    try:
        try:
            await bot.initialize()  # getMe
        except InvalidToken:
            return [
                failed(
                    token_name,
                    "Telegram rejected TELEGRAM_BOT_TOKEN",
                    "copy the token again from @BotFather (/mybots, API Token)",
                )
            ]
        except TelegramError as error:
            where = settings.public_api_url
            return [
                failed(
                    token_name,
                    f"cannot reach {where}: {_said(error, settings)}",
                    "check the server's internet connection and DNS (and "
                    "TELEGRAM_API_BASE_URL, if set)",
                )
            ]
        checks = [passed(token_name, f"accepted, the bot is @{bot.username}")]
        checks.append(await _webhook(bot, settings, now))
        checks.extend(await _admins(bot, settings))
        return checks
    finally:
        await bot.shutdown()


async def _webhook(bot: Bot, settings: Settings, now: float) -> Check:
    name = "webhook"
    try:
        info = await bot.get_webhook_info()
    except TelegramError as error:
        return failed(name, f"getWebhookInfo failed: {_said(error, settings)}", "try again")
    waiting = f"{info.pending_update_count} update(s) waiting"
    if not settings.webhook_mode:
        if info.url:
            return failed(
                name,
                f"polling mode, but a webhook is set ({info.url}); {waiting}",
                "set WEBHOOK_URL to it to keep webhook mode, or start the bot: "
                "polling removes the webhook",
            )
        return passed(name, f"none, as polling mode wants; {waiting}")
    if not info.url:
        return failed(
            name,
            f"webhook mode, but no webhook is set; {waiting}",
            "start the bot: it registers WEBHOOK_URL with Telegram",
        )
    if info.url != settings.webhook_url:
        return failed(
            name,
            f"Telegram sends to {info.url}, not WEBHOOK_URL ({settings.webhook_url}); {waiting}",
            "restart the bot so that it registers WEBHOOK_URL",
        )
    when = info.last_error_date
    if when is not None and now - when.timestamp() < WEBHOOK_ERROR_RECENT:
        ago = _age(now - when.timestamp())
        return failed(
            name,
            f"{info.url}: Telegram's last delivery failed {ago} ago "
            f"({info.last_error_message}); {waiting}",
            "check that the proxy forwards this address to WEBHOOK_LISTEN:"
            "WEBHOOK_PORT and that the bot runs",
        )
    return passed(name, f"{info.url}; {waiting}")


async def _admins(bot: Bot, settings: Settings) -> list[Check]:
    name = "admin chats"
    if not settings.admin_chat_ids:
        return [passed(name, "none set (ADMIN_CHAT_IDS): leads and /stats are off")]
    checks = []
    for chat_id in sorted(settings.admin_chat_ids):
        label = f"admin chat {chat_id}"
        try:
            await bot.get_chat(chat_id)
        except Forbidden:
            checks.append(
                failed(
                    label,
                    "the bot is blocked there",
                    "that person must unblock the bot and press Start",
                )
            )
        except BadRequest as error:
            checks.append(
                failed(
                    label,
                    f"Telegram says: {error.message}",
                    "that person must open the bot and press Start once (and "
                    "the id must be theirs: @userinfobot tells it)",
                )
            )
        except (NetworkError, TelegramError) as error:
            checks.append(failed(label, f"getChat failed: {_said(error, settings)}", "try again"))
        except Exception as error:  # an answer this python-telegram-bot cannot read
            checks.append(failed(label, f"unexpected answer ({type(error).__name__})",
                                 "update the bot (pip install -U), then try again"))  # fmt: skip
        else:
            checks.append(passed(label, "reachable"))
    return checks


# --- wording -----------------------------------------------------------------------------------


def _said(error: TelegramError, settings: Settings) -> str:
    """Telegram's (or httpx's) words, never with the token in them."""
    return error.message.replace(settings.telegram_bot_token, "<token>")


def _size(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"  # pragma: no cover


def _age(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
