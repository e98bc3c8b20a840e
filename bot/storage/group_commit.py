"""Group commit: updates handed over together, or while a commit is in flight, share one
transaction.

Each update is committed before its replies go out and before it is confirmed to Telegram, and
a transaction's fixed part (taking the write lock, COMMIT, and a trip to the database thread
when it is busy) is a large part of an update's cost. When many chats are busy at once, their
updates need not pay it one by one.
As databases do with group commit, the first write finds nothing in flight and goes after one
turn of the event loop (never a timer: a quiet bot pays a few microseconds for batching), taking
with it every write handed over in that turn; writes that arrive while it is in flight queue up,
and when it is done they all go together in the next transaction: one COMMIT, and at most one
trip to the database thread, for the batch. Each caller's ``commit`` returns only
once the transaction holding its write is committed, so nothing is confirmed or sent before it
is durable.

What each write keeps:

* *Exactly once and all or nothing, per update.* A batch is one transaction
  (:func:`bot.storage.conversations.commit_writes`): if any of its writes fails, or COMMIT
  does, nothing of it is written and its writes are tried again one per transaction, so one
  poisoned update fails alone and cannot take the others down with it; a database that cannot
  be written fails each of them, as it would have alone.
* *Order.* Writes are applied in the order ``commit`` was called; the same chat twice in one
  batch ends at its second write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from bot.storage.conversations import Outcome, Pending
from bot.storage.records import OutboxItem

MAX_BATCH: Final = 256  # writes in one transaction at most: bounds its time and its undo log

RunBatch = Callable[[Sequence[Pending]], Awaitable[list[Outcome]]]


class GroupCommit:
    """Batches concurrent writes into shared transactions; ``run`` commits one batch.

    ``run`` returns one outcome per write (:data:`~bot.storage.conversations.Outcome`), or
    raises what undid the transaction (a :class:`~bot.storage.records.StorageError` for
    anything SQLite refused).
    """

    def __init__(self, run: RunBatch, *, max_batch: int = MAX_BATCH) -> None:
        self._run = run
        self.max_batch = max_batch
        self._queue: list[tuple[Pending, asyncio.Future[Outcome]]] = []
        self._busy = False  # a transaction of updates is in flight
        self._draining: asyncio.Task[None] | None = None
        # For tests and metrics: transactions of updates committed, and the writes in them.
        self.transactions = 0
        self.writes = 0

    async def commit(self, pending: Pending) -> list[OutboxItem] | None:
        """Commit one write, alone or with the writes handed over beside it; returns its
        queued rows, or None if its update was applied before. Raises what undid it."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append((pending, future))
        if not self._busy:
            self._busy = True
            try:
                # One turn of the event loop: the other chats' tasks that are ready now (a
                # getUpdates batch starts them together) hand their writes over first.
                await asyncio.sleep(0)
                await self._commit_next()
            finally:
                self._hand_on()
        outcome = await future
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def idle(self) -> None:
        """Until every write handed over so far is committed (or failed)."""
        while self._draining is not None and not self._draining.done():
            await asyncio.shield(self._draining)

    def _hand_on(self) -> None:
        """The transaction in flight is over: what queued meanwhile goes next, together."""
        if self._queue:
            self._draining = asyncio.create_task(self._drain(), name="group-commit")
        else:
            self._busy = False

    async def _drain(self) -> None:
        try:
            while self._queue:
                await self._commit_next()
        finally:
            self._busy = False
            for _, future in self._queue:  # only when cancelled (the storage is closing)
                future.cancel()
            self._queue.clear()

    async def _commit_next(self) -> None:
        """The oldest queued writes (up to ``max_batch``) in one transaction; each caller's
        future gets its write's outcome."""
        batch = self._queue[: self.max_batch]
        del self._queue[: self.max_batch]
        if len(batch) == 1:
            await self._settle(batch)
        else:
            # Other callers' writes ride on this transaction: if the task that started it is
            # cancelled (a webhook request dropped mid-commit), it must still finish and give
            # each of them its outcome, or they would wait for ever.
            await asyncio.shield(self._settle(batch))

    async def _settle(self, batch: list[tuple[Pending, asyncio.Future[Outcome]]]) -> None:
        try:
            outcomes = await self._commit([pending for pending, _ in batch])
        except Exception as error:  # a batch of one: its error is its outcome
            outcomes = [error] * len(batch)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():  # its caller may have been cancelled
                future.set_result(outcome)

    async def _commit(self, batch: Sequence[Pending]) -> list[Outcome]:
        try:
            outcomes = await self._run(batch)
        except Exception:
            if len(batch) == 1:
                raise
            return [await self._alone(pending) for pending in batch]
        self.transactions += 1
        self.writes += len(batch)
        return outcomes

    async def _alone(self, pending: Pending) -> Outcome:
        """One write of a failed batch, in a transaction of its own."""
        try:
            (outcome,) = await self._commit((pending,))
        except Exception as error:
            return error
        return outcome
