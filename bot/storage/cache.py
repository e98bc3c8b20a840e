"""A bounded copy of recently written chats, so that reading one costs no database round trip.

Every update starts with ``load_chat``; through aiosqlite that is a trip to the database thread
and back (tens of microseconds, more than the read itself). The cache holds the committed row
of the most recently written chats, ``capacity`` at most, so memory stays flat however many
conversations are stored.

Why it cannot go stale: it is written only by the database thread, inside the same call that
ran the statement, after COMMIT succeeded (and it is dropped wholesale after bulk deletes). The
event loop only reads it, one dict lookup, which is atomic. This assumes the process is the
database's only writer, which the bot is.
"""

from __future__ import annotations

from typing import Final

from bot.storage.records import ChatState


class _Missing:
    pass


MISSING: Final = _Missing()


class ChatCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        # chat id -> its row, or None when the database is known to have none; insertion order
        # is write order, so the first key is the one written longest ago.
        self._rows: dict[int, ChatState | None] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, chat_id: int) -> ChatState | _Missing | None:
        return self._rows.get(chat_id, MISSING)

    # --- database thread only ---

    def put(self, chat_id: int, state: ChatState | None) -> None:
        if self.capacity <= 0:
            return
        self._rows.pop(chat_id, None)
        self._rows[chat_id] = state
        if len(self._rows) > self.capacity:
            del self._rows[next(iter(self._rows))]

    def drop(self, chat_id: int) -> None:
        self._rows.pop(chat_id, None)

    def clear(self) -> None:
        self._rows.clear()
