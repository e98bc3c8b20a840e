"""Group commit on a real SQLite file: writes handed over in the same turn of the event loop, or
while a commit is in flight, share a transaction, and each keeps its own guarantees
(bot.storage.group_commit).

Concurrency here is the event loop's: ``asyncio.gather`` hands every write over in one turn of
the loop. A commit is in flight when the database thread is busy (a slow unit of work holds
it), since the commit then queues there. The counts come from the storage's own counters,
never from timing.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.storage import OutgoingMessage, Storage, StorageError
from tests.support.storage import commit, commit_returning, count_chats, is_processed, reading

POISONED = 666  # a chat whose outbox rows a trigger refuses (see poison)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(tmp_path / "triage.db")
    try:
        yield store
    finally:
        await store.close()


def message(chat_id: int, text: str) -> OutgoingMessage:
    return OutgoingMessage(chat_id, "sendMessage", {"chat_id": chat_id, "text": text})


def session(step: str) -> str:
    return json.dumps({"step": step})


def texts(storage: Storage, chat_id: int) -> list[str]:
    with reading(storage) as conn:
        rows = conn.execute(
            "SELECT params FROM outbox WHERE chat_id = ? ORDER BY id", (chat_id,)
        ).fetchall()
    return [json.loads(params)["text"] for (params,) in rows]


def stored_session(storage: Storage, chat_id: int) -> Any:
    with reading(storage) as conn:
        row = conn.execute(
            "SELECT session_json FROM chats WHERE chat_id = ?", (chat_id,)
        ).fetchone()
    return json.loads(row[0]) if row and row[0] else None


def poison(storage: Storage, how: str) -> None:
    """A trigger that refuses outbox rows for POISONED: ``ABORT`` undoes the statement,
    ``ROLLBACK`` the whole transaction it is in (as a full disk may)."""
    with reading(storage) as conn:
        conn.execute(
            f"CREATE TRIGGER poison BEFORE INSERT ON outbox WHEN NEW.chat_id = {POISONED} "
            f"BEGIN SELECT RAISE({how}, 'poisoned update'); END"
        )
        conn.commit()


def update(update_id: int, chat_id: int, step: str, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "chat_id": chat_id,
        "session_json": session(step),
        "outbox": [message(chat_id, text)],
    }


async def test_many_chats_at_once_share_fewer_transactions(storage: Storage) -> None:
    chats = range(1, 51)
    applied = await asyncio.gather(
        *(commit(storage, **update(100 + chat, chat, f"q{chat}", f"hi {chat}")) for chat in chats)
    )
    assert applied == [True] * 50
    assert storage.group.writes == 50
    assert storage.group.transactions == 1  # handed over in one turn of the loop: together
    for chat in chats:
        assert stored_session(storage, chat) == {"step": f"q{chat}"}
        assert texts(storage, chat) == [f"hi {chat}"]
        assert is_processed(storage, 100 + chat)
    # exactly once still holds for each of them: delivered again, nothing changes
    again = await asyncio.gather(
        *(commit(storage, **update(100 + chat, chat, "other", "twice")) for chat in chats)
    )
    assert again == [False] * 50
    assert all(texts(storage, chat) == [f"hi {chat}"] for chat in chats)


async def test_each_write_gets_its_own_rows_back(storage: Storage) -> None:
    first, second, third = await asyncio.gather(
        commit_returning(storage, **update(1, 1, "a", "one")),
        commit_returning(storage, **update(2, 2, "b", "two")),
        commit_returning(storage, **update(3, 3, "c", "three")),
    )
    assert first and second and third
    assert [(i.chat_id, i.params["text"]) for i in (*first, *second, *third)] == [
        (1, "one"), (2, "two"), (3, "three"),
    ]  # fmt: skip
    assert storage.group.transactions == 1


async def test_the_same_chat_twice_in_one_batch_applies_in_order(storage: Storage) -> None:
    before = storage.group.transactions
    await asyncio.gather(
        commit(storage, **update(1, 1, "elsewhere", "other chat")),
        commit(storage, **update(2, 7, "first", "1")),
        commit(storage, **update(3, 7, "second", "2")),
    )
    assert storage.group.transactions - before == 1  # all three in one transaction
    assert stored_session(storage, 7) == {"step": "second"}
    assert texts(storage, 7) == ["1", "2"]
    state = await storage.load_chat(7)  # the cache holds the last write too
    assert state is not None and json.loads(state.session_json or "") == {"step": "second"}


@pytest.mark.parametrize("how", ["ABORT", "ROLLBACK"])
async def test_a_failing_write_in_a_batch_fails_alone(storage: Storage, how: str) -> None:
    """One poisoned update (its statement refused, or its whole transaction undone) gets the
    error; the others of its batch still commit and are confirmed, each exactly once."""
    poison(storage, how)
    results = await asyncio.gather(
        commit(storage, **update(1, 1, "a", "first")),
        commit(storage, **update(2, 2, "b", "before it")),
        commit(storage, **update(3, POISONED, "x", "poisoned")),
        commit(storage, **update(4, 3, "c", "after it")),
        return_exceptions=True,
    )
    assert results[:2] == [True, True] and results[3] is True
    assert isinstance(results[2], StorageError) and "poisoned update" in str(results[2])
    for update_id, chat in ((1, 1), (2, 2), (4, 3)):
        assert is_processed(storage, update_id) and texts(storage, chat)
    # Nothing of the poisoned update was written: Telegram may deliver it again.
    assert not is_processed(storage, 3)
    assert stored_session(storage, POISONED) is None and texts(storage, POISONED) == []
    assert count_chats(storage) == 3
    # the batch was undone whole, then its writes went one per transaction: three committed
    assert storage.group.transactions == 3
    # The next batch is not held up by the last one's trouble.
    assert await commit(storage, **update(5, 2, "d", "later"))


async def test_closing_commits_every_write_handed_over(tmp_path: Path) -> None:
    store = await Storage.open(tmp_path / "triage.db")
    writes = [asyncio.ensure_future(commit(store, **update(n, n, "a", "x"))) for n in range(1, 21)]
    await asyncio.sleep(0)  # all handed over; most wait in the queue
    await store.close()
    assert all(await asyncio.gather(*writes))
    assert count_chats(tmp_path / "triage.db") == 20


def hold_database_thread(storage: Storage, seconds: float) -> asyncio.Future[None]:
    """A slow unit of work on the database thread: commits queue behind it meanwhile."""
    return asyncio.ensure_future(storage._run(lambda conn: time.sleep(seconds)))


async def test_writes_arriving_while_a_commit_is_in_flight_share_the_next(
    storage: Storage,
) -> None:
    busy = hold_database_thread(storage, 0.2)
    await asyncio.sleep(0)  # the slow unit is on the thread
    first = asyncio.gather(*(commit(storage, **update(n, n, "a", "x")) for n in (1, 2, 3)))
    await asyncio.sleep(0.05)  # their transaction waits on the thread, in flight
    assert storage.group.transactions == 0
    later = asyncio.gather(*(commit(storage, **update(n, n, "a", "x")) for n in (4, 5, 6, 7)))
    assert await first == [True] * 3 and await later == [True] * 4
    await busy
    assert storage.group.transactions == 2  # the three, then the four that queued meanwhile
    assert all(is_processed(storage, n) for n in range(1, 8))


async def test_a_commit_runs_on_the_event_loop_only_while_the_database_thread_is_idle(
    storage: Storage,
) -> None:
    """Short units skip the trip to the thread when it is free, and never run beside it."""
    loop_thread = threading.get_ident()
    here = await storage._run_short(lambda conn: threading.get_ident())
    assert here == loop_thread
    busy = hold_database_thread(storage, 0.1)
    await asyncio.sleep(0)
    queued = await storage._run_short(lambda conn: threading.get_ident())
    assert queued != loop_thread  # it waited its turn on the thread
    await busy


async def test_a_write_that_cannot_be_stored_fails_alone(storage: Storage) -> None:
    """Not only what SQLite refuses: a reply that cannot be written at all (here one whose
    parameters are not JSON) undoes its batch, and the batch's other writes still commit."""
    unwritable = OutgoingMessage(2, "sendMessage", {"chat_id": 2, "text": object()})
    results = await asyncio.gather(
        commit(storage, **update(1, 1, "a", "first")),
        commit(storage, update_id=2, chat_id=2, session_json=session("b"), outbox=[unwritable]),
        commit(storage, **update(3, 3, "c", "third")),
        return_exceptions=True,
    )
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], TypeError)
    assert is_processed(storage, 1) and is_processed(storage, 3)
    assert not is_processed(storage, 2) and stored_session(storage, 2) is None
    assert storage.group.transactions == 2  # the batch undone, then one by one


async def test_a_cancelled_caller_does_not_strand_the_writes_sharing_its_transaction(
    storage: Storage,
) -> None:
    """The first caller runs the batch for everyone in it; if it is cancelled mid-commit (a
    webhook request dropped), the others still get their outcome, and nothing is lost."""
    busy = hold_database_thread(storage, 0.2)
    await asyncio.sleep(0)
    first, *others = [
        asyncio.ensure_future(commit(storage, **update(n, n, "a", "x"))) for n in (1, 2, 3)
    ]
    await asyncio.sleep(0.05)  # one batch of three, waiting on the busy thread
    first.cancel()
    assert await asyncio.wait_for(asyncio.gather(*others), timeout=5) == [True, True]
    assert first.cancelled()
    await busy
    assert storage.group.transactions == 1
    assert all(is_processed(storage, n) for n in (1, 2, 3))  # the first's write committed too
