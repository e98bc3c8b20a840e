"""Long polling that confirms an update to Telegram only after its transaction committed.

python-telegram-bot's own Updater confirms a batch on its next ``getUpdates`` whether or not
the batch was processed, so a crash would lose what was queued. Here the loop owns the offset:
a batch is processed (chats concurrently, each chat's updates in order), and only then does
the offset move past the updates that were applied. An update whose handler failed is not
confirmed, so Telegram hands it out again; the ones after it in the batch come again too and
are recognised by their update id. An update that keeps failing is given up after
:data:`MAX_TRIES`, so one bad update cannot stop the bot; it is recorded as processed first,
so even then the offset passes only what the database holds.

A database that cannot be written (disk full, I/O error, read-only) is not the update's
fault: such an update is never given up. The loop stops fetching, tries the database again
with backoff (:meth:`Storage.writable`, reported once a minute by the storage) and fetches
again when it can: Telegram still holds every update not confirmed, and nothing is lost.
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

from bot.storage import StorageError
from bot.telegram.handlers import ALLOWED_UPDATES
from bot.telegram.runtime import AnyApplication, Applied, Runtime

log = logging.getLogger(__name__)

POLL_TIMEOUT = 30  # seconds Telegram holds a getUpdates open when there is nothing new
MAX_TRIES = 5
BACKOFF_START = 1.0
BACKOFF_MAX = 30.0
# Tries of a database that cannot be written: soon at first, then every 30 s at most.
STORAGE_RETRY_START = 0.5
STORAGE_RETRY_MAX = 30.0


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
                outcome = await self.process(updates)
                if outcome is Applied.UNAVAILABLE:
                    await self._wait_for_storage(stop)
                elif outcome is Applied.FAILED:
                    await _sleep(backoff.take(), stop)
        await self._confirm_last()
        return 0

    async def process(self, updates: Sequence[Update]) -> Applied:
        """Apply a batch and move the offset past what was applied; returns DONE, or the worst
        that happened to an update (UNAVAILABLE before FAILED)."""
        chats: dict[int | str, list[Update]] = {}
        for update in updates:
            chat = update.effective_chat
            chats.setdefault(chat.id if chat else f"u{update.update_id}", []).append(update)
        results = await asyncio.gather(*(self._chat_in_order(us) for us in chats.values()))
        unapplied = [(update_id, outcome) for update_id, outcome in results if update_id]
        if unapplied:
            self.offset = min(update_id for update_id, _ in unapplied)
        else:
            self.offset = max(u.update_id for u in updates) + 1
        for update_id in [u for u in self.tries if self.offset is not None and u < self.offset]:
            del self.tries[update_id]
        outcomes = {outcome for _, outcome in unapplied}
        return next(
            (o for o in (Applied.UNAVAILABLE, Applied.FAILED) if o in outcomes), Applied.DONE
        )

    async def _chat_in_order(self, updates: list[Update]) -> tuple[int | None, Applied]:
        """Apply one chat's updates in order; stop at the first that is not done and return
        its id and what happened to it."""
        for update in updates:
            outcome = await self.runtime.apply(self.app, update)
            if outcome is Applied.FAILED:
                outcome = await self._count_failure(update.update_id)
            if outcome is not Applied.DONE:
                return update.update_id, outcome
        return None, Applied.DONE

    async def _count_failure(self, update_id: int) -> Applied:
        """FAILED until the update has failed :data:`MAX_TRIES` times; then it is given up:
        recorded as processed (DONE), or UNAVAILABLE when even that cannot be written."""
        self.tries[update_id] += 1
        if self.tries[update_id] < MAX_TRIES:
            return Applied.FAILED
        try:
            await self.runtime.give_up([update_id])
        except StorageError:
            return Applied.UNAVAILABLE
        log.error("update %d failed %d times; given up", update_id, MAX_TRIES)
        return Applied.DONE

    async def _wait_for_storage(self, stop: asyncio.Event) -> None:
        """Fetch nothing until the database can be written again (or we stop)."""
        backoff = Backoff(STORAGE_RETRY_START, STORAGE_RETRY_MAX)
        while not stop.is_set():
            wait = backoff.take()
            log.debug(
                "not fetching updates: the database cannot be written; next try in %.1f s", wait
            )
            await _sleep(wait, stop)
            try:
                if await self.runtime.storage.writable():
                    return
            except StorageError as error:  # not an outage: a damaged database, say
                log.error("The database cannot be used: %s", error)

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
