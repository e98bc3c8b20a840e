"""Webhook mode: Telegram POSTs updates to us; we answer 200 only after they committed.

A small tornado server (installed with python-telegram-bot's webhooks extra) listens on
WEBHOOK_LISTEN:WEBHOOK_PORT, usually behind a reverse proxy that terminates TLS, at the path of
WEBHOOK_URL. Every request must carry the secret given to ``setWebhook`` in
``X-Telegram-Bot-Api-Secret-Token`` (else 403). The update is applied before the response is
written: 200 when it committed (or was a duplicate), 500 when it failed and 503 while the
database cannot be written, so Telegram retries exactly what was not applied.

Strangers can reach this port, so: the secret is checked on the headers, before the body is
read (the body is streamed in only for a request that carries it), and a refused request's
connection is closed with its body unread; refusals are logged once a minute, not each time;
any method but POST gets 405. A body with the right secret that is not a readable update is
answered 200 and logged (once a minute): Telegram would otherwise retry it for a day.
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
from bot.throttle import Throttle

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # an update is a few KB; refuse anything absurd
BODY_TIMEOUT_S = 30.0  # a body that trickles in slower than this is given up
IDLE_TIMEOUT_S = 60.0  # a connection that sends no request (or no headers) this long is closed
STATUS = {Applied.DONE: 200, Applied.FAILED: 500, Applied.UNAVAILABLE: 503}


class Reports:
    """What the endpoint logs once a minute, shared by all its requests."""

    def __init__(self) -> None:
        self.refused = Throttle()  # no or a wrong secret
        self.unreadable = Throttle()  # the right secret, but not an update


@tornado.web.stream_request_body
class UpdateEndpoint(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("POST",)  # tornado answers anything else 405 before prepare()

    app: AnyApplication
    runtime: Runtime
    secret: str
    reports: Reports

    def initialize(
        self, app: AnyApplication, runtime: Runtime, secret: str, reports: Reports
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.secret = secret
        self.reports = reports
        self.body = bytearray()

    def prepare(self) -> None:
        """On the headers alone, before any of the body is read: a request without the secret
        ends here, and tornado closes its connection with the body unread."""
        given = self.request.headers.get(SECRET_HEADER, "")
        if hmac.compare_digest(given.encode(), self.secret.encode()):
            return
        count = self.reports.refused.hit()
        if count is not None:
            log.warning(
                "Refused %d webhook request(s) without the right secret token in the last "
                "minute (the last from %s)",
                count,
                self.request.remote_ip,
            )
        self.send_error(403)

    def data_received(self, chunk: bytes) -> None:
        self.body += chunk  # at most MAX_BODY: the server refuses a longer Content-Length

    async def post(self) -> None:
        update = self._update()
        if update is None:
            self.set_status(200)  # nothing to apply, and nothing Telegram should send again
            return
        self.set_status(STATUS[await self.runtime.apply(self.app, update)])

    def _update(self) -> Update | None:
        """The update in the body, or None (reported once a minute) when it is not one."""
        try:
            data = json.loads(bytes(self.body))
            update = Update.de_json(data, self.app.bot) if isinstance(data, dict) else None
        except Exception:  # whatever python-telegram-bot makes of a malformed object
            update = None
        if update is not None and isinstance(update.update_id, int):
            return update
        count = self.reports.unreadable.hit()
        if count is not None:
            log.warning(
                "Ignored %d webhook update(s) that could not be read in the last minute",
                count,
            )
        return None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """No page for an error: an empty body (and for 405, the one method there is)."""
        if status_code == 405:
            self.set_header("Allow", "POST")

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, tornado.web.HTTPError):
            return  # a refused method or body: answered with its status, nothing went wrong
        log.error("webhook request failed: %s", getattr(typ, "__name__", typ), exc_info=value)


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Instead of tornado's access log, which writes every refusal as a WARNING."""
    request = handler.request
    log.debug("webhook %s %d", request.method, handler.get_status())


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
        handler_args = {
            "app": app,
            "runtime": runtime,
            "secret": self.secret,
            "reports": Reports(),
        }
        routes = [(self.path, UpdateEndpoint, handler_args)]
        self._server = HTTPServer(
            tornado.web.Application(routes, log_function=_log_request),
            max_body_size=MAX_BODY,
            body_timeout=BODY_TIMEOUT_S,
            idle_connection_timeout=IDLE_TIMEOUT_S,
            xheaders=True,
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
