"""What the running bot counts, for ``/metrics`` (Prometheus text format).

One :class:`Metrics` per application, each with its own ``CollectorRegistry`` (never the
process-wide default one), so tests and benchmarks can run several bots in one process and
read each one's numbers alone.

Nothing here may identify a person: labels are outcome ids and safety-net concept ids from the
flow file, Bot API method names and error kinds, never a chat id, a name or an answer. Counts
are taken where the transport takes a turn (after its commit, so a redelivered update is not
counted twice), in :class:`bot.telegram.runtime.Runtime.apply` and in the HTTP transport
(:mod:`bot.telegram.counted_request`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from bot.storage import EventKind

if TYPE_CHECKING:
    from bot.telegram.conversation import Change

PREFIX = "triage_"
# An update normally takes a few milliseconds; seconds mean Telegram or the disk is slow.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The bot's counters, gauges and latency histogram, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            f"{PREFIX}updates", "Updates handled, by result (applied, or failed and left for "
            "Telegram to deliver again).", ["result"], registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            f"{PREFIX}update_duration_seconds",
            "Time to handle one update: lock, decide, commit, send the replies.",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.outcomes = Counter(
            f"{PREFIX}outcomes", "Conversations that reached an outcome, by outcome id.",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.safety_net = Counter(
            f"{PREFIX}safety_net_triggers", "Typed messages the safety net acted on, by concept "
            "and verdict (emergency: sent to urgent care; confirm: asked yes or no).",
            ["concept", "verdict"], registry=r,
        )  # fmt: skip
        self.api_failures = Counter(
            f"{PREFIX}bot_api_failures", "Failed Bot API calls, by kind of failure and method.",
            ["kind", "method"], registry=r,
        )  # fmt: skip
        self.outbox_pending = Gauge(
            f"{PREFIX}outbox_pending", "Replies committed but not yet delivered to Telegram.",
            registry=r,
        )  # fmt: skip
        self.outbox_oldest = Gauge(
            f"{PREFIX}outbox_oldest_age_seconds",
            "Age of the oldest undelivered reply (0 when none waits).", registry=r,
        )  # fmt: skip
        self.last_backup = Gauge(
            f"{PREFIX}last_backup_timestamp_seconds",
            "When the newest backup in BACKUP_DIR was written (unix time; 0 if none).",
            registry=r,
        )  # fmt: skip
        self.last_contact = Gauge(
            f"{PREFIX}last_telegram_contact_timestamp_seconds",
            "When Telegram last answered a poll or delivered an update that was applied.",
            registry=r,
        )  # fmt: skip
        self._contact_monotonic: float | None = None
        self._commits = _CommitCollector()
        r.register(self._commits)

    def watch_commits(self, counts: Callable[[], tuple[int, int]]) -> None:
        """Expose the storage's group commit: ``counts()`` gives the transactions of updates
        committed so far and the writes in them (their ratio is the mean batch)."""
        self._commits.counts = counts

    # -- recorded by the transport ------------------------------------------------------------

    def handled(self, applied: bool, seconds: float) -> None:
        """One update went through ``Runtime.apply``."""
        self.updates.labels("applied" if applied else "failed").inc()
        self.latency.observe(seconds)
        if applied:
            self.contact()

    def committed(self, change: Change) -> None:
        """A turn was committed: count its outcome and what the safety net did."""
        for event in change.events:
            if event.kind == EventKind.OUTCOME and event.outcome:
                self.outcomes.labels(event.outcome).inc()
        screening = change.screening
        if screening is not None and screening.concept is not None:
            self.safety_net.labels(screening.concept, str(screening.verdict)).inc()

    def api_failed(self, kind: str, method: str) -> None:
        self.api_failures.labels(kind, method).inc()

    def contact(self) -> None:
        """Telegram answered a poll, or an update from it was applied: the link works."""
        self._contact_monotonic = time.monotonic()
        self.last_contact.set(time.time())

    def seconds_since_contact(self) -> float | None:
        if self._contact_monotonic is None:
            return None
        return time.monotonic() - self._contact_monotonic

    # -- read at scrape time -------------------------------------------------------------------

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _CommitCollector(Collector):
    """The storage's own counts, read when /metrics is asked for."""

    def __init__(self) -> None:
        self.counts: Callable[[], tuple[int, int]] = lambda: (0, 0)  # until the storage opens

    def collect(self) -> Iterator[CounterMetricFamily]:
        transactions, writes = self.counts()
        yield CounterMetricFamily(
            f"{PREFIX}commit_transactions",
            "Transactions that committed updates: fewer than the writes when updates of "
            "several chats arrive together (group commit).",
            value=transactions,
        )
        yield CounterMetricFamily(
            f"{PREFIX}commit_writes",
            "Updates' writes committed in those transactions.",
            value=writes,
        )
