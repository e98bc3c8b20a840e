"""Waiting for the network at start: a server that has just booted may not have it yet.

systemd starts the bot as soon as ``network.target`` is reached, and a container may start
before its DNS works; the first ``getMe`` then fails with "connection refused", a DNS error or
a timeout, although nothing is wrong with the settings. Ending the process there would make
systemd's ``Restart=on-failure`` (or Docker's restart policy) hammer the network in a tight
loop, and a person starting the bot by hand would read an error about a problem that fixes
itself a few seconds later. So such failures are tried again with growing waits (1, 2, 4 ...
up to :data:`MAX_WAIT` seconds between tries) for up to ``START_NETWORK_WAIT`` seconds, one log
line per try.

What no wait can fix is not retried: a token Telegram rejects (401/404, ``InvalidToken``) or
any other refusal ends the start at once, for the caller to say in one sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from telegram.error import NetworkError

log = logging.getLogger(__name__)

FIRST_WAIT = 1.0  # seconds before the second try
MAX_WAIT = 60.0  # seconds between two tries at most

Clock = Callable[[], float]
# Waits ``seconds`` unless the event is set first; True when it was (stop).
Pause = Callable[[asyncio.Event, float], Awaitable[bool]]


async def connect_when_up(
    connect: Callable[[], Awaitable[None]],
    *,
    limit: float,
    stop: asyncio.Event,
    where: str,
    secrets: Iterable[str] = (),
    clock: Clock = time.monotonic,
    pause: Pause | None = None,
) -> bool:
    """Call ``connect`` until it succeeds (True) or ``stop`` is set while waiting (False).

    A :class:`telegram.error.NetworkError` (refused, DNS, timeout, 5xx) is tried again while
    less than ``limit`` seconds have passed, and raised once they have; anything else is
    raised at once.
    """
    started = clock()
    wait = FIRST_WAIT
    attempt = 0
    hidden = [s for s in secrets if s]
    sleep = pause or _stopped_within
    while True:
        attempt += 1
        try:
            await connect()
            if attempt > 1:
                log.info("The Telegram Bot API answered on try %d", attempt)
            return True
        except NetworkError as error:
            left = limit - (clock() - started)
            if left <= 0:
                raise
            seconds = min(wait, left)
            log.warning(
                "Cannot reach the Telegram Bot API at %s yet (%s); try %d, next in %.0f s",
                where,
                _scrub(error.message, hidden),
                attempt,
                seconds,
            )
        if await sleep(stop, seconds):
            return False
        wait = min(wait * 2, MAX_WAIT)


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "<token>")
    return text
