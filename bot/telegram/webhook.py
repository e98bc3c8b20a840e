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
any method but POST gets 405. A body with the right secret that is not a readable update (not
JSON, no update id, or a field the bot reads of another type than the Bot API's: a number for
a text, a word for a chat id) is answered 200 and logged once a minute, without a traceback:
Telegram would otherwise retry it for a day.

An update whose handler fails is answered 500, so Telegram sends it again, as polling tries
it again; after :data:`~bot.telegram.runtime.MAX_TRIES` failures it is given up (recorded as
processed, one ERROR line) and answered 200, then and at any later delivery.
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
from bot.telegram.runtime import AnyApplication, Applied, Runtime, StartupError, Tries
from bot.throttle import Throttle

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # an update is a few KB; refuse anything absurd
BODY_TIMEOUT_S = 30.0  # a body that trickles in slower than this is given up
IDLE_TIMEOUT_S = 60.0  # a connection that sends no request (or no headers) this long is closed
STATUS = {Applied.DONE: 200, Applied.FAILED: 500, Applied.UNAVAILABLE: 503}


class Reports:
    """What the endpoint logs once a minute, and the failures it counts, shared by all its
    requests."""

    def __init__(self, tries: Tries) -> None:
        self.refused = Throttle()  # no or a wrong secret
        self.unreadable = Throttle()  # the right secret, but not an update
        self.tries = tries  # failures per update id, across Telegram's deliveries
        self.applying = 0  # updates being applied now, by all requests


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
        tries = self.reports.tries
        if update is None or tries.given_up(update.update_id):
            self.set_status(200)  # nothing to apply, and nothing Telegram should send again
            return
        self.reports.applying += 1
        try:
            applied = await self.runtime.apply(self.app, update)
        finally:
            self.reports.applying -= 1
        if applied is Applied.FAILED:
            applied = await tries.failed(update.update_id)
        elif applied is Applied.DONE:
            tries.forget(update.update_id)
        if not self.reports.applying:
            self.runtime.idle()  # no other update under way: the replies sent are recorded now
        self.set_status(STATUS[applied])

    def _update(self) -> Update | None:
        """The update in the body, or None (reported once a minute) when it is not one."""
        try:
            data = json.loads(bytes(self.body))
            update = Update.de_json(data, self.app.bot) if readable(data) else None
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


# --- what a readable update is -----------------------------------------------------------------
# python-telegram-bot builds an update from any JSON object without checking the types of its
# fields, so a number where the Bot API sends a text would fail the update's handler, at every
# delivery. Each field the bot reads is checked here, before the update is built; a field left
# out is python-telegram-bot's to require (it refuses an object without a required field).

_INT64 = range(-(2**63), 2**63)  # what the database stores; Telegram's ids fit in 52 bits
_MESSAGES = ("message", "edited_message", "channel_post")  # the kinds of ALLOWED_UPDATES
_STRINGS_OF_USER = ("first_name", "last_name", "username", "language_code")
_STRINGS_OF_MESSAGE = ("text", "caption")


def readable(data: object) -> bool:
    """Is ``data`` an update whose fields the bot reads have the types the Bot API gives
    them: ids whole numbers (not true or false), texts strings, objects objects?"""
    if not isinstance(data, dict) or not _whole(data.get("update_id")):
        return False
    if not all(_message(data[kind]) for kind in _MESSAGES if kind in data):
        return False
    return "callback_query" not in data or _query(data["callback_query"])


def _whole(value: object) -> bool:
    return type(value) is int and value in _INT64


def _optional(data: dict[str, Any], key: str, kind: type) -> bool:
    value = data.get(key)
    return value is None or (type(value) is kind)


def _user(data: object) -> bool:
    return (
        isinstance(data, dict)
        and _whole(data.get("id"))
        and all(_optional(data, key, str) for key in _STRINGS_OF_USER)
        and _optional(data, "is_bot", bool)
    )


def _message(data: object) -> bool:
    if not isinstance(data, dict) or not _whole(data.get("message_id")):
        return False
    chat = data.get("chat")
    if not (isinstance(chat, dict) and _whole(chat.get("id")) and type(chat.get("type")) is str):
        return False
    if "from" in data and not _user(data["from"]):
        return False
    if not all(_optional(data, key, str) for key in _STRINGS_OF_MESSAGE):
        return False
    if not all(data.get(key) is None or _whole(data[key]) for key in ("date", "edit_date")):
        return False
    return all(_entities(data.get(key)) for key in ("entities", "caption_entities"))


def _entities(value: object) -> bool:
    """Command entities tell python-telegram-bot where a /command is."""
    if value is None:
        return True
    return isinstance(value, list) and all(
        isinstance(entity, dict)
        and type(entity.get("type")) is str
        and _whole(entity.get("offset"))
        and _whole(entity.get("length"))
        for entity in value
    )


def _query(data: object) -> bool:
    """A button press: who pressed, its data, and the message it was under (if still there)."""
    return (
        isinstance(data, dict)
        and type(data.get("id")) is str
        and _user(data.get("from"))
        and _optional(data, "data", str)
        and _optional(data, "chat_instance", str)
        and ("message" not in data or _message(data["message"]))
    )


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
            "reports": Reports(Tries(runtime.give_up)),
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
