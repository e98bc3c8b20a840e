"""What the running bot holds: settings, the flow, the database, the outbox, the chat locks.

:func:`bot.app.build_application` creates one :class:`Runtime` per application and keeps it in
``application.bot_data``; ``post_init`` opens it (flow file, then database) and
``post_shutdown`` closes it. :meth:`Runtime.apply` is how the polling loop and the webhook
hand an update over and learn what became of it (:class:`Applied`).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import Any

from telegram import Bot, BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CallbackContext

from bot.config import Settings
from bot.engine import Engine
from bot.errors import TransportError
from bot.flow import load_compiled
from bot.storage import Storage, StorageError, StorageUnavailable, Store
from bot.storage.postgres import PostgresStorage
from bot.telegram import render
from bot.telegram.conversation import Change, ChatView, Conversations, RunningFlow
from bot.telegram.locks import ChatLocks
from bot.telegram.metrics import Metrics
from bot.telegram.outbox import Outbox, raw_call
from bot.telegram.retention import Retention
from bot.telegram.texts import COMMANDS, FALLBACK, say

log = logging.getLogger(__name__)

RUNTIME_KEY = "runtime"
# With a shared database, the jobs that must run in one process only: they delete, send a
# check-in or copy the database once for all.
LEADER_JOBS = ("retention", "follow-ups", "backup")
SWEEP_EVERY_S = 5.0  # how often each process looks for replies a dead process left unsent
MAX_TRIES = 5  # an update whose handler fails this many times is given up (polling, webhook)
REMEMBERED_TRIES = 10_000  # update ids whose failures are counted at most; the oldest go
_GIVEN_UP = -1  # the count of an update given up (recorded as processed)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
Job = Callable[[], Coroutine[Any, Any, None]]


class StartupError(TransportError):
    """The bot cannot start; the message is one sentence for the person running it."""


class Applied(enum.Enum):
    """What became of an update handed to :meth:`Runtime.apply`."""

    DONE = "done"  # committed (or applied before, or nothing to do): it may be confirmed
    FAILED = "failed"  # its handler failed: not committed; tried again, given up on in the end
    # The database cannot be written now: not committed, and not the update's fault, so it is
    # tried again once the database can take it, however long that takes.
    UNAVAILABLE = "unavailable"


class Tries:
    """How many times each update's handler failed, so that one that keeps failing (a bug,
    never a database outage) is given up after :data:`MAX_TRIES`: recorded as processed
    first, so that polling may confirm it and the webhook answer it 200 (Telegram would
    otherwise send it again for a day). At most ``remember`` ids are counted, the oldest
    forgotten first: a failing update Telegram stopped sending does not stay forever."""

    def __init__(
        self, give_up: Callable[[list[int]], Awaitable[None]], remember: int = REMEMBERED_TRIES
    ) -> None:
        self._give_up = give_up
        self._remember = remember
        self._counts: dict[int, int] = {}  # oldest first

    def __len__(self) -> int:
        return len(self._counts)

    def forget(self, update_id: int) -> None:
        """The update is done (applied, or given up and confirmed)."""
        self._counts.pop(update_id, None)

    def given_up(self, update_id: int) -> bool:
        """Was it given up (and recorded as processed) here, and not forgotten since?"""
        return self._counts.get(update_id) == _GIVEN_UP

    async def failed(self, update_id: int) -> Applied:
        """Count a failure: FAILED (try it again) until the update has failed
        :data:`MAX_TRIES` times; then it is recorded as processed and DONE, or UNAVAILABLE
        when even that cannot be written (the next failure tries to record it again)."""
        count = max(self._counts.pop(update_id, 0), 0) + 1
        self._counts[update_id] = count
        while len(self._counts) > self._remember:
            del self._counts[next(iter(self._counts))]
        if count < MAX_TRIES:
            return Applied.FAILED
        try:
            await self._give_up([update_id])
        except StorageError:
            return Applied.UNAVAILABLE
        self._counts[update_id] = _GIVEN_UP
        log.error("update %d failed %d times; given up", update_id, count)
        return Applied.DONE


class Runtime:
    def __init__(self, settings: Settings, bot: Bot, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.bot = bot
        self.metrics = metrics or Metrics()  # this application's own registry
        self.locks = ChatLocks()
        # Ids of updates whose handler raised (set by the error handlers, read by apply()).
        self.failed_updates: set[int] = set()
        self.unavailable_updates: set[int] = set()
        self._conversations: Conversations | None = None
        self._retention: Retention | None = None
        # Added by features before start (bot.telegram.practice): background jobs that
        # post_init starts once the database is open and close() cancels before closing it.
        self.jobs: dict[str, Job] = {}
        self._running_jobs: list[asyncio.Task[None]] = []
        self._shared: PostgresStorage | None = None  # the database other processes use too

    @property
    def conversations(self) -> Conversations:
        if self._conversations is None:
            raise RuntimeError("the bot's runtime is not open yet (post_init has not run)")
        return self._conversations

    @property
    def storage(self) -> Store:
        return self.conversations.storage

    @property
    def outbox(self) -> Outbox:
        return self.conversations.outbox

    @property
    def flow(self) -> RunningFlow:
        """The running flow; assign ``flow.engine`` to switch to a new version."""
        return self.conversations.flow

    @property
    def retention(self) -> Retention:
        """The daily deletion of old personal data (a job of this runtime, caught up in
        ``post_init``)."""
        if self._retention is None:
            raise RuntimeError("the bot's runtime is not open yet (post_init has not run)")
        return self._retention

    @property
    def shared(self) -> bool:
        """Other processes may use the same database (PostgreSQL)."""
        return self._shared is not None

    @property
    def is_open(self) -> bool:
        return self._conversations is not None

    async def open(self) -> None:
        """Load the flow, then open the database. Idempotent. Raises ``FlowError`` or
        ``StorageError`` (both with a message fit to show as it is)."""
        if self._conversations is not None:
            return
        path = str(self.settings.flow_file)
        engine = Engine(load_compiled(path), self.settings.texts())
        storage = await self._open_storage()
        outbox = Outbox(self.bot, storage, self.locks, shared=self._shared is not None)
        self._conversations = Conversations(
            self.bot,
            storage,
            outbox,
            RunningFlow(engine, path),
            self.locks,
            retention_days=self.settings.retention_days,
            offering=render.Offering(
                leads=bool(self.settings.admin_chat_ids), checkin_days=self.settings.followup_days
            ),
            observers=[self.metrics.committed],
        )
        self._retention = Retention(storage, self.settings.retention_days)
        self.jobs["retention"] = self._retention.daily
        if self._shared is not None:
            claim = self._shared.claim_orphans
            self.jobs["outbox-sweep"] = lambda: outbox.sweep(claim, SWEEP_EVERY_S)

    async def _open_storage(self) -> Store:
        """The database the settings name: PostgreSQL for ``DATABASE_URL=postgresql://``,
        else the SQLite file (one bot per file). Several bots may share a PostgreSQL database
        in webhook mode; a polling bot holds it alone (a second one is refused)."""
        settings = self.settings
        for note in settings.notes:
            log.info("%s", note)
        if settings.database_url is None:
            sqlite = await Storage.open(settings.database_path, exclusive=True, verify=True)
            group = sqlite.group
            self.metrics.watch_commits(lambda: (group.transactions, group.writes))
            self.jobs["database-file"] = sqlite.watch_file  # deleted or replaced under us?
            return sqlite
        shared = await PostgresStorage.open(
            settings.database_url,
            exclusive=not settings.webhook_mode,
            webhook=settings.webhook_mode,
            verify=True,
        )
        self._shared = shared
        self.locks.across = shared.chat_lock  # a chat's turn excludes every other process
        return shared

    def start_jobs(self) -> None:
        """Start the background jobs. With a shared database (PostgreSQL) the ones that must
        run once per database (:data:`LEADER_JOBS`) run only in the process holding the
        leader lock, moving to another when it dies; the others run in every process."""
        if self._running_jobs:
            return
        mine = dict(self.jobs)
        shared = self._shared
        if shared is not None:
            leader = {name: mine.pop(name) for name in LEADER_JOBS if name in mine}
            mine["leader"] = lambda: shared.lead(lambda: _run_all(leader))
        self._running_jobs = [asyncio.create_task(job(), name=name) for name, job in mine.items()]

    async def close(self) -> None:
        jobs, self._running_jobs = self._running_jobs, []
        for task in jobs:
            task.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
        conversations, self._conversations = self._conversations, None
        self._retention = None
        self._shared = None
        self.locks.across = None
        if conversations is not None:
            await conversations.outbox.stop()
            await conversations.storage.close()

    async def apply(self, app: AnyApplication, update: Update) -> Applied:
        """Process one update and say what became of it; anything but DONE must not be
        confirmed to Telegram."""
        started = time.perf_counter()
        applied = await self._apply(app, update)
        self.metrics.handled(applied is Applied.DONE, time.perf_counter() - started)
        return applied

    async def _apply(self, app: AnyApplication, update: Update) -> Applied:
        update_id = update.update_id
        self.failed_updates.discard(update_id)
        self.unavailable_updates.discard(update_id)
        try:
            await app.process_update(update)
        except Exception:
            log.exception("update %d could not be processed", update_id)
            return Applied.FAILED
        if update_id in self.unavailable_updates:
            self.unavailable_updates.discard(update_id)
            self.failed_updates.discard(update_id)
            return Applied.UNAVAILABLE
        if update_id in self.failed_updates:
            self.failed_updates.discard(update_id)
            return Applied.FAILED
        return Applied.DONE

    def idle(self) -> None:
        """Every update handed over is done and none is waiting (polling: nothing fetched is
        unfinished; webhook: no other request in flight): the replies sent are recorded as
        sent now (:meth:`Outbox.record_now`), which narrows a kill -9's resend window."""
        if self.is_open:
            self.outbox.record_now()

    async def give_up(self, update_ids: Iterable[int]) -> None:
        """Record updates as processed without applying them, so the offset may pass them.
        Raises StorageError when the database cannot record it: then they stay unconfirmed."""
        await self.storage.mark_processed(update_ids)

    async def drop(self, updates: Sequence[Update], *, note: bool = False) -> None:
        """Drop updates a chat sent faster than it can be answered (see ``polling``): recorded
        as processed, their buttons' spinners stopped. With ``note``, the first tells the
        person so (in a private chat), in the same transaction. Raises StorageError when the
        database cannot record them."""
        if not updates:
            return
        first, *rest = updates
        chat = first.effective_chat
        if note and chat is not None and chat.type == chat.PRIVATE:
            query = first.callback_query
            user = first.effective_user
            await self.conversations.take_turn(
                update_id=first.update_id,
                chat_id=chat.id,
                decide=_slow_down,
                language=user.language_code if user else None,
                query_id=query.id if query else None,
            )
        else:
            rest = list(updates)
        await self.give_up([update.update_id for update in rest])
        queries = [u.callback_query.id for u in rest if u.callback_query is not None]
        await asyncio.gather(*(self._stop_spinner(query) for query in queries))

    async def _stop_spinner(self, query_id: str) -> None:
        try:
            await raw_call(self.bot, "answerCallbackQuery", {"callback_query_id": query_id})
        except TelegramError as error:
            log.debug("answerCallbackQuery failed: %s", error)

    async def on_storage_outage(
        self, update: object, context: CallbackContext[Any, Any, Any, Any]
    ) -> None:
        """The first error handler: an update that failed because the database cannot be
        written is marked for :meth:`apply` and goes no further (``ApplicationHandlerStop``),
        so the handlers' own error handler does not log a traceback for every update of an
        outage; :class:`~bot.storage.Store` reports the outage itself, once a minute."""
        if isinstance(context.error, StorageUnavailable) and isinstance(update, Update):
            self.unavailable_updates.add(update.update_id)
            raise ApplicationHandlerStop


async def _run_all(jobs: dict[str, Job]) -> None:
    """Run the jobs side by side until cancelled (then they are cancelled too)."""
    tasks = [asyncio.create_task(job(), name=name) for name, job in jobs.items()]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _slow_down(chat: ChatView) -> Change:
    """The note to a person whose taps were dropped: the question on screen still works."""
    return Change(outbox=[render.text_message(chat.chat_id, say("slow_down", chat.language))])


def runtime_of(app: AnyApplication) -> Runtime:
    runtime = app.bot_data.get(RUNTIME_KEY)
    if not isinstance(runtime, Runtime):
        raise RuntimeError("this application was not built by bot.app.build_application")
    return runtime


async def set_commands(bot: Bot) -> None:
    """The command menu, per language (the default menu in the fallback language)."""
    for language, commands in COMMANDS.items():
        try:
            await bot.set_my_commands(
                [BotCommand(name, description) for name, description in commands],
                language_code=None if language == FALLBACK else language,
            )
        except TelegramError as error:
            log.warning("Could not set the command menu (%s): %s", language, error.message)
