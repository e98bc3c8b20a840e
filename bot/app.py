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
day has passed since that last ran (then daily, see ``bot.telegram.retention``) and sets the
command menu; ``post_shutdown`` closes the database.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import AIORateLimiter, Application
from telegram.request import BaseRequest

from bot.config import Settings, load_settings
from bot.telegram import practice
from bot.telegram.handlers import Handlers
from bot.telegram.runtime import RUNTIME_KEY, AnyApplication, Runtime, runtime_of, set_commands

# Retries of a call Telegram answered 429, each after the wait it asked for; then the outbox
# retries the row later. No proactive throttling: the bot only answers people who write to it
# (Telegram's 30/s budget is for broadcasts), and a limiter would add latency to every reply.
RATE_LIMIT_RETRIES = 2
CONNECT_TIMEOUT = 10.0
POOL_TIMEOUT = 10.0


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
    if request is not None:
        builder = builder.request(request)
    else:
        builder = builder.connect_timeout(CONNECT_TIMEOUT).pool_timeout(POOL_TIMEOUT)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    app: AnyApplication = builder.build()
    runtime = Runtime(settings, app.bot)
    app.bot_data[RUNTIME_KEY] = runtime
    # Before the handlers' error handler, which it stops for a database outage.
    app.add_error_handler(runtime.on_storage_outage)
    handlers = Handlers(runtime)
    handlers.register(app)
    practice.register(app, runtime, handlers)
    return app


async def _post_init(app: AnyApplication) -> None:
    runtime = runtime_of(app)
    await runtime.open()
    await runtime.outbox.send_unsent()
    runtime.outbox.start()
    await runtime.retention.catch_up()
    runtime.start_jobs()
    await set_commands(app.bot)


async def _post_shutdown(app: AnyApplication) -> None:
    await runtime_of(app).close()
