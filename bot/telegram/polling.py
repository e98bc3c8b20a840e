"""Long polling that confirms an update to Telegram only after its transaction committed.

python-telegram-bot's own Updater confirms a batch on its next ``getUpdates`` whether or not
the batch was processed, so a crash would lose what was queued. Here the loop owns the offset:
a batch is processed (chats concurrently, each chat's updates in order), and only then does
the offset move past the updates that were applied. An update whose handler failed is not
confirmed, so Telegram hands it out again; the ones after it in the batch come again too and
are recognised by their update id. An update that keeps failing is given up after
:data:`MAX_TRIES`, so one bad update cannot stop the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Coroutine, Sequence
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError

from bot.telegram.handlers import ALLOWED_UPDATES
from bot.telegram.runtime import AnyApplication, Runtime

log = logging.getLogger(__name__)

POLL_TIMEOUT = 30  # seconds Telegram holds a getUpdates open when there is nothing new
MAX_TRIES = 5
BACKOFF_START = 1.0
BACKOFF_MAX = 30.0


class Backoff:
    """Exponential waits, reset by a success; bounded by :data:`BACKOFF_MAX`."""

    def __init__(self, start: float = BACKOFF_START, limit: float = BACKOFF_MAX) -> None:
        self.start = start
        self.limit = limit
        self.next = start

    def reset(self) -> None:
        self.next = self.start

    def take(self) -> float:
        wait, self.next = self.next, min(self.next * 2, self.limit)
        return wait


class Poller:
    def __init__(
        self, app: AnyApplication, runtime: Runtime, *, timeout: int = POLL_TIMEOUT
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.timeout = timeout
        self.offset: int | None = None
        self.tries: Counter[int] = Counter()
        self.polls = 0  # getUpdates calls answered (for tests and startup timing)

    async def run(self, stop: asyncio.Event) -> int:
        """Poll until ``stop`` is set; returns the exit code (0, or 1 if the token stops
        working)."""
        bot = self.app.bot
        backoff = Backoff()
        if not await self._delete_webhook(stop, backoff):
            return 0
        while not stop.is_set():
            try:
                fetch = bot.get_updates(
                    offset=self.offset, timeout=self.timeout, allowed_updates=ALLOWED_UPDATES
                )
                updates = await _unless_stopped(fetch, stop)
            except InvalidToken:
                log.error("Telegram rejected the bot token; stopping")
                return 1
            except Conflict as error:
                # Another process polls with this token, or a webhook is set.
                log.warning("getUpdates conflict (%s); retrying", error.message)
                await _sleep(backoff.take(), stop)
                continue
            except TelegramError as error:  # network errors, timeouts, 5xx
                log.warning("Cannot fetch updates (%s); retrying", error.message)
                await _sleep(backoff.take(), stop)
                continue
            if updates is None:  # stopped while waiting
                break
            backoff.reset()
            self.polls += 1
            if updates:
                failed = await self.process(updates)
                if failed:
                    await _sleep(backoff.take(), stop)
        await self._confirm_last()
        return 0

    async def process(self, updates: Sequence[Update]) -> bool:
        """Apply a batch and move the offset past what was applied; True if some failed."""
        chats: dict[int | str, list[Update]] = {}
        for update in updates:
            chat = update.effective_chat
            chats.setdefault(chat.id if chat else f"u{update.update_id}", []).append(update)
        results = await asyncio.gather(*(self._chat_in_order(us) for us in chats.values()))
        unapplied = [uid for uid in results if uid is not None]
        if unapplied:
            self.offset = min(unapplied)
        else:
            self.offset = max(u.update_id for u in updates) + 1
        for update_id in [u for u in self.tries if self.offset is not None and u < self.offset]:
            del self.tries[update_id]
        return bool(unapplied)

    async def _chat_in_order(self, updates: list[Update]) -> int | None:
        """Apply one chat's updates in order; stop at the first failure and return its id."""
        for update in updates:
            if await self.runtime.apply(self.app, update):
                continue
            self.tries[update.update_id] += 1
            if self.tries[update.update_id] >= MAX_TRIES:
                log.error("update %d failed %d times; skipped", update.update_id, MAX_TRIES)
                continue
            return update.update_id
        return None

    async def _delete_webhook(self, stop: asyncio.Event, backoff: Backoff) -> bool:
        """Polling and a webhook exclude each other; retried until it works or we stop."""
        while not stop.is_set():
            try:
                await self.app.bot.delete_webhook(drop_pending_updates=False)
                return True
            except NetworkError as error:
                log.warning("Telegram not reachable (%s); retrying", error.message)
                await _sleep(backoff.take(), stop)
        return False

    async def _confirm_last(self) -> None:
        """Tell Telegram about the last batch before exiting (else it comes again at the next
        start: harmless, since ids are deduplicated, but wasteful)."""
        if self.offset is None:
            return
        try:
            await self.app.bot.get_updates(offset=self.offset, timeout=0, limit=1)
        except TelegramError as error:
            log.debug("final getUpdates failed: %s", error)


async def _unless_stopped(
    call: Coroutine[Any, Any, tuple[Update, ...]], stop: asyncio.Event
) -> list[Update] | None:
    """Await ``call`` unless ``stop`` is set first; None when stopped."""
    task = asyncio.ensure_future(call)
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        stopper.cancel()
        return list(task.result())
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, TelegramError):
        await task
    return None


async def _sleep(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
