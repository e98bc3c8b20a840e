"""Webhook mode: Telegram POSTs updates to us; we answer 200 only after they committed.

A small tornado server (installed with python-telegram-bot's webhooks extra) listens on
WEBHOOK_LISTEN:WEBHOOK_PORT, usually behind a reverse proxy that terminates TLS, at the path of
WEBHOOK_URL. Every request must carry the secret given to ``setWebhook`` in
``X-Telegram-Bot-Api-Secret-Token`` (else 403). The update is applied before the response is
written: 200 when it committed (or was a duplicate), 500 when it failed and 503 while the
database cannot be written, so Telegram retries exactly what was not applied.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import tornado.web
from telegram import Update
from telegram.error import BadRequest
from tornado.httpserver import HTTPServer

from bot.telegram.handlers import ALLOWED_UPDATES
from bot.telegram.runtime import AnyApplication, Applied, Runtime, StartupError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # an update is a few KB; refuse anything absurd
STATUS = {Applied.DONE: 200, Applied.FAILED: 500, Applied.UNAVAILABLE: 503}


class UpdateEndpoint(tornado.web.RequestHandler):
    app: AnyApplication
    runtime: Runtime
    secret: str

    def initialize(self, app: AnyApplication, runtime: Runtime, secret: str) -> None:
        self.app = app
        self.runtime = runtime
        self.secret = secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self.set_status(403)
            return
        try:
            data = json.loads(self.request.body)
            update = Update.de_json(data, self.app.bot)
        except (ValueError, TypeError, KeyError):
            self.set_status(400)
            return
        if update is None:
            self.set_status(400)
            return
        self.set_status(STATUS[await self.runtime.apply(self.app, update)])

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        log.error("webhook request failed: %s", getattr(typ, "__name__", typ), exc_info=value)


class WebhookServer:
    """The HTTP side; :meth:`start` listens, :meth:`stop` closes every connection."""

    def __init__(self, app: AnyApplication, runtime: Runtime) -> None:
        settings = runtime.settings
        assert settings.webhook_url is not None and settings.webhook_secret_token is not None
        self.app = app
        self.runtime = runtime
        self.url = settings.webhook_url
        self.secret = settings.webhook_secret_token
        self.listen = settings.webhook_listen
        self.port = settings.webhook_port
        self.path = urlsplit(self.url).path or "/"
        handler_args = {"app": app, "runtime": runtime, "secret": self.secret}
        routes = [(self.path, UpdateEndpoint, handler_args)]
        self._server = HTTPServer(
            tornado.web.Application(routes), max_body_size=MAX_BODY, xheaders=True
        )

    def start(self) -> None:
        self._server.listen(self.port, self.listen)

    async def register(self) -> None:
        """Tell Telegram where to send updates (after we listen, so none is refused)."""
        await self.app.bot.set_webhook(
            url=self.url,
            secret_token=self.secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()


async def serve(app: AnyApplication, runtime: Runtime, stop: asyncio.Event) -> int:
    server = WebhookServer(app, runtime)
    try:
        server.start()
    except OSError as error:
        raise StartupError(
            f"Cannot listen on {server.listen}:{server.port} for the webhook: {error.strerror}."
        ) from error
    try:
        try:
            await server.register()
        except BadRequest as error:
            raise StartupError(
                f"Telegram refused the webhook address {server.url}: {error.message}"
            ) from error
        log.info("Webhook mode: listening on %s:%d%s", server.listen, server.port, server.path)
        await stop.wait()
    finally:
        await server.stop()
    return 0
