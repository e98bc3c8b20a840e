"""The storage interface the bot codes against: :class:`Store`.

The transport, the outbox, the retention job and the practice features use only these methods,
so a second backend (PostgreSQL, say) is one new module that implements them;
:class:`bot.storage.Storage` (SQLite) is the first. mypy checks that it fits: the runtime holds
its storage as a ``Store``.

**Guarantees every backend gives**

* *Exactly once.* :meth:`Store.commit` records the update's id in the same transaction as
  everything the update changes, so a redelivered update (polling after a crash, a webhook
  retry) changes nothing the second time. Nothing is confirmed to Telegram before ``commit``
  returns.
* *The outbox with the state.* The replies an update causes are rows written in that same
  transaction and sent only after it committed; what was committed but not sent when the
  process died is still there at the next start (:meth:`Store.pending_outbox`).
* *Per-chat order.* Writes are applied in the order ``commit`` was called. The transport
  serialises each chat itself (one update at a time per chat), so a chat's updates commit in
  its order; a backend that batches commits keeps the order within the batch, so the same
  chat twice in one batch ends at its second write.
* *Failures say what they are.* Every method raises :class:`~bot.storage.StorageError` (one
  sentence fit to show as it is) when the database fails, and its subclass
  :class:`~bot.storage.StorageUnavailable` when the database cannot be written *now* (disk
  full, I/O error, locked, read-only): then nothing was written, the update is not to blame,
  and the same write may work later. A failed ``commit`` wrote nothing of that update.

Times are epoch seconds; ``now`` defaults to the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from bot.storage.outage import Outage
from bot.storage.records import (
    ChatState,
    Followup,
    Lead,
    OutboxItem,
    OutgoingMessage,
    Stats,
    UpdateWrite,
)


class Store(Protocol):
    """Sessions, exactly-once updates, the outbox, leads, follow-ups and anonymous events."""

    # Whether the store's writes fail now, and why (``outage.reason``): a full disk still
    # lets a probe take the write lock, so /healthz asks the bot's own writes too.
    outage: Outage

    async def close(self) -> None:
        """Finish: every commit is durable before it returns; a second call does nothing."""

    async def writable(self) -> bool:
        """Can the database take writes again? One write given back; False while it cannot
        (the outage is reported by the store, once a minute, not by each caller)."""

    def file_problem(self) -> str | None:
        """One sentence when the database's file was deleted or replaced under the running
        bot (it would write on to the file it opened, lost at the next start); None when all
        is well, and always for a database on a server. Cheap: no query."""

    # --- updates: the hot path -------------------------------------------------------------

    async def load_chat(self, chat_id: int) -> ChatState | None:
        """The chat's committed state, None for a chat never seen (or forgotten)."""

    async def commit(self, write: UpdateWrite) -> list[OutboxItem] | None:
        """Apply one update in ONE transaction, exactly once by ``write.update_id``.

        Records the update id (None: not from Telegram, no deduplication), then, in order:
        with ``change.forget`` deletes everything about the chat; writes the chat (any
        update clears ``blocked``); closes the answered check-in; queues ``change.outbox``;
        records the anonymous ``events``; stores a consented ``lead``; schedules a
        follow-up. ``write.sent`` rows are removed in the same transaction whether or not
        the update was applied before. Returns the queued rows with their ids, ready to
        send, or None (nothing of the update written) if its id was seen before. No need to
        ask first whether it was: this is the check.

        When it returns, the write is durable: the update may be confirmed to Telegram and
        its replies sent. When it raises, nothing of this update was written.
        """

    async def mark_processed(self, update_ids: Iterable[int], *, now: float | None = None) -> int:
        """Record updates as applied without applying them (given up on, or dropped on
        purpose), so that the offset may pass them; returns how many were new."""

    async def prune_processed(self, *, keep_seconds: float, now: float | None = None) -> int:
        """Forget update ids recorded more than ``keep_seconds`` ago; returns how many. Keep
        them longer than Telegram may redeliver an update (24 hours)."""

    async def prune_events(self, *, keep_seconds: float, now: float | None = None) -> int:
        """Forget anonymous events older than ``keep_seconds``; returns how many. Keep them
        at least as long as statistics look back (/stats: 90 days)."""

    async def mark_blocked(self, chat_id: int, blocked: bool = True) -> None:
        """The person blocked the bot (403): mark the chat and drop what is queued for it."""

    # --- the outbox ------------------------------------------------------------------------

    async def pending_outbox(
        self, chat_id: int | None = None, limit: int = 100
    ) -> list[OutboxItem]:
        """Unsent rows (of one chat, or of all), oldest first; rows given up on are not
        pending."""

    async def mark_sent(self, sent: Iterable[tuple[int, int | None]]) -> None:
        """Delivered ``(item_id, message_id)``: removed, in one transaction; a "prompt"
        row's ``message_id`` becomes its chat's prompt. An id already removed is ignored."""

    async def mark_failed(self, item_id: int, error: str, *, permanent: bool) -> None:
        """Count a failed try; ``permanent`` gives up on it (kept, marked failed)."""

    # --- privacy ---------------------------------------------------------------------------

    async def export_chat(self, chat_id: int) -> dict[str, Any]:
        """Everything held about one person (for /mydata), JSON-able."""

    async def purge_older_than(self, seconds: float, now: float | None = None) -> dict[str, int]:
        """Retention: delete sessions, leads, follow-ups and messages older than ``seconds``
        (a session counts from when it last changed); returns counts by table. Anonymous
        events are :meth:`prune_events`'. No copy of what was deleted may stay readable in the
        store's files."""

    # --- leads and follow-ups --------------------------------------------------------------

    async def recent_leads(self, limit: int = 10) -> list[Lead]:
        """Newest first."""

    async def all_leads(self) -> list[Lead]:
        """Oldest first (for the CSV export)."""

    async def due_followups(self, now: float | None = None, limit: int = 100) -> list[Followup]:
        """Check-ins due by ``now``, not sent nor cancelled, oldest first."""

    async def mark_followup_sent(
        self,
        followup_id: int,
        *,
        outbox: Sequence[OutgoingMessage] = (),
        now: float | None = None,
    ) -> bool:
        """Claim a follow-up and queue its message in one transaction; False if it was sent,
        cancelled or forgotten already (then nothing is queued)."""

    # --- statistics and small facts --------------------------------------------------------

    async def stats(
        self,
        since: float,
        until: float | None = None,
        *,
        idle_for: float | None = None,
        now: float | None = None,
    ) -> Stats:
        """Counts from the anonymous events (kept to the hour); with ``idle_for`` seconds,
        also the conversations resting at each question untouched that long."""

    async def get_meta(self, key: str) -> str | None:
        """A small fact stored by :meth:`set_meta`, None if absent."""

    async def set_meta(self, key: str, value: str | None) -> None:
        """Store a small fact (e.g. when retention last ran); None deletes it."""
