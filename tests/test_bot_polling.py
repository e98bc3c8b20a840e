"""The polling loop's offset (confirm only what was applied) and the per-chat locks."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from telegram import Chat, Message, Update

from bot.storage import StorageUnavailable
from bot.telegram.locks import ChatLocks
from bot.telegram.polling import MAX_TRIES, Poller
from bot.telegram.runtime import Applied


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, dt.datetime.now(dt.UTC), chat, text=f"u{update_id}")
    return Update(update_id, message=message)


class Applier:
    """Stands in for the Runtime: records what was applied, fails the ids it is told to, and
    finds the database unwritable for the ids in ``unavailable`` (or for giving up, with
    ``cannot_give_up``)."""

    def __init__(self, failing: set[int] | None = None) -> None:
        self.failing = failing or set()
        self.unavailable: set[int] = set()
        self.cannot_give_up = False
        self.given_up: list[int] = []
        self.applied: list[int] = []
        self.attempts: list[int] = []
        self.gates: dict[int, asyncio.Event] = {}  # update id -> wait for this before applying
        self.begun: dict[int, asyncio.Event] = {}

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

    async def give_up(self, update_ids: list[int]) -> None:
        if self.cannot_give_up:
            raise StorageUnavailable("the database cannot be written now: disk full")
        self.given_up.extend(update_ids)


def poller(applier: Applier) -> Poller:
    return Poller(app=None, runtime=applier)  # type: ignore[arg-type]


async def test_a_batch_is_applied_in_order_per_chat_then_confirmed() -> None:
    applier = Applier()
    polling = poller(applier)
    batch = [update(10, 1), update(11, 2), update(12, 1), update(13, 2), update(14, 1)]
    assert await polling.process(batch) is Applied.DONE
    assert [u for u in applier.applied if u in (10, 12, 14)] == [10, 12, 14]
    assert [u for u in applier.applied if u in (11, 13)] == [11, 13]
    assert polling.offset == 15


async def test_chats_are_applied_concurrently() -> None:
    applier = Applier()
    # Chat 1's update waits until chat 2's has begun: one at a time would never finish.
    applier.gates[20] = applier.begun.setdefault(21, asyncio.Event())
    await asyncio.wait_for(poller(applier).process([update(20, 1), update(21, 2)]), timeout=10)
    assert sorted(applier.applied) == [20, 21]


async def test_a_failed_update_is_not_confirmed_nor_what_follows_in_its_chat() -> None:
    applier = Applier(failing={31})
    polling = poller(applier)
    batch = [update(30, 1), update(31, 1), update(32, 2), update(33, 1), update(34, 2)]
    assert await polling.process(batch) is Applied.FAILED
    assert 33 not in applier.attempts  # chat 1 stops at its failure, keeping its order
    assert sorted(applier.applied) == [30, 32, 34]  # other chats carry on
    assert polling.offset == 31  # Telegram hands out 31 and later again


async def test_an_update_that_keeps_failing_is_given_up_after_some_tries() -> None:
    applier = Applier(failing={40})
    polling = poller(applier)
    for _ in range(MAX_TRIES - 1):
        await polling.process([update(40, 1), update(41, 1)])
        assert polling.offset == 40
    await polling.process([update(40, 1), update(41, 1)])
    assert polling.offset == 42
    assert applier.applied == [41]
    assert applier.given_up == [40]  # recorded as processed before the offset passes it
    assert not polling.tries  # nothing remembered about confirmed updates


async def test_an_update_the_database_cannot_take_is_never_given_up_nor_confirmed() -> None:
    applier = Applier()
    applier.unavailable = {50}
    polling = poller(applier)
    for _ in range(MAX_TRIES * 3):
        assert await polling.process([update(50, 1), update(51, 2)]) is Applied.UNAVAILABLE
        assert polling.offset == 50
    assert not polling.tries and not applier.given_up  # the database's trouble, not its own
    applier.unavailable.clear()
    assert await polling.process([update(50, 1), update(51, 2)]) is Applied.DONE
    assert polling.offset == 52


async def test_giving_up_waits_until_the_database_can_record_it() -> None:
    applier = Applier(failing={60})
    applier.cannot_give_up = True
    polling = poller(applier)
    for _ in range(MAX_TRIES):
        await polling.process([update(60, 1)])
    assert await polling.process([update(60, 1)]) is Applied.UNAVAILABLE
    assert polling.offset == 60  # not recorded, so not confirmed
    applier.cannot_give_up = False
    assert await polling.process([update(60, 1)]) is Applied.DONE
    assert polling.offset == 61 and applier.given_up == [60]


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
