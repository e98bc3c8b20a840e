"""The Bot API transport, counted: every failed call by kind, and every answered poll.

python-telegram-bot sends every call through a ``BaseRequest`` (``do_request`` returns the HTTP
status and body; the base class turns a status into ``BadRequest``, ``Forbidden`` ...). This
wrapper sits around the real one and sees each status before that, so one place counts the
failures of all calls, the outbox's, the polling loop's and the handlers' alike, without any
of them having to remember to. It also notes each answered ``getUpdates`` as contact with
Telegram, for ``/healthz``.

The URL is never recorded: it holds the token. Only the method name (its last part, lower-case)
is.
"""

from __future__ import annotations

from collections.abc import Callable

# ODVInput (a value, None, or "not given") is how BaseRequest types its timeouts.
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_NONE = BaseRequest.DEFAULT_NONE

# HTTP status -> kind of failure, as the Bot API uses them.
KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "unauthorized",  # the Bot API answers 404 for a token it does not know
    409: "conflict",
    429: "rate_limited",
}

Failed = Callable[[str, str], None]  # (kind, method)


class CountedRequest(BaseRequest):
    """Delegates to ``inner``; reports failures to ``failed`` and polls to ``polled``."""

    def __init__(self, inner: BaseRequest, failed: Failed, polled: Callable[[], None]) -> None:
        self.inner = inner
        self._failed = failed
        self._polled = polled

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        # Lower-cased: Bot API names are case-insensitive and the outbox sends them so.
        api_method = url.rsplit("/", 1)[-1].lower()
        try:
            code, payload = await self.inner.do_request(
                url, method, request_data, read_timeout, write_timeout, connect_timeout,
                pool_timeout,
            )  # fmt: skip
        except TimedOut:
            self._failed("timeout", api_method)
            raise
        except Exception:
            self._failed("network", api_method)
            raise
        if 200 <= code <= 299:
            if api_method == "getupdates":
                self._polled()
        else:
            self._failed(KINDS.get(code, "server_error" if code >= 500 else "other"), api_method)
        return code, payload
