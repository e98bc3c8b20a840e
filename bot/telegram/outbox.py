"""Delivering the outbox: after commit, in order per chat, retried until Telegram has it.

Replies are committed to the outbox together with the update that caused them; this module
sends them. The handler sends a chat's new rows straight after its commit (with the chat's
lock held, so a chat's messages leave in order). When a send fails for a reason that may pass
(network, 5xx, 429 after the rate limiter's own retries), that row and every later row of the
chat stay queued and the chat is retried with backoff by one background task; until then, new
rows of that chat queue up behind the old ones.

What Telegram answers decides what happens to a row:

* success: removed (a question's message id is remembered as the chat's prompt);
* 403 (the person blocked the bot, or it left the group): the chat is marked blocked and its
  queue dropped;
* 400 "message is not modified" (a double tap), "message to edit not found" (the person
  deleted it) and the like: the screen already shows what it can, so the row counts as done,
  quietly;
* any other 400: permanent, kept as failed for a look, logged once, never retried;
* anything else: kept and retried; given up after :data:`MAX_ATTEMPTS` tries.

Logs name the method and Telegram's error, never a message's text or a chat id (at INFO and
above); the token never appears (see ``logs``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from types import TracebackType
from typing import Any, NamedTuple

from telegram import Bot, InputFile
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from bot.storage import PROMPT, OutboxItem, StorageError, StorageUnavailable, Store
from bot.telegram.locks import ChatLocks

log = logging.getLogger(__name__)

# Delivered rows are removed by the next update's commit, whatever its chat; when no update
# comes for this long, by a transaction of their own.
FLUSH_IDLE_S = 0.05
# When they cannot be removed (the database cannot be written), tried again after twice as
# long each time, up to this; the storage reports the outage, once a minute.
FLUSH_RETRY_MAX_S = 5.0
RETRY_WHILE_UNAVAILABLE_S = 5.0  # a chat's queue, when the database could not be written
MAX_ATTEMPTS = 30  # with the backoff below: about two and a half hours of trying
MAX_BACKOFF = 300.0  # seconds
PAGE = 100  # rows read at a time when a chat's queue is long

# Telegram's answers to edits that are harmless: the screen already shows what we wanted.
_QUIET = (
    "message is not modified",
    "message to edit not found",
    "message can't be edited",
    "message to delete not found",
    "query is too old",
)


def raw_call(bot: Bot, method: str, params: dict[str, Any]) -> Any:
    """A Bot API call with a plain dict result: no ``Message`` objects built for results
    nobody reads, and the rows are JSON already.

    The method name goes lower-cased: Bot API method names are case-insensitive, and
    ``do_api_request`` warns "please use Bot.send_message" for names it has a method for.
    Files made by :func:`upload` go up as multipart uploads.
    """
    name = method.lower()
    if name in _UPLOADING:
        params = {key: _as_file(value) for key, value in params.items()}
    return bot.do_api_request(name, api_kwargs=params)


def upload(filename: str, data: bytes) -> dict[str, str]:
    """A file to send (``sendDocument``'s ``document``, ``sendPhoto``'s ``photo``) as a value
    an outbox row can hold: JSON, so the bytes go as base64 until the call is made."""
    return {UPLOAD: filename, "base64": base64.b64encode(data).decode("ascii")}


UPLOAD = "upload_filename"
_UPLOADING = frozenset({"senddocument", "sendphoto", "sendaudio", "sendvideo", "sendvoice"})


def _as_file(value: Any) -> Any:
    if isinstance(value, dict) and UPLOAD in value:
        return InputFile(base64.b64decode(value["base64"]), filename=str(value[UPLOAD]))
    return value


class _Sent(NamedTuple):
    item_id: int
    message_id: int | None
    chat_id: int
    prompt: bool


class SentBatch:
    """Delivered rows handed to an update's commit, which removes them in its transaction::

        with outbox.take_sent() as sent:
            await storage.commit(UpdateWrite(update_id, chat_id, change, sent))

    If the commit fails they go back to the outbox, to be removed by the next one.
    """

    __slots__ = ("_batch", "_outbox")

    def __init__(self, outbox: Outbox, batch: list[_Sent]) -> None:
        self._outbox = outbox
        self._batch = batch

    def __enter__(self) -> list[tuple[int, int | None]]:
        return [(sent.item_id, sent.message_id) for sent in self._batch]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self._outbox._removed(self._batch)
        elif self._batch:
            self._outbox._sent[:0] = self._batch
            self._outbox._arm_idle_flush()


class Verdict(Enum):
    SENT = "sent"
    DROPPED = "dropped"  # permanent failure, never retried
    BLOCKED = "blocked"
    RETRY = "retry"


class Outbox:
    """Sends committed rows and retries what could not be sent.

    ``shared``: other processes send from the same database (PostgreSQL). A chat's rows are
    then sent only under its lock across processes (``locks``), and recorded as sent before
    the lock is let go, not by the next commit: otherwise the next process to take the chat
    would find them still queued and send them again. For the same reason a chat's delivery
    always reads its whole queue: another process may have left rows in it.
    """

    def __init__(self, bot: Bot, storage: Store, locks: ChatLocks, *, shared: bool = False) -> None:
        self.bot = bot
        self.storage = storage
        self.locks = locks
        self.shared = shared
        self._waiting: dict[int, float] = {}  # chat id -> monotonic time of its next retry
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Sent, not yet removed from the database (see flush); prompts sent meanwhile by chat.
        self._sent: list[_Sent] = []
        self._sent_prompts: dict[int, int] = {}
        self._flushing: asyncio.Task[None] | None = None
        self._idle_flush: asyncio.TimerHandle | None = None
        self._flush_delay = FLUSH_IDLE_S  # grows while removals fail, back on success
        self._last_taken = 0.0  # monotonic time sent rows were last handed to a commit

    def prompt_message_id(self, chat_id: int, stored: int | None) -> int | None:
        """The chat's last question message: a sent prompt not yet flushed wins."""
        return self._sent_prompts.get(chat_id, stored)

    def take_sent(self) -> SentBatch:
        """Hand the rows delivered so far to the caller's commit (see :class:`SentBatch`)."""
        batch, self._sent = self._sent, []
        self._last_taken = time.monotonic()
        return SentBatch(self, batch)

    async def flush(self) -> None:
        """Remove sent rows from the database now (before reading the queue, and at stop).

        A reply is removed from the outbox after it was sent, not by the update that sent it:
        the next update's commit removes it in the same transaction (:meth:`take_sent`), so a
        busy bot spends no transaction, and no second database round trip, on removals (a
        transaction of their own, running on the database thread beside the next update,
        cost more than the update's commit). When no update follows within
        :data:`FLUSH_IDLE_S`, they are removed on their own, and at once when nothing else
        is waiting to be applied (:meth:`record_now`). A crash before the removal sends the
        reply again at start, as a crash between send and removal would with a synchronous
        removal; the window is the next commit or the idle delay while other updates are
        under way, milliseconds when none is.
        """
        while self._flushing is not None and not self._flushing.done():
            await asyncio.shield(self._flushing)
        if self._sent:
            await self._flush_now()

    def record_now(self) -> None:
        """Nothing else is waiting to be applied: remove the sent rows now rather than after
        :data:`FLUSH_IDLE_S`, in a task of its own (the caller does not wait). No update's
        commit would take them soon, and the database is idle, so this costs no update
        anything, and a reply Telegram accepted is recorded within milliseconds: a kill -9
        of an idle bot then resends nothing. While removals fail, their backoff rules."""
        if self.shared or not self._sent or self._flush_delay > FLUSH_IDLE_S:
            return
        if self._idle_flush is not None:
            self._idle_flush.cancel()
            self._idle_flush = None
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_soon(), name="outbox-flush")

    # -- the hot path: called by the handler with the chat's lock held --------------------------

    async def deliver(self, chat_id: int, items: Sequence[OutboxItem]) -> None:
        """Send ``items`` (just committed) unless older rows of the chat are still queued, in
        which case the whole queue goes, oldest first.

        Rows for other chats (a lead's card to the admin chats) are handed to those chats'
        own queues, sent by the retry task under their own locks at once: their order, their
        retries and a 403 from them stay theirs, never this chat's.
        """
        if any(item.chat_id != chat_id for item in items):
            for other in {item.chat_id for item in items} - {chat_id}:
                self.retry_later(other, 0.0)
            items = [item for item in items if item.chat_id == chat_id]
        if chat_id in self._waiting or self.shared:
            await self.deliver_queued(chat_id)
        elif items:
            await self._send_in_order(chat_id, items)

    async def deliver_queued(self, chat_id: int) -> None:
        """Send everything queued for the chat (the caller holds the chat's lock)."""
        self._waiting.pop(chat_id, None)
        await self.flush()
        while True:
            items = await self.storage.pending_outbox(chat_id, PAGE)
            if not items or not await self._send_in_order(chat_id, items):
                return
            if len(items) < PAGE:
                return

    # -- start and retries --------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._retry_loop(), name="outbox-retries")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._idle_flush is not None:
            self._idle_flush.cancel()
            self._idle_flush = None
        try:
            await self.flush()
        except StorageError as error:  # stopping while the database cannot be written
            log.warning(
                "%d sent replies could not be recorded as sent (%s); they are sent again at "
                "the next start",
                len(self._sent),
                error,
            )

    async def send_unsent(self) -> int:
        """At start: send what a previous run committed but did not get out. Returns how many
        chats had something queued."""
        done: set[int] = set()
        while True:
            await self.flush()
            items = await self.storage.pending_outbox(None, PAGE * 10)
            chats = list(dict.fromkeys(i.chat_id for i in items if i.chat_id not in done))
            if not chats:
                return len(done)
            for chat_id in chats:
                async with self.locks(chat_id):
                    await self.deliver_queued(chat_id)
                done.add(chat_id)

    async def sweep(self, claim: Callable[[], Awaitable[list[int]]], every: float) -> None:
        """Shared: every ``every`` seconds, take over the chats whose queued rows nobody is
        sending (``claim``: their sender died, or its retry is overdue) and send them, each
        under its lock. Runs until cancelled."""
        while True:
            try:
                chats = await claim()
            except StorageError as error:  # the storage reports an outage, once a minute
                log.debug("cannot look for orphaned replies: %s", error)
            else:
                for chat_id in chats:
                    self.retry_later(chat_id, 0.0)
            await asyncio.sleep(every)

    @property
    def waiting(self) -> int:
        """How many chats have rows waiting for a retry."""
        return len(self._waiting)

    def retry_later(self, chat_id: int, delay: float) -> None:
        due = time.monotonic() + delay
        self._waiting[chat_id] = min(due, self._waiting.get(chat_id, due))
        self._wake.set()

    async def _retry_loop(self) -> None:
        while True:
            self._wake.clear()
            now = time.monotonic()
            due = [chat for chat, at in self._waiting.items() if at <= now]
            if due:
                await asyncio.gather(*(self._retry(chat) for chat in due))
                continue
            sleep = min(self._waiting.values(), default=now + 3600.0) - now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(sleep, 0.01))

    async def _retry(self, chat_id: int) -> None:
        try:
            async with self.locks(chat_id):
                if chat_id in self._waiting and self._waiting[chat_id] <= time.monotonic():
                    await self.deliver_queued(chat_id)
        except StorageUnavailable as error:  # reported by the storage, once a minute
            log.debug("queued replies wait for the database: %s", error)
            self.retry_later(chat_id, RETRY_WHILE_UNAVAILABLE_S)
        except StorageError as error:
            log.error("Cannot read the outbox: %s", error)
            self.retry_later(chat_id, MAX_BACKOFF)
        except Exception:  # the retry loop must outlive any one chat's trouble
            log.exception("Retrying queued replies failed")
            self.retry_later(chat_id, MAX_BACKOFF)

    # -- sending ------------------------------------------------------------------------------

    async def _send_in_order(self, chat_id: int, items: Sequence[OutboxItem]) -> bool:
        """Send until one must wait; returns True when all of ``items`` are dealt with. Shared:
        what was sent is recorded before returning (the caller still holds the lock)."""
        try:
            return await self._send_rows(chat_id, items)
        finally:
            if self.shared and self._sent:
                await self._flush_now()

    async def _send_rows(self, chat_id: int, items: Sequence[OutboxItem]) -> bool:
        for item in items:
            verdict, message_id, delay = await self._send(item)
            if verdict is Verdict.SENT:
                self._record_sent(chat_id, item, message_id)
            elif verdict is Verdict.BLOCKED:
                await self.flush()
                await self.storage.mark_blocked(chat_id, True)
                self._waiting.pop(chat_id, None)
                return False
            elif verdict is Verdict.RETRY:
                self.retry_later(chat_id, delay)
                return False
        return True

    def _record_sent(self, chat_id: int, item: OutboxItem, message_id: int | None) -> None:
        prompt = item.tag == PROMPT and message_id is not None
        self._sent.append(_Sent(item.id, message_id, chat_id, prompt))
        if prompt:
            assert message_id is not None
            self._sent_prompts[chat_id] = message_id
        self._arm_idle_flush()

    def _arm_idle_flush(self) -> None:
        # Shared: sent rows are recorded by the delivery itself, before the chat's lock goes
        # (rows put back after a failed try go with the next delivery, or at stop); a task of
        # its own would wait for a pooled connection the waiting deliveries may all hold.
        if self.shared:
            return
        if self._idle_flush is None:
            loop = asyncio.get_running_loop()
            self._idle_flush = loop.call_later(self._flush_delay, self._flush_if_idle)

    def _flush_if_idle(self) -> None:
        self._idle_flush = None
        if not self._sent:
            return
        wait = self._last_taken + self._flush_delay - time.monotonic()
        if wait > 0:  # a commit took the rows meanwhile; these came after it
            loop = asyncio.get_running_loop()
            self._idle_flush = loop.call_later(wait, self._flush_if_idle)
        elif self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_soon(), name="outbox-flush")

    async def _flush_soon(self) -> None:
        try:
            while self._sent:
                await self._flush_now()
        except StorageError as error:
            # Tried again later, after twice as long each time: never in a tight loop.
            self._flush_delay = min(self._flush_delay * 2, FLUSH_RETRY_MAX_S)
            if isinstance(error, StorageUnavailable):  # the storage reports it, once a minute
                log.debug(
                    "cannot record sent messages yet (%s); next try in %.2f s",
                    error,
                    self._flush_delay,
                )
            else:
                log.error("Cannot record sent messages: %s", error)
            self._arm_idle_flush()
        else:
            self._flush_delay = FLUSH_IDLE_S

    async def _flush_now(self) -> None:
        with self.take_sent() as sent:
            await self.storage.mark_sent(sent)

    def _removed(self, batch: list[_Sent]) -> None:
        # The database knows these prompts now (unless a newer one was sent meanwhile).
        for sent in batch:
            if sent.prompt and self._sent_prompts.get(sent.chat_id) == sent.message_id:
                del self._sent_prompts[sent.chat_id]

    async def _send(self, item: OutboxItem) -> tuple[Verdict, int | None, float]:
        try:
            result: Any = await raw_call(self.bot, item.method, dict(item.params))
        except RetryAfter as error:
            await self._failed(item, error, permanent=False)
            return Verdict.RETRY, None, _seconds(error.retry_after)
        except Forbidden as error:
            log.info("%s: %s; the chat is marked blocked", item.method, error.message)
            return Verdict.BLOCKED, None, 0.0
        except (BadRequest, ChatMigrated) as error:
            if _quiet(error):  # the screen already shows what we wanted: done
                return Verdict.SENT, None, 0.0
            log.warning("%s was refused and dropped: %s", item.method, error.message)
            await self._failed(item, error, permanent=True)
            return Verdict.DROPPED, None, 0.0
        except InvalidToken as error:  # revoked while running: keep everything for later
            log.error("Telegram rejected the bot token while sending %s", item.method)
            await self._failed(item, error, permanent=False)
            return Verdict.RETRY, None, MAX_BACKOFF
        except TelegramError as error:  # network, timeouts, 5xx
            return await self._transient(item, error)
        except Exception as error:  # a bug must not lose the row or stop the queue for good
            log.exception("%s could not be sent", item.method)
            return await self._transient(item, TelegramError(f"{type(error).__name__}"))
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return Verdict.SENT, message_id, 0.0

    async def _transient(
        self, item: OutboxItem, error: TelegramError
    ) -> tuple[Verdict, int | None, float]:
        attempts = item.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            log.error("%s given up after %d tries: %s", item.method, attempts, error.message)
            await self._failed(item, error, permanent=True)
            return Verdict.DROPPED, None, 0.0
        if attempts == 1:  # once per row: an outage must not flood the log
            log.warning("%s failed (%s); will retry", item.method, error.message)
        await self._failed(item, error, permanent=False)
        return Verdict.RETRY, None, min(2.0**attempts, MAX_BACKOFF)

    async def _failed(self, item: OutboxItem, error: TelegramError, *, permanent: bool) -> None:
        await self.storage.mark_failed(
            item.id, f"{type(error).__name__}: {error.message}", permanent=permanent
        )


def _quiet(error: TelegramError) -> bool:
    text = error.message.lower()
    return any(expected in text for expected in _QUIET)


def _seconds(value: Any) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)
