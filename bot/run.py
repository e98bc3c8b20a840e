"""``triage-bot run``: start the bot, serve until SIGINT/SIGTERM, stop cleanly.

Start-up checks go from local to remote, so the first thing to fix is reported first: the
flow file, the database, then the Bot API (reachable? token accepted?). Each failure ends the
process with one sentence and exit code 1, never a traceback.

It sits above the transport, beside the factory it uses (:mod:`bot.app`): it builds the
application, then drives :mod:`bot.telegram.polling` or :mod:`bot.telegram.webhook` and the
health server until told to stop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from contextlib import suppress

from telegram.error import InvalidToken, TelegramError

from bot.app import build_application
from bot.config import Settings
from bot.flow import FlowError
from bot.storage import StorageError
from bot.telegram import polling, webhook
from bot.telegram.health import start_health, stop_health
from bot.telegram.logs import configure_logging, token_secrets
from bot.telegram.runtime import AnyApplication, StartupError, runtime_of
from bot.telegram.startup import connect_when_up

log = logging.getLogger(__name__)


def run_bot(settings: Settings) -> int:
    """Run until stopped; returns the process exit code."""
    configure_logging(
        settings.log_level,
        token_secrets(settings.telegram_bot_token, settings.webhook_secret_token),
        fmt=settings.log_format,
    )
    try:
        return asyncio.run(serve(settings))
    except StartupError as error:
        print(f"triage-bot: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        return 130


async def serve(
    settings: Settings, stop: asyncio.Event | None = None, *, app: AnyApplication | None = None
) -> int:
    """The bot's whole life on the running loop; ``stop`` ends it (signals set it too).

    ``app`` is one built by :func:`bot.app.build_application` from the same settings (a test
    keeps it to look at the running bot's runtime); by default one is built here.
    """
    stop = stop or asyncio.Event()
    app = app or build_application(settings)
    runtime = runtime_of(app)
    await _open(app, settings)
    _on_signals(stop)
    health = start_health(runtime)  # up before Telegram is: it tells "no answer yet"
    try:
        if not await _initialize(app, settings, stop):
            return 0  # stopped while waiting for the network
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        try:
            if settings.webhook_mode:
                return await webhook.serve(app, runtime, stop)
            return await polling.Poller(app, runtime).run(stop)
        except InvalidToken as error:
            raise StartupError("Telegram rejected the bot token (TELEGRAM_BOT_TOKEN).") from error
        except TelegramError as error:
            raise StartupError(_unreachable(settings, error)) from error
        finally:
            await app.stop()
    finally:
        await stop_health(health)
        with suppress(Exception):
            await app.shutdown()
        await runtime.close()
        log.info("Stopped")


async def _open(app: AnyApplication, settings: Settings) -> None:
    try:
        await runtime_of(app).open()
    except FlowError as error:
        if not settings.flow_file.exists():  # .env.example names the practice's copy
            raise StartupError(
                f"There is no flow file at {settings.flow_file} (FLOW_FILE): make the "
                "practice's copy with `triage-bot flows init`, or leave FLOW_FILE blank for "
                "the shipped flow."
            ) from error
        raise StartupError(f"the flow file is not valid:\n{error}") from error
    except StorageError as error:
        raise StartupError(str(error)) from error
    except OSError as error:  # e.g. the flow file does not exist
        raise StartupError(
            f"Cannot read {error.filename or settings.flow_file}: {error.strerror or error}."
        ) from error


async def _initialize(app: AnyApplication, settings: Settings, stop: asyncio.Event) -> bool:
    """``getMe``: is the Bot API there, and does it accept the token? A network that is not
    up yet is waited for (``START_NETWORK_WAIT``); False when stopped meanwhile."""
    try:
        up = await connect_when_up(
            app.initialize,
            limit=settings.start_network_wait,
            stop=stop,
            where=settings.public_api_url,
            secrets=[settings.telegram_bot_token],
        )
    except InvalidToken as error:
        raise StartupError(
            "Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN (BotFather can show it)."
        ) from error
    except TelegramError as error:
        raise StartupError(_unreachable(settings, error)) from error
    if up:
        log.info("Connected to the Bot API as @%s", app.bot.username)
    return up


def _unreachable(settings: Settings, error: TelegramError) -> str:
    reason = error.message.replace(settings.telegram_bot_token, "<token>")
    return f"Cannot reach the Telegram Bot API at {settings.public_api_url}: {reason}"


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):  # not on this platform / thread
            loop.add_signal_handler(sig, stop.set)
