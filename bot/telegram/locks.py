"""One update at a time per chat, many chats at once.

A lock exists only while someone holds or waits for it (reference counted), so the table
does not grow with the number of people who ever wrote to the bot. ``asyncio.Lock`` wakes
waiters in arrival order, so a chat's updates keep their order when they queue up.

When several processes share the database (PostgreSQL), ``across`` is the database's own lock
of a chat (:meth:`bot.storage.postgres.PostgresStorage.chat_lock`), taken after this
process's: a process's updates of one chat queue here, and only the first of them waits for
the other processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType

AcrossProcesses = Callable[[int], AbstractAsyncContextManager[None]]


class ChatLocks:
    __slots__ = ("_locks", "across")

    def __init__(self, across: AcrossProcesses | None = None) -> None:
        self._locks: dict[int, _Entry] = {}
        self.across = across

    def __call__(self, chat_id: int) -> _Hold:
        """``async with locks(chat_id): ...``"""
        return _Hold(self, chat_id)

    def __len__(self) -> int:
        return len(self._locks)


class _Entry:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class _Hold:
    # A plain class rather than @asynccontextmanager: this runs on every update.
    __slots__ = ("_across", "_chat_id", "_entry", "_locks")

    def __init__(self, locks: ChatLocks, chat_id: int) -> None:
        self._locks = locks
        self._chat_id = chat_id
        self._entry: _Entry | None = None
        self._across: AbstractAsyncContextManager[None] | None = None

    async def __aenter__(self) -> None:
        table = self._locks._locks
        entry = table.get(self._chat_id)
        if entry is None:
            entry = table[self._chat_id] = _Entry()
        entry.users += 1
        self._entry = entry
        try:
            await entry.lock.acquire()
        except BaseException:
            self._release_entry()
            raise
        if self._locks.across is not None:
            across = self._locks.across(self._chat_id)
            try:
                await across.__aenter__()
            except BaseException:
                entry.lock.release()
                self._release_entry()
                raise
            self._across = across

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._entry is not None
        across, self._across = self._across, None
        try:
            if across is not None:
                await across.__aexit__(exc_type, exc, traceback)
        finally:
            self._entry.lock.release()
            self._release_entry()

    def _release_entry(self) -> None:
        entry = self._entry
        assert entry is not None
        entry.users -= 1
        if entry.users == 0:
            del self._locks._locks[self._chat_id]
