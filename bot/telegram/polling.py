"""Long polling that confirms an update to Telegram only after its transaction committed.

python-telegram-bot's own Updater confirms a batch on its next ``getUpdates`` whether or not
the batch was processed, so a crash would lose what was queued. Here the loop owns the offset,
and the offset never passes an update that is not in the database: committed, or given up on
and recorded as processed.

**Fair to everyone.** Fetching goes on while chats are busy: each chat has its own queue and
worker (its updates in order, one at a time; chats at once), so one person's burst does not
hold up anyone else. Telegram's offset confirms everything below it, so the offset stays at the
oldest update not yet done, and a fetch while busy hands out the unfinished ones again (they
are recognised by id and skipped); it is made when something finished, or every
:data:`BUSY_POLL_S` at most, so that newcomers are seen soon.

**Bursts.** A chat's backlog is bounded (:data:`MAX_BACKLOG` waiting): once it is full, the
chat's updates are dropped, recorded as processed, with one polite note, so a person hammering
a button cannot pin the offset or the bot. Telegram hands out at most :data:`BATCH` updates a
time, from the offset on, and the offset waits for the oldest unfinished tap: a burst longer
than a batch arrives batch after batch, and its later taps must not refill the backlog as it
drains (the offset, and everyone behind it, would wait for each). So once a chat's backlog
overflowed, every later update of the chat is dropped too, until the burst is over: the chat
had nothing left to do after a fetch that held everything Telegram had (fewer than a batch),
or such a fetch brought nothing more from it. A person who waits for each answer never has a
backlog, however long the conversation.

**Failures.** An update whose handler failed is tried again, in place (its chat waits, keeping
its order), with backoff; after :data:`~bot.telegram.runtime.MAX_TRIES` it is given up,
recorded as processed first (:class:`Tries` counts, shared with the webhook). A database that
cannot be written (disk full, I/O error, read-only) is not the update's fault: such an update
is never given up. Fetching stops, the database is tried again with backoff
(:meth:`Store.writable`; the storage reports the outage once a minute), and everything carries
on when it can: Telegram still holds every update not confirmed, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError

from bot.storage import StorageError
from bot.telegram.handlers import ALLOWED_UPDATES
from bot.telegram.runtime import AnyApplication, Applied, Runtime, Tries

log = logging.getLogger(__name__)

POLL_TIMEOUT = 30  # seconds Telegram holds a getUpdates open when there is nothing new
BATCH = 100  # updates a getUpdates returns at most (Telegram's limit)
BUSY_POLL_S = 0.25  # while chats are busy, fetch at least this often for newcomers
MAX_BACKLOG = 20  # updates one chat may have waiting; more are dropped with a note
BACKOFF_START = 1.0
BACKOFF_MAX = 30.0
# Tries of a database that cannot be written: soon at first, then every 30 s at most.
STORAGE_RETRY_START = 0.5
STORAGE_RETRY_MAX = 30.0

ChatKey = int | str  # the chat id; updates without a chat are each a "chat" of their own


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


@dataclass(eq=False)
class _Burst:
    """A chat whose backlog overflowed: its updates are dropped until the burst is over."""

    noted: bool = False  # the person was told once, this burst, that taps were dropped
    over: bool = False  # the chat had nothing left to do, and Telegram nothing hidden


@dataclass(eq=False)
class _Chat:
    """One chat's updates waiting to be applied, in order, and those to drop."""

    burst: _Burst | None = None  # while its backlog overflowed
    queue: deque[Update] = field(default_factory=deque)  # the head is applied first
    dropped: list[Update] = field(default_factory=list)  # over the backlog, to record
    served: bool = False  # an update was applied: a note now follows a reply, never leads
    worker: asyncio.Task[None] | None = None


class Poller:
    def __init__(
        self,
        app: AnyApplication,
        runtime: Runtime,
        *,
        timeout: int = POLL_TIMEOUT,
        backlog: int = MAX_BACKLOG,
        retry_start: float = BACKOFF_START,
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.timeout = timeout
        self.backlog = backlog
        self.retry_start = retry_start  # first wait before a failed update is tried again
        self.tries = Tries(runtime.give_up)
        self.polls = 0  # getUpdates calls answered (for tests and startup timing)
        self._chats: dict[ChatKey, _Chat] = {}  # chats with a worker
        self._bursts: dict[ChatKey, _Burst] = {}  # chats that overflowed (worker or not)
        self._whole = True  # the last fetch held all Telegram had (fewer than a batch)
        self._pending: set[int] = set()  # fetched and not done: queued, running or dropping
        self._finished: set[int] = set()  # done, but an older one is pending: not confirmed
        self._highest: int | None = None  # the newest update id fetched
        self._progress = asyncio.Event()  # something finished: the offset may have moved
        self._writable = asyncio.Event()  # cleared while the database cannot be written
        self._writable.set()
        self._stop = asyncio.Event()  # set when run() ends: the workers end too

    @property
    def offset(self) -> int | None:
        """What ``getUpdates`` confirms: everything below the oldest update not yet done."""
        if self._pending:
            return min(self._pending)
        return None if self._highest is None else self._highest + 1

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    async def run(self, stop: asyncio.Event) -> int:
        """Poll until ``stop`` is set; returns the exit code (0, or 1 if the token stops
        working). Work under way is finished (each chat's current update) before it returns."""
        backoff = Backoff()
        if not await self._delete_webhook(stop, backoff):
            return 0
        try:
            while not stop.is_set():
                if not self._writable.is_set():
                    await self._wait_for_storage(stop)
                    continue
                if self.busy:
                    await self._pace(stop)
                try:
                    updates = await self._fetch(stop)
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
                self.take(updates)
        finally:
            await self.finish()
        await self._confirm_last()
        return 0

    def take(self, updates: Sequence[Update]) -> None:
        """Queue newly fetched updates on their chats (older or known ones are skipped) and
        set each chat's worker going; a chat's updates over its backlog are to drop."""
        offset = self.offset
        for key in [k for k, burst in self._bursts.items() if burst.over]:
            del self._bursts[key]  # what this fetch brings from the chat came after it
        fresh: set[ChatKey] = set()
        for update in updates:
            update_id = update.update_id
            if offset is not None and update_id < offset:
                continue  # done and confirmed (or about to be): a duplicate
            if update_id in self._pending or update_id in self._finished:
                continue  # handed out again because it is not confirmed yet
            self._highest = max(update_id, self._highest or update_id)
            self._pending.add(update_id)
            key = _chat_key(update)
            fresh.add(key)
            chat = self._chats.setdefault(key, _Chat(self._bursts.get(key)))
            if chat.burst is None and len(chat.queue) >= self.backlog:
                chat.burst = self._bursts[key] = _Burst()  # overflowed: a burst
            if chat.burst is not None:
                chat.dropped.append(update)
            else:
                chat.queue.append(update)
            if chat.worker is None:
                chat.worker = asyncio.create_task(self._work(key, chat), name=f"chat-{key}")
        self._whole = len(updates) < BATCH
        if self._whole:  # Telegram had nothing more: a chat with nothing to do is done
            for key in [k for k in self._bursts if k not in self._chats and k not in fresh]:
                del self._bursts[key]

    async def finish(self) -> None:
        """Let each chat finish the update in hand, then end its worker; what is left stays
        pending (the offset does not pass it) and comes again at the next start."""
        self._stop.set()
        await self.idle()

    async def idle(self) -> None:
        """Wait until every chat's worker has ended (all done, or stopped)."""
        while self._chats:
            workers = [c.worker for c in self._chats.values() if c.worker is not None]
            await asyncio.gather(*workers, return_exceptions=True)

    # -- a chat's worker ----------------------------------------------------------------------

    async def _work(self, key: ChatKey, chat: _Chat) -> None:
        """Apply one chat's updates in order until none is left (or we stop). What is left
        when we stop stays pending: the offset does not pass it, and Telegram hands it out
        again at the next start."""
        backoff = Backoff(self.retry_start)
        try:
            while (chat.queue or chat.dropped) and not self._stop.is_set():
                outcome = await self._step(chat)
                if outcome is Applied.UNAVAILABLE:
                    self._writable.clear()  # the fetcher stops and tries the database
                    await _wait_either(self._writable, self._stop)
                elif outcome is Applied.FAILED:
                    await _sleep(backoff.take(), self._stop)
                else:
                    backoff.reset()
        finally:
            del self._chats[key]
            # Nothing left to do, and the last fetch held all Telegram had: the burst is over
            # (the next fetch's updates from the chat came after). After a full batch, more of
            # it may wait behind the offset, and is dropped as the rest of the burst.
            if chat.burst is not None:
                chat.burst.over = self._whole
            self._progress.set()

    async def _step(self, chat: _Chat) -> Applied:
        """Apply the oldest update, or record what was dropped (after the first reply)."""
        try:
            if chat.dropped and (chat.served or not chat.queue):
                return await self._drop(chat)
            update = chat.queue[0]
            outcome = await self.runtime.apply(self.app, update)
            if outcome is Applied.FAILED:
                outcome = await self._count_failure(update.update_id)
        except Exception:  # a bug here must not stop the chat for good: tried again later
            log.exception("serving a chat failed")
            return Applied.FAILED
        if outcome is Applied.DONE:
            self._finish([chat.queue.popleft().update_id])
            chat.served = True
        return outcome

    async def _drop(self, chat: _Chat) -> Applied:
        """Record the updates over the chat's backlog as processed; the first of a burst
        carries the polite note."""
        dropped = list(chat.dropped)
        try:
            if chat.burst is not None and not chat.burst.noted:
                await self.runtime.drop(dropped[:1], note=True)
                chat.burst.noted = True
                self._finish([dropped[0].update_id])
                chat.dropped.pop(0)
                dropped = dropped[1:]
            await self.runtime.drop(dropped)
        except StorageError:
            return Applied.UNAVAILABLE  # not recorded: the same again when it can be
        del chat.dropped[: len(dropped)]
        self._finish([update.update_id for update in dropped])
        return Applied.DONE

    def _finish(self, update_ids: Sequence[int]) -> None:
        for update_id in update_ids:
            self._pending.discard(update_id)
            self._finished.add(update_id)
            self.tries.forget(update_id)
        offset = self.offset
        if offset is not None:
            self._finished = {u for u in self._finished if u >= offset}
        if not self._pending:
            self.runtime.idle()  # nothing waits: the replies sent are recorded at once
        self._progress.set()

    async def _count_failure(self, update_id: int) -> Applied:
        """FAILED until the update has failed :data:`MAX_TRIES` times; then it is given up:
        recorded as processed (DONE), or UNAVAILABLE when even that cannot be written."""
        return await self.tries.failed(update_id)

    # -- fetching -----------------------------------------------------------------------------

    async def _fetch(self, stop: asyncio.Event) -> list[Update] | None:
        """One ``getUpdates``: a long poll when nothing is under way, else a quick look (the
        unfinished updates come back at once, so a long poll would return at once anyway)."""
        self._progress.clear()
        fetch = self.app.bot.get_updates(
            offset=self.offset,
            limit=BATCH,
            timeout=0 if self.busy else self.timeout,
            allowed_updates=ALLOWED_UPDATES,
        )
        return await _unless_stopped(fetch, stop)

    async def _pace(self, stop: asyncio.Event) -> None:
        """While busy: wait until something finished, or :data:`BUSY_POLL_S` at most."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_wait_either(self._progress, stop), timeout=BUSY_POLL_S)

    async def _wait_for_storage(self, stop: asyncio.Event) -> None:
        """Fetch nothing until the database can be written again (or we stop)."""
        backoff = Backoff(STORAGE_RETRY_START, STORAGE_RETRY_MAX)
        while not stop.is_set():
            wait = backoff.take()
            log.debug("not fetching updates: the database cannot be written; next try in %.1f s",
                      wait)  # fmt: skip
            await _sleep(wait, stop)
            try:
                if await self.runtime.storage.writable():
                    self._writable.set()  # the chats' workers carry on
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
        """Tell Telegram about what was done before exiting (else it comes again at the next
        start: harmless, since ids are deduplicated, but wasteful)."""
        if self.offset is None:
            return
        try:
            await self.app.bot.get_updates(offset=self.offset, timeout=0, limit=1)
        except TelegramError as error:
            log.debug("final getUpdates failed: %s", error)


def _chat_key(update: Update) -> ChatKey:
    chat = update.effective_chat
    return chat.id if chat else f"u{update.update_id}"


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


async def _wait_either(first: asyncio.Event, second: asyncio.Event) -> None:
    """Until either event is set."""
    waits = {asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


async def _sleep(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
