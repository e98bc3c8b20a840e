"""The application factory: ``bot.app.build_application``.

    from bot.app import build_application
    app = build_application()          # settings from the environment and .env

Used by ``triage-bot run``, the tests and the benchmarks. The application has no PTB
``Updater``: the bot fetches updates itself (``bot.telegram.polling``) or receives them on its
webhook (``bot.telegram.webhook``), so that Telegram learns an update was handled only after
its transaction committed. Driving it directly works too, as the benchmarks do::

    await app.initialize(); await app.post_init(app)
    await app.process_update(update)   # replies are sent before this returns
    await app.shutdown(); await app.post_shutdown(app)

``post_init`` loads the flow (``FLOW_FILE``), opens the database (``DATABASE_PATH``), sends
what an earlier run left unsent, deletes personal data older than ``RETENTION_DAYS`` if a
day has passed since that last ran (then daily, see ``bot.telegram.retention``), starts the
daily backup when BACKUP_DIR is set (``bot.telegram.backups``) and sets the command menu;
``post_shutdown`` closes the database.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import AIORateLimiter, Application
from telegram.request import BaseRequest, HTTPXRequest

from bot.config import Settings, load_settings
from bot.telegram import operations, practice
from bot.telegram.counted_request import CountedRequest
from bot.telegram.handlers import Handlers
from bot.telegram.metrics import Metrics
from bot.telegram.runtime import RUNTIME_KEY, AnyApplication, Runtime, runtime_of, set_commands

# Retries of a call Telegram answered 429, each after the wait it asked for; then the outbox
# retries the row later. No proactive throttling: the bot only answers people who write to it
# (Telegram's 30/s budget is for broadcasts), and a limiter would add latency to every reply.
RATE_LIMIT_RETRIES = 2
CONNECT_TIMEOUT = 10.0
POOL_TIMEOUT = 10.0
CONNECTION_POOL = 256  # python-telegram-bot's default for the bot's own calls


def build_application(
    settings: Settings | None = None,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> AnyApplication:
    """Build the bot (settings from the environment when ``None``); ``request`` and
    ``get_updates_request`` replace python-telegram-bot's HTTP transport (tests, benchmarks)."""
    if settings is None:
        settings = load_settings()
    builder: Any = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .updater(None)
        .concurrent_updates(True)
        .rate_limiter(
            AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=RATE_LIMIT_RETRIES)
        )
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.api_base_url:
        builder = builder.base_url(settings.api_base_url)
    # Both transports counted (Bot API failures, answered polls): see bot.telegram.metrics.
    metrics = Metrics()
    if request is None:
        request = HTTPXRequest(
            connection_pool_size=CONNECTION_POOL,
            connect_timeout=CONNECT_TIMEOUT,
            pool_timeout=POOL_TIMEOUT,
        )
    if get_updates_request is None:
        get_updates_request = HTTPXRequest(connection_pool_size=1)
    builder = builder.request(CountedRequest(request, metrics.api_failed, metrics.contact))
    builder = builder.get_updates_request(
        CountedRequest(get_updates_request, metrics.api_failed, metrics.contact)
    )
    app: AnyApplication = builder.build()
    runtime = Runtime(settings, app.bot, metrics)
    app.bot_data[RUNTIME_KEY] = runtime
    # Before the handlers' error handler, which it stops for a database outage.
    app.add_error_handler(runtime.on_storage_outage)
    handlers = Handlers(runtime)
    handlers.register(app, buttons=practice.buttons(runtime, handlers))
    practice.register(app, runtime, handlers)
    operations.register(app, runtime)
    return app


async def _post_init(app: AnyApplication) -> None:
    runtime = runtime_of(app)
    await runtime.open()
    await runtime.outbox.send_unsent()
    runtime.outbox.start()
    if not runtime.shared:  # shared: the leader's daily job runs it, in one process
        await runtime.retention.catch_up()
    runtime.start_jobs()
    await set_commands(app.bot)


async def _post_shutdown(app: AnyApplication) -> None:
    await runtime_of(app).close()
