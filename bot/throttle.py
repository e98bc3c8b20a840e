"""At most one log line a minute for something that can happen many times a second.

A full disk fails every write; a stranger can post to the webhook in a loop. Logging each
would bury the line that matters (and fill the disk), so such events go through a
:class:`Throttle`: the first is reported at once, then at most one line per interval, saying
how many there were meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Callable

EVERY_S = 60.0


class Throttle:
    """Counts events and says when one is due to be reported."""

    def __init__(
        self, every: float = EVERY_S, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.every = every
        self.clock = clock
        self._reported_at: float | None = None
        self._count = 0  # events since the last report

    def hit(self) -> int | None:
        """Count one event. Returns how many there were since the last report (this one
        included) when a report is due now, else None."""
        self._count += 1
        now = self.clock()
        if self._reported_at is not None and now - self._reported_at < self.every:
            return None
        count, self._count, self._reported_at = self._count, 0, now
        return count
