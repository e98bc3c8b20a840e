"""Saying that the database cannot be written: when it starts, once a minute, when it ends.

While the disk is full every write fails, and every part of the bot writes (each update, the
outbox, the follow-ups): logging each failure would bury the one line that matters. So
:class:`~bot.storage.Storage` hands its failed and successful writes to one :class:`Outage`,
which writes a WARNING when the trouble starts and at most once a minute while it lasts, and
an INFO line when a write works again. A disk that is nearly full lets some writes through
and not others; the once-a-minute rule holds across such flapping too. Callers only back off
and try again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.storage.records import StorageUnavailable
from bot.throttle import EVERY_S, Throttle

log = logging.getLogger(__name__)


class Outage:
    """The state of one database's writes, as far as the bot has tried them."""

    def __init__(
        self,
        name: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        every: float = EVERY_S,
    ) -> None:
        self.name = name
        self.clock = clock
        self._since: float | None = None  # when the first failed write of this outage was
        self._throttle = Throttle(every, clock=clock)  # across outages: a flapping disk too
        self._warned = False  # this outage was reported: its end is worth a line too
        self._reason: str | None = None  # the last failed write's error

    @property
    def down(self) -> bool:
        """The last write failed because the database could not take it."""
        return self._since is not None

    @property
    def reason(self) -> str | None:
        """Why the last write failed, while :attr:`down` (for /healthz): one sentence."""
        return self._reason if self._since is not None else None

    def failed(self, error: StorageUnavailable) -> None:
        now = self.clock()
        self._reason = str(error)
        if self._since is None:
            self._since = now
        if self._throttle.hit() is None:
            log.debug("the database still cannot be written: %s", error)
            return
        self._warned = True
        log.warning(
            "%s: the bot keeps every update at Telegram, unconfirmed, and tries again until it "
            "can write (down for %d s)",
            _capitalised(str(error)),
            now - self._since,
        )

    def recovered(self) -> None:
        if self._since is None:
            return
        down_for = self.clock() - self._since
        self._since = None
        self._reason = None
        if self._warned:
            self._warned = False
            log.info("The database at %s can be written again after %d s", self.name, down_for)


def _capitalised(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]
