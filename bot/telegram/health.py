"""``/healthz`` and ``/metrics`` on HEALTH_LISTEN:HEALTH_PORT (off unless HEALTH_PORT is set).

``/healthz`` answers 200 ``ok`` only while both hold:

* Telegram answered recently (within :data:`HEALTH_WINDOW`): a ``getUpdates`` succeeded, or an
  update was applied; in webhook mode, where an idle bot hears nothing, a ``getWebhookInfo``
  every :data:`WEBHOOK_PROBE_EVERY` seconds that shows the webhook registered and no recent
  delivery error counts too;
* the database takes a write lock (a real ``BEGIN IMMEDIATE``, then ``ROLLBACK``): a
  read-only remount or a database locked by another program show here (PostgreSQL: a
  connection of its own takes a row lock and gives it back);
* the bot's own writes work: a full disk (or an I/O error) still lets a probe take the write
  lock, so the bot's storage says whether its last write failed, and why, until one works
  again (``Store.outage``);
* the database's file is the one the bot opened: one deleted or replaced under the running
  bot takes its writes into a file that is gone at the next start (``Store.file_problem``).

Otherwise 503, with one reason per line in the body, for a person reading ``curl`` output or a
container's health log. ``/metrics`` is the Prometheus text format of
:class:`bot.telegram.metrics.Metrics`, with the outbox and backup gauges read at scrape time.

The server is tornado's (already here for the webhook) on the bot's own event loop: no thread
of its own. It starts before the bot first reaches Telegram, so a container's health check
reports "no answer from Telegram yet" while the network is still coming up. The database is
looked at from a short-lived connection of its own on a worker thread, never the bot's.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import tornado.web
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from telegram import Bot
from telegram.error import TelegramError
from tornado.httpserver import HTTPServer

from bot.config import Settings
from bot.ops.backup import newest_backup
from bot.ops.database import DatabaseProblem, check_writable, connect_existing
from bot.telegram.metrics import Metrics
from bot.telegram.runtime import Runtime, StartupError

log = logging.getLogger(__name__)

HEALTH_WINDOW = 90.0  # seconds: a long poll returns every 30 s, so two missed polls and more
WEBHOOK_PROBE_EVERY = 30.0
PROBE_BUSY_TIMEOUT_MS = 1000  # the bot's own commits hold the write lock for milliseconds
PROBE_TIMEOUT_S = 5.0  # connecting to PostgreSQL


@dataclass(frozen=True, slots=True)
class DatabaseState:
    problem: str | None  # None: writable
    pending: int = 0  # outbox rows not delivered yet
    oldest: float | None = None  # created_at of the oldest of them


def probe_database(path: Path) -> DatabaseState:
    """Blocking: take and give back the write lock, and read the outbox's depth."""
    try:
        with connect_existing(path) as conn:
            conn.execute(f"PRAGMA busy_timeout = {PROBE_BUSY_TIMEOUT_MS}")
            check_writable(conn, path)
            pending, oldest = conn.execute(
                "SELECT count(*), min(created_at) FROM outbox WHERE failed = 0"
            ).fetchone()
    except DatabaseProblem as problem:
        return DatabaseState(str(problem))
    except sqlite3.Error as error:
        return DatabaseState(f"the database at {path} failed: {error}")
    return DatabaseState(None, int(pending), oldest)


async def probe_postgres(url: str, name: str) -> DatabaseState:
    """PostgreSQL's :func:`probe_database`: a short-lived connection of its own takes a row
    lock it gives back (a transaction rolled back), and reads the outbox's depth."""
    try:
        conn = await asyncpg.connect(url, timeout=PROBE_TIMEOUT_S)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        return DatabaseState(f"cannot connect to the database at {name}: {error}")
    try:
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute(f"SET LOCAL lock_timeout = {PROBE_BUSY_TIMEOUT_MS}")
            await conn.execute("SELECT 1 FROM meta FOR UPDATE")
            row = await conn.fetchrow(
                "SELECT count(*), min(created_at) FROM outbox WHERE failed = 0"
            )
        finally:
            await tx.rollback()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        return DatabaseState(f"the database at {name} failed: {error}")
    finally:
        await conn.close()
    assert row is not None
    return DatabaseState(None, int(row[0]), row[1])


class Monitor:
    """Answers the two endpoints for one running bot."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.metrics = runtime.metrics

    async def problems(self) -> list[str]:
        """Why the bot is not healthy now; empty when it is."""
        found = []
        since = self.metrics.seconds_since_contact()
        if since is None:
            found.append("no answer from Telegram yet since the start")
        elif since > HEALTH_WINDOW:
            found.append(f"no answer from Telegram for {since:.0f} s")
        storage = self.runtime.storage if self.runtime.is_open else None  # open after we are
        gone = storage.file_problem() if storage is not None else None
        if gone is not None:  # the file at the path is not the bot's: nothing to probe there
            return [*found, gone]
        failing = storage.outage.reason if storage is not None else None
        state = await self._database()
        problem = failing or state.problem  # the bot's own writes say more than the probe
        if problem is not None:
            found.append(f"database not writable: {problem}")
        self._note_outbox(state)
        return found

    async def refresh(self) -> None:
        """Bring the gauges read from disk up to date before a scrape."""
        state = await self._database()
        self._note_outbox(state)
        folder = self.settings.backup_dir
        newest = await asyncio.to_thread(newest_backup, folder) if folder is not None else None
        self.metrics.last_backup.set(newest[1] if newest is not None else 0)

    async def _database(self) -> DatabaseState:
        url = self.settings.database_url
        if url is not None:
            return await probe_postgres(url, self.settings.database_name)
        return await asyncio.to_thread(probe_database, self.settings.database_path)

    def _note_outbox(self, state: DatabaseState) -> None:
        if state.problem is None:
            self.metrics.outbox_pending.set(state.pending)
            age = time.time() - state.oldest if state.oldest is not None else 0.0
            self.metrics.outbox_oldest.set(max(age, 0.0))


class _Endpoint(tornado.web.RequestHandler):
    monitor: Monitor

    def initialize(self, monitor: Monitor) -> None:
        self.monitor = monitor

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        log.error("health request failed: %s", getattr(typ, "__name__", typ), exc_info=value)


class HealthEndpoint(_Endpoint):
    async def get(self) -> None:
        problems = await self.monitor.problems()
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        if problems:
            self.set_status(503)
            self.write("\n".join(problems) + "\n")
        else:
            self.write("ok\n")


class MetricsEndpoint(_Endpoint):
    async def get(self) -> None:
        await self.monitor.refresh()
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(self.monitor.metrics.exposition())


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Instead of tornado's access log, which writes every 503 as an ERROR: a health check
    polled every few seconds during an outage would bury the lines that say what is wrong
    (the bot's own, once a minute)."""
    request = handler.request
    log.debug("%s %s %d", request.method, request.path, handler.get_status())


class HealthServer:
    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        assert settings.health_port is not None
        self.listen = settings.health_listen
        self.port = settings.health_port
        args = {"monitor": Monitor(runtime)}
        routes = [("/healthz", HealthEndpoint, args), ("/metrics", MetricsEndpoint, args)]
        self._server = HTTPServer(tornado.web.Application(routes, log_function=_log_request))

    def start(self) -> None:
        try:
            self._server.listen(self.port, self.listen)
        except OSError as error:
            raise StartupError(
                f"Cannot listen on {self.listen}:{self.port} for /healthz (HEALTH_PORT): "
                f"{error.strerror}."
            ) from error
        log.info("Health and metrics on http://%s:%d/healthz and /metrics", self.listen, self.port)

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()


def start_health(runtime: Runtime) -> HealthServer | None:
    """Listen now, when HEALTH_PORT is set; None when it is not."""
    if runtime.settings.health_port is None:
        return None
    server = HealthServer(runtime)
    server.start()
    return server


async def stop_health(server: HealthServer | None) -> None:
    if server is not None:
        await server.stop()


class WebhookProbe:
    """Webhook mode: Telegram's own view of our webhook, every half minute, as contact."""

    def __init__(self, bot: Bot, settings: Settings, metrics: Metrics) -> None:
        self.bot = bot
        self.settings = settings
        self.metrics = metrics

    async def check(self) -> bool:
        """True (and contact noted) when the webhook is ours and deliveries work."""
        try:
            info = await self.bot.get_webhook_info()
        except TelegramError as error:
            log.debug("getWebhookInfo failed: %s", error)
            return False
        failed_at = info.last_error_date.timestamp() if info.last_error_date else None
        recent_failure = failed_at is not None and time.time() - failed_at < HEALTH_WINDOW
        if info.url == self.settings.webhook_url and not recent_failure:
            self.metrics.contact()
            return True
        return False

    async def run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(WEBHOOK_PROBE_EVERY)
