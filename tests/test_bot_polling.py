"""The polling loop: each chat in order, chats at once, a bounded backlog per chat, and an
offset that never passes an update not in the database; and the per-chat locks."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from telegram import Chat, Message, Update

from bot.storage import StorageUnavailable
from bot.telegram.locks import ChatLocks
from bot.telegram.polling import BATCH, Poller
from bot.telegram.runtime import MAX_TRIES, Applied


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, dt.datetime.now(dt.UTC), chat, text=f"u{update_id}")
    return Update(update_id, message=message)


class Applier:
    """Stands in for the Runtime (and its storage): records what was applied, given up and
    dropped; fails the ids in ``failing``; finds the database unwritable for the ids in
    ``unavailable`` (and for recording, with ``cannot_record``)."""

    def __init__(self, failing: set[int] | None = None) -> None:
        self.failing = failing or set()
        self.unavailable: set[int] = set()
        self.cannot_record = False
        self.applied: list[int] = []
        self.attempts: list[int] = []
        self.given_up: list[int] = []
        self.dropped: list[tuple[int, bool]] = []  # (update id, with the note)
        self.gates: dict[int, asyncio.Event] = {}  # update id -> wait for this before applying
        self.begun: dict[int, asyncio.Event] = {}
        self.idles: list[list[int]] = []  # what was applied each time nothing was left
        self.storage = self

    async def apply(self, app: Any, update: Update) -> Applied:
        uid = update.update_id
        self.attempts.append(uid)
        self.begun.setdefault(uid, asyncio.Event()).set()
        if uid in self.gates:
            await self.gates[uid].wait()
        await asyncio.sleep(0)  # let other chats run in between
        if uid in self.unavailable:
            return Applied.UNAVAILABLE
        if uid in self.failing:
            return Applied.FAILED
        self.applied.append(uid)
        return Applied.DONE

    def _record(self) -> None:
        if self.cannot_record:
            raise StorageUnavailable("the database cannot be written now: disk full")

    async def give_up(self, update_ids: list[int]) -> None:
        self._record()
        self.given_up.extend(update_ids)

    async def drop(self, updates: Sequence[Update], *, note: bool = False) -> None:
        self._record()
        self.dropped.extend((u.update_id, note) for u in updates)

    async def writable(self) -> bool:  # the storage's
        return not self.cannot_record and not self.unavailable

    def idle(self) -> None:
        self.idles.append(list(self.applied))


def poller(applier: Applier, **options: Any) -> Poller:
    return Poller(app=None, runtime=applier, retry_start=0.001, **options)  # type: ignore[arg-type]


async def until(condition: Callable[[], object], what: str) -> None:
    """Bounded wait for something the workers do."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_batch_is_applied_in_order_per_chat_then_confirmed() -> None:
    applier = Applier()
    polling = poller(applier)
    polling.take([update(10, 1), update(11, 2), update(12, 1), update(13, 2), update(14, 1)])
    await polling.idle()
    assert [u for u in applier.applied if u in (10, 12, 14)] == [10, 12, 14]
    assert [u for u in applier.applied if u in (11, 13)] == [11, 13]
    assert polling.offset == 15 and not polling.busy


async def test_the_runtime_is_told_when_nothing_is_left_to_apply() -> None:
    """Then the outbox records the replies sent at once (a kill -9 resends nothing): only
    when the last update fetched is done, never between the updates of a backlog."""
    applier = Applier()
    polling = poller(applier)
    polling.take([update(70, 1), update(71, 1), update(72, 2), update(73, 1)])
    await polling.idle()
    assert len(applier.idles) == 1 and sorted(applier.idles[0]) == [70, 71, 72, 73]


async def test_a_burst_longer_than_a_batch_does_not_refill_the_backlog() -> None:
    """A full batch may hide more of the burst behind it: once the backlog overflowed, the
    chat's later updates are dropped too, until it is done and a fetch showed all there was;
    other chats are served as ever, and a later message starts afresh."""
    applier = Applier()
    polling = poller(applier, backlog=3)
    polling.take([update(1000 + n, 1) for n in range(BATCH)])  # full: more may be waiting
    await polling.idle()
    polling.take([*(update(1100 + n, 1) for n in range(10)), update(1110, 2)])  # the rest
    await polling.idle()
    assert applier.applied == [1000, 1001, 1002, 1110]
    assert len(applier.dropped) == BATCH - 3 + 10
    assert [uid for uid, note in applier.dropped if note] == [1003]  # one note per burst
    polling.take([update(1200, 1)])  # after a fetch that held all: a new message, answered
    await polling.idle()
    assert applier.applied[-1] == 1200 and polling.offset == 1201


async def test_chats_are_applied_concurrently() -> None:
    applier = Applier()
    # Chat 1's update waits until chat 2's has begun: one at a time would never finish.
    applier.gates[20] = applier.begun.setdefault(21, asyncio.Event())
    polling = poller(applier)
    polling.take([update(20, 1), update(21, 2)])
    await asyncio.wait_for(polling.idle(), timeout=10)
    assert sorted(applier.applied) == [20, 21]


async def test_a_failed_update_is_tried_again_in_place_holding_its_chat_only() -> None:
    applier = Applier(failing={31})
    polling = poller(applier)
    polling.take([update(30, 1), update(31, 1), update(32, 2), update(33, 1), update(34, 2)])
    await until(lambda: applier.attempts.count(31) >= 2, "a second try")
    assert 33 not in applier.attempts  # chat 1 waits at its failure, keeping its order
    assert sorted(applier.applied) == [30, 32, 34]  # other chats carry on
    assert polling.offset == 31  # nothing from 31 on is confirmed
    applier.failing.clear()
    await polling.idle()
    assert [u for u in applier.applied if u in (30, 31, 33)] == [30, 31, 33]
    assert polling.offset == 35 and not polling.tries


async def test_an_update_that_keeps_failing_is_recorded_then_given_up() -> None:
    applier = Applier(failing={40})
    polling = poller(applier)
    polling.take([update(40, 1), update(41, 1)])
    await polling.idle()
    assert applier.attempts.count(40) == MAX_TRIES
    assert applier.given_up == [40]  # recorded as processed before the offset passes it
    assert applier.applied == [41]
    assert polling.offset == 42 and not polling.tries


async def test_an_update_the_database_cannot_take_is_never_given_up_nor_confirmed() -> None:
    applier = Applier()
    applier.unavailable = {50}
    polling = poller(applier)
    polling.take([update(50, 1), update(51, 2)])
    await until(lambda: 51 in applier.applied, "the other chat")
    assert polling.offset == 50 and not polling.tries and not applier.given_up
    stop = asyncio.Event()
    waiting = asyncio.create_task(polling._wait_for_storage(stop))  # as run() does
    await asyncio.sleep(0.1)
    assert not waiting.done()  # the database still cannot be written: no fetching
    applier.unavailable.clear()
    await asyncio.wait_for(waiting, timeout=10)
    await polling.idle()
    assert applier.attempts.count(50) == 2 and polling.offset == 52


async def test_giving_up_waits_until_the_database_can_record_it() -> None:
    applier = Applier(failing={60})
    applier.cannot_record = True
    polling = poller(applier)
    polling.take([update(60, 1)])
    await until(lambda: applier.attempts.count(60) >= MAX_TRIES, "the tries")
    await asyncio.sleep(0.05)
    assert polling.offset == 60 and not applier.given_up  # not recorded, so not confirmed
    applier.cannot_record = False
    await asyncio.wait_for(polling._wait_for_storage(asyncio.Event()), timeout=10)
    await polling.idle()
    assert polling.offset == 61 and applier.given_up == [60]


async def test_a_burst_over_the_backlog_is_dropped_with_one_note_and_others_go_first() -> None:
    applier = Applier()
    applier.gates[100] = asyncio.Event()
    polling = poller(applier, backlog=3)
    burst = [update(n, 1) for n in range(100, 110)]
    polling.take([*burst, update(110, 2)])
    await until(lambda: 110 in applier.applied, "the other chat")  # not behind the burst
    assert polling.offset == 100
    polling.take([*burst, update(110, 2)])  # handed out again: nothing is taken twice
    applier.gates[100].set()
    await polling.idle()
    assert sorted(applier.attempts) == [100, 101, 102, 110]
    assert [u for u in applier.applied if u < 110] == [100, 101, 102]
    assert applier.dropped == [(103, True), *((n, False) for n in range(104, 110))]
    assert polling.offset == 111


async def test_a_dropped_burst_is_not_confirmed_until_it_is_recorded() -> None:
    applier = Applier()
    applier.cannot_record = True
    polling = poller(applier, backlog=1)
    polling.take([update(n, 1) for n in range(120, 124)])  # 120 kept, the rest dropped
    await until(lambda: 120 in applier.applied, "the first update")  # answered first
    await asyncio.sleep(0.05)
    assert polling.offset == 121 and not applier.dropped  # not recorded: not confirmed
    applier.cannot_record = False
    await asyncio.wait_for(polling._wait_for_storage(asyncio.Event()), timeout=10)
    await polling.idle()
    assert [u for u, _ in applier.dropped] == [121, 122, 123] and applier.applied == [120]
    assert polling.offset == 124


async def test_finishing_leaves_what_is_not_done_unconfirmed() -> None:
    applier = Applier()
    applier.gates[200] = asyncio.Event()
    polling = poller(applier)
    polling.take([update(200, 1), update(201, 1)])
    await until(lambda: 200 in applier.attempts, "the first update")
    finishing = asyncio.create_task(polling.finish())
    applier.gates[200].set()
    await asyncio.wait_for(finishing, timeout=10)
    assert applier.applied == [200] and polling.offset == 201  # 201 comes again next start


async def test_updates_already_done_are_not_applied_again() -> None:
    applier = Applier()
    polling = poller(applier)
    polling.take([update(300, 1), update(301, 2)])
    await polling.idle()
    polling.take([update(300, 1), update(301, 2), update(302, 1)])  # a late duplicate, and news
    await polling.idle()
    assert sorted(applier.attempts) == [300, 301, 302]
    assert polling.offset == 303


async def test_chat_locks_serialise_one_chat_and_clean_up() -> None:
    locks = ChatLocks()
    order: list[str] = []

    async def hold(chat: int, name: str, release: asyncio.Event | None = None) -> None:
        async with locks(chat):
            order.append(f"{name} in")
            if release is not None:
                await release.wait()
            order.append(f"{name} out")

    release = asyncio.Event()
    first = asyncio.create_task(hold(1, "a", release))
    await asyncio.sleep(0)
    second = asyncio.create_task(hold(1, "b"))
    other = asyncio.create_task(hold(2, "c"))
    await other  # another chat is not held up by chat 1
    assert order == ["a in", "c in", "c out"]
    assert len(locks) == 1
    release.set()
    await asyncio.gather(first, second)
    assert order[3:] == ["a out", "b in", "b out"]
    assert len(locks) == 0  # no lock kept for chats that are quiet


async def test_a_cancelled_waiter_leaves_no_lock_behind() -> None:
    locks = ChatLocks()
    release = asyncio.Event()

    async def hold() -> None:
        async with locks(7):
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    release.set()
    await holder
    assert len(locks) == 0
