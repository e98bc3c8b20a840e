"""The storage contract against real databases: SQLite files in tmp_path and a PostgreSQL
server (tests/conftest.py); SQLite's own matters (files, pragmas, checkpoints) apart."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.storage import (
    MIGRATIONS,
    NO_SOURCE,
    PROMPT,
    SCHEMA_VERSION,
    ChatState,
    Event,
    NewLead,
    OutgoingMessage,
    Storage,
    StorageError,
    TypedAnswer,
)
from bot.storage.postgres import PostgresStorage
from tests.support import postgres
from tests.support.storage import (
    add_lead,
    commit,
    commit_returning,
    count_chats,
    is_processed,
    schedule_followup,
)

NOW = 1_800_000_000.0  # a fixed clock, on an hour boundary
DAY = 86_400.0


def session(step: str, **answers: Any) -> str:
    return json.dumps({"step": step, "answers": answers})


def message(chat_id: int, text: str, *, tag: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(chat_id, "sendMessage", {"chat_id": chat_id, "text": text}, tag=tag)


def texts(items: list[Any]) -> list[str]:
    return [item.params["text"] for item in items]


def lead(chat_id: int, **overrides: Any) -> NewLead:
    fields: dict[str, Any] = {
        "chat_id": chat_id,
        "name": "Ana",
        "username": "ana_b",
        "summary": {"Where is the pain worst?": "Deep in one buttock"},
        "outcome": "massage_ok",
        "reasons": ("sitting_worse",),
        "source": "website",
    }
    fields.update(overrides)
    return NewLead(**fields)


# The contract holds for every backend: SQLite without and with its in-memory chat cache (the
# behaviour must not depend on it), and PostgreSQL (a real server: see tests/conftest.py).
@pytest.fixture(params=["sqlite-no-cache", "sqlite-cache", "postgres"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "postgres":
        server = request.getfixturevalue("pg_server")  # skips without PostgreSQL
        async with postgres.fresh_database(server) as url:
            store: Any = await PostgresStorage.open(url)
            yield store
            await store.close()
    else:
        cache_size = 0 if request.param == "sqlite-no-cache" else 4096
        store = await Storage.open(tmp_path / "triage.db", cache_size=cache_size)
        yield store
        await store.close()


Opener = Callable[[], Awaitable[Any]]


@pytest.fixture(params=["sqlite", "postgres"])
async def opener(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens the same database again each time it is called: for what must survive a restart."""
    if request.param == "sqlite":

        async def open_sqlite() -> Any:
            return await Storage.open(tmp_path / "triage.db")

        yield open_sqlite
        return
    server = request.getfixturevalue("pg_server")  # skips without PostgreSQL
    async with postgres.fresh_database(server) as url:

        async def open_postgres() -> Any:
            return await PostgresStorage.open(url)

        yield open_postgres


def raw(path: Path) -> sqlite3.Connection:
    """A second, plain connection, to look at what is really in the file."""
    return sqlite3.connect(path, isolation_level=None)


# --- opening and migrations ---------------------------------------------------------------------


async def test_first_open_creates_folders_file_and_current_schema_in_wal(tmp_path: Path) -> None:
    path = tmp_path / "data" / "deep" / "triage.db"
    async with await Storage.open(path) as store:
        assert count_chats(store) == 0
        pragmas = await store._run(
            lambda conn: [
                conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("synchronous", "busy_timeout", "foreign_keys")
            ]
        )
        assert pragmas[0] == 1  # NORMAL
        assert pragmas[1] > 0
        assert pragmas[2] == 1
    assert path.is_file()
    with raw(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    expected = {"chats", "processed_updates", "outbox", "events", "leads", "followups", "meta"}
    assert expected <= tables


async def test_an_old_database_is_upgraded_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "triage.db"
    with raw(path) as conn:  # what the first release wrote
        conn.executescript(MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO chats (chat_id, session_json, updated_at) VALUES (5, ?, ?)",
            (session("age"), NOW),
        )
        conn.execute("INSERT INTO processed_updates (update_id, at) VALUES (41, ?)", (NOW,))

    async with await Storage.open(path) as store:
        state = await store.load_chat(5)
        assert state is not None and state.session_json == session("age")
        assert not await commit(store, update_id=41, chat_id=5, session_json=None)
        assert await add_lead(store, lead(5), now=NOW) > 0  # a table from migration 2
        assert [x.chat_id for x in await store.all_leads()] == [5]

    with raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_a_failed_migration_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "triage.db"
    with raw(path) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
        conn.execute("CREATE TABLE leads (x)")  # in the way of migration 2
    with pytest.raises(StorageError, match=r"cannot upgrade .* to schema version 2"):
        await Storage.open(path)
    with raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "followups" not in tables  # created earlier in the same script, rolled back


async def test_a_database_from_a_newer_bot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "triage.db"
    with raw(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}")
    with pytest.raises(StorageError, match=f"schema version {SCHEMA_VERSION + 7}"):
        await Storage.open(path)


def assert_one_sentence(error: pytest.ExceptionInfo[StorageError], path: Path) -> None:
    text = str(error.value)
    assert str(path) in text
    assert "\n" not in text and "Traceback" not in text


async def test_a_path_under_a_file_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    path = blocker / "sub" / "triage.db"
    with pytest.raises(StorageError, match="cannot create the database") as error:
        await Storage.open(path)
    assert_one_sentence(error, path)
    assert f"{blocker} is a file, not a folder" in str(error.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
async def test_a_read_only_folder_gives_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        path = folder / "triage.db"
        with pytest.raises(StorageError, match="cannot create the database") as error:
            await Storage.open(path)
        assert_one_sentence(error, path)
    finally:
        folder.chmod(0o700)


async def test_a_folder_at_the_path_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="it is a folder") as error:
        await Storage.open(tmp_path)
    assert_one_sentence(error, tmp_path)


async def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "triage.db"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(StorageError, match="not a SQLite database") as error:
        await Storage.open(path)
    assert_one_sentence(error, path)
    assert path.read_bytes().startswith(b"these are my notes")  # left as it was


async def test_a_closed_storage_says_so(tmp_path: Path) -> None:
    store = await Storage.open(tmp_path / "triage.db")
    await store.close()
    await store.close()  # twice is fine
    with pytest.raises(StorageError, match="closed"):
        await commit(store, update_id=1, chat_id=1)


# --- updates: exactly once ----------------------------------------------------------------------


async def test_a_redelivered_update_writes_nothing(storage: Storage) -> None:
    first = await commit(
        storage,
        update_id=100,
        chat_id=7,
        session_json=session("radiation", location="buttock"),
        outbox=[message(7, "Does it spread?", tag=PROMPT)],
        events=[Event.reached("radiation")],
        lead=lead(7),
        followup_due_at=NOW + DAY,
        now=NOW,
    )
    again = await commit(
        storage,
        update_id=100,
        chat_id=7,
        session_json=session("severity", location="other"),
        outbox=[message(7, "a second reply")],
        events=[Event.reached("severity")],
        lead=lead(7),
        followup_due_at=NOW + 2 * DAY,
        now=NOW + 1,
    )
    assert (first, again) == (True, False)
    state = await storage.load_chat(7)
    assert state is not None and state.session_json == session("radiation", location="buttock")
    assert texts(await storage.pending_outbox()) == ["Does it spread?"]
    assert (await storage.stats(0)).steps == {"radiation": 1}
    assert len(await storage.all_leads()) == 1
    assert [f.due_at for f in await storage.due_followups(NOW + 3 * DAY)] == [NOW + DAY]
    assert is_processed(storage, 100)
    assert not is_processed(storage, 101)


async def test_exactly_once_holds_across_a_restart(opener: Opener) -> None:
    async with await opener() as store:
        assert await commit(store, update_id=9, chat_id=1, outbox=[message(1, "hi")])
    async with await opener() as store:
        assert not await commit(store, update_id=9, chat_id=1, outbox=[message(1, "hi")])
        assert texts(await store.pending_outbox()) == ["hi"]


async def test_updates_without_an_id_are_never_deduplicated(storage: Storage) -> None:
    assert await commit(storage, update_id=None, chat_id=1, outbox=[message(1, "a")])
    assert await commit(storage, update_id=None, chat_id=1, outbox=[message(1, "b")])
    assert texts(await storage.pending_outbox()) == ["a", "b"]


async def test_a_session_survives_close_and_reopen(opener: Opener) -> None:
    answers = {"location": "buttock", "emergency_flags": ["none"], "severity": 7}
    async with await opener() as store:
        await commit(
            store,
            update_id=1,
            chat_id=42,
            session_json=session("age", **answers),
            language="es",
            source="website",
            now=NOW,
        )
    async with await opener() as store:
        state = await store.load_chat(42)
    assert state == ChatState(
        chat_id=42,
        session_json=session("age", **answers),
        prompt_message_id=None,
        blocked=False,
        updated_at=NOW,
        language="es",
        source="website",
    )


async def test_session_none_clears_it_and_unchanged_keeps_it(storage: Storage) -> None:
    await commit(storage, update_id=1, chat_id=3, session_json=session("a"), now=NOW)
    await commit(storage, update_id=2, chat_id=3, outbox=[message(3, "?")], now=NOW + 5)
    kept = await storage.load_chat(3)
    assert kept is not None and kept.session_json == session("a")
    assert kept.updated_at == NOW  # nothing new was stored, so retention still counts from NOW
    await commit(storage, update_id=3, chat_id=3, session_json=None, now=NOW + 9)
    cleared = await storage.load_chat(3)
    assert cleared is not None and cleared.session_json is None and cleared.updated_at == NOW + 9
    assert await storage.load_chat(4) is None


async def test_commit_update_returning_gives_the_queued_items(storage: Storage) -> None:
    queued = await commit_returning(
        storage, update_id=5, chat_id=2, outbox=[message(2, "one"), message(2, "two", tag=PROMPT)]
    )
    assert queued == await storage.pending_outbox()
    assert queued is not None and [item.tag for item in queued] == [None, PROMPT]
    again = await commit_returning(storage, update_id=5, chat_id=2, outbox=[message(2, "x")])
    assert again is None


async def test_fifty_chats_at_once_all_land(storage: Storage) -> None:
    chats = range(1000, 1050)

    async def conversation(chat_id: int) -> None:
        for step in range(4):
            applied = await commit(
                storage,
                update_id=chat_id * 10 + step,
                chat_id=chat_id,
                session_json=session(f"q{step}"),
                outbox=[message(chat_id, f"{chat_id}:{step}")],
                events=[Event.reached(f"q{step}")],
            )
            assert applied

    await asyncio.gather(*(conversation(chat) for chat in chats))
    assert count_chats(storage) == 50
    for chat in chats:
        state = await storage.load_chat(chat)
        assert state is not None and state.session_json == session("q3")
        assert texts(await storage.pending_outbox(chat)) == [f"{chat}:{s}" for s in range(4)]
    assert (await storage.stats(0)).steps == {f"q{s}": 50 for s in range(4)}


async def test_a_failing_update_among_concurrent_ones_leaves_no_trace(storage: Storage) -> None:
    # params that cannot be stored fail half-way through the transaction, after the update id
    # and the chat row were written; the statements of the others must not share its fate.
    broken = OutgoingMessage(99, "sendMessage", {"text": object()})

    async def good(chat_id: int) -> bool:
        return await commit(storage, update_id=chat_id, chat_id=chat_id, session_json=session("ok"),
            outbox=[message(chat_id, "fine")],
        )  # fmt: skip

    async def bad() -> bool:
        return await commit(
            storage, update_id=99, chat_id=99, session_json=session("bad"), outbox=[broken]
        )

    results = await asyncio.gather(
        *(good(chat) for chat in range(1, 21)), bad(), *(good(chat) for chat in range(21, 41)),
        return_exceptions=True,
    )  # fmt: skip
    assert isinstance(results[20], TypeError)
    assert [r for i, r in enumerate(results) if i != 20] == [True] * 40
    assert await storage.load_chat(99) is None
    assert not is_processed(storage, 99)  # so the redelivery can still be applied
    assert count_chats(storage) == 40
    assert len(await storage.pending_outbox()) == 40


async def test_a_cancelled_commit_leaves_the_cache_agreeing_with_the_file(storage: Storage) -> None:
    await commit(storage, update_id=1, chat_id=3, session_json=session("before"))
    await storage.load_chat(3)
    task = asyncio.create_task(
        commit(storage, update_id=2, chat_id=3, session_json=session("after"))
    )
    await asyncio.sleep(0)  # handed over: the write is queued, or on its way to the database
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    group = getattr(storage, "group", None)  # SQLite's group commit
    if group is not None:
        # A write handed over before its caller was cancelled is still committed, by the next
        # batch, in a task of its own: wait for it, or this would read the file halfway.
        await group.idle()
    applied = is_processed(storage, 2)
    state = await storage.load_chat(3)
    assert state is not None
    assert state.session_json == session("after" if applied else "before")


# --- the outbox ---------------------------------------------------------------------------------


async def test_outbox_is_oldest_first_and_filters_by_chat(storage: Storage) -> None:
    await commit(storage, update_id=1, chat_id=1, outbox=[message(1, "a"), message(1, "b")])
    await commit(storage, update_id=2, chat_id=2, outbox=[message(2, "c")])
    await commit(storage, update_id=3, chat_id=1, outbox=[message(1, "d")])
    assert texts(await storage.pending_outbox()) == ["a", "b", "c", "d"]
    assert texts(await storage.pending_outbox(1)) == ["a", "b", "d"]
    assert texts(await storage.pending_outbox(limit=2)) == ["a", "b"]
    first = (await storage.pending_outbox())[0]
    assert (first.chat_id, first.method, first.attempts) == (1, "sendMessage", 0)


async def test_mark_sent_removes_and_remembers_the_prompt(storage: Storage) -> None:
    await commit(
        storage,
        update_id=1,
        chat_id=8,
        session_json=session("location"),
        outbox=[message(8, "Hello"), message(8, "Where is the pain?", tag=PROMPT)],
    )
    hello, question = await storage.pending_outbox()
    await storage.mark_sent([(hello.id, 500)])
    state = await storage.load_chat(8)
    assert state is not None and state.prompt_message_id is None  # not a prompt
    await storage.mark_sent([(question.id, 501)])
    state = await storage.load_chat(8)
    assert state is not None and state.prompt_message_id == 501
    assert await storage.pending_outbox() == []
    await storage.mark_sent([(question.id, 999)])  # a late repeat changes nothing
    state = await storage.load_chat(8)
    assert state is not None and state.prompt_message_id == 501


async def test_mark_sent_takes_several_rows_at_once(storage: Storage) -> None:
    await commit(storage, update_id=1, chat_id=8, session_json=session("a"),
        outbox=[message(8, "x"), message(8, "y", tag=PROMPT), message(8, "z")],
    )  # fmt: skip
    x, y, _ = await storage.pending_outbox()
    await storage.mark_sent([(x.id, 1), (y.id, 2)])
    assert texts(await storage.pending_outbox()) == ["z"]
    state = await storage.load_chat(8)
    assert state is not None and state.prompt_message_id == 2


async def test_a_commit_removes_rows_sent_for_any_chat(storage: Storage) -> None:
    await commit(storage, update_id=1, chat_id=8, session_json=session("a"),
        outbox=[message(8, "x"), message(8, "y", tag=PROMPT), message(8, "z")],
    )  # fmt: skip
    x, y, _ = await storage.pending_outbox()
    # another chat's update carries the removal of chat 8's delivered rows
    assert await commit(
        storage, update_id=2, chat_id=9, outbox=[message(9, "hi")], sent=[(x.id, 1), (y.id, 2)]
    )
    assert texts(await storage.pending_outbox()) == ["z", "hi"]
    state = await storage.load_chat(8)
    assert state is not None and state.prompt_message_id == 2


async def test_a_repeated_update_still_removes_the_sent_rows_it_carries(storage: Storage) -> None:
    await commit(
        storage,
        update_id=1,
        chat_id=8,
        session_json=session("a"),
        outbox=[message(8, "q", tag=PROMPT)],
    )
    (question,) = await storage.pending_outbox()
    assert not await commit(
        storage, update_id=1, chat_id=8, session_json=session("b"),
        outbox=[message(8, "again")], sent=[(question.id, 77)],
    )  # fmt: skip
    assert await storage.pending_outbox() == []  # removed; the repeat queued nothing
    state = await storage.load_chat(8)
    assert state is not None and state.prompt_message_id == 77
    assert state.session_json == session("a")


async def test_sqlite_never_checkpoints_inside_a_commit(tmp_path: Path) -> None:
    path = tmp_path / "triage.db"
    store = await Storage.open(path, checkpoint_after_writes=10**6, checkpoint_idle_s=3600)
    try:
        size = path.stat().st_size
        big = "x" * 200_000  # ~50 pages a commit: SQLite's own would run past 1,000 pages
        for update_id in range(1, 26):
            await commit(store, update_id=update_id, chat_id=1, outbox=[message(1, big)])
        assert path.stat().st_size == size  # all still in the WAL
        assert await store.checkpoint() > 1000  # pages copied by hand
        assert path.stat().st_size > size + 25 * 200_000
    finally:
        await store.close()


async def test_storage_checkpoints_every_so_many_writes(tmp_path: Path) -> None:
    path = tmp_path / "triage.db"
    store = await Storage.open(path, checkpoint_after_writes=5, checkpoint_idle_s=3600)
    try:
        size = path.stat().st_size
        for update_id in range(1, 5):
            await commit(store, update_id=update_id, chat_id=1, outbox=[message(1, "x" * 5000)])
        assert path.stat().st_size == size  # all in the WAL so far
        await commit(store, update_id=5, chat_id=1)  # the fifth write: a checkpoint
        for _ in range(200):  # it runs in the background, between updates (bounded wait)
            if path.stat().st_size > size:
                break
            await asyncio.sleep(0.01)
        assert path.stat().st_size > size + 4 * 5000
    finally:
        await store.close()
    with raw(path) as conn:
        assert len(conn.execute("SELECT * FROM outbox").fetchall()) == 4


async def test_storage_checkpoints_when_idle(tmp_path: Path) -> None:
    path = tmp_path / "triage.db"
    store = await Storage.open(path, checkpoint_after_writes=10**6, checkpoint_idle_s=0.01)
    try:
        size = path.stat().st_size
        await commit(store, update_id=1, chat_id=1, outbox=[message(1, "x" * 5000)])
        for _ in range(200):  # bounded wait for the idle timer
            if path.stat().st_size > size:
                break
            await asyncio.sleep(0.01)
        assert path.stat().st_size > size + 5000
    finally:
        await store.close()


async def test_mark_failed_retries_until_permanent(storage: Storage) -> None:
    await commit(storage, update_id=1, chat_id=4, outbox=[message(4, "a"), message(4, "b")])
    a, b = await storage.pending_outbox()
    await storage.mark_failed(a.id, "network down", permanent=False)
    await storage.mark_failed(a.id, "network down", permanent=False)
    assert [(i.id, i.attempts) for i in await storage.pending_outbox()] == [(a.id, 2), (b.id, 0)]
    await storage.mark_failed(a.id, "400 Bad Request: message is too long", permanent=True)
    await storage.mark_failed(a.id, "a later retry verdict", permanent=False)
    assert [i.id for i in await storage.pending_outbox()] == [b.id]
    kept = (await storage.export_chat(4))["messages"]
    assert [(m["params"]["text"], m["failed"]) for m in kept] == [("a", True), ("b", False)]


async def test_a_blocked_chat_drops_its_outbox_until_it_writes_again(storage: Storage) -> None:
    await commit(storage, update_id=1, chat_id=5, outbox=[message(5, "a"), message(5, "b")])
    await commit(storage, update_id=2, chat_id=6, outbox=[message(6, "other")])
    await storage.mark_blocked(5)
    state = await storage.load_chat(5)
    assert state is not None and state.blocked
    assert texts(await storage.pending_outbox()) == ["other"]
    await commit(storage, update_id=3, chat_id=5, outbox=[message(5, "welcome back")])
    state = await storage.load_chat(5)
    assert state is not None and not state.blocked
    assert texts(await storage.pending_outbox(5)) == ["welcome back"]


async def test_prune_processed_forgets_only_old_update_ids(storage: Storage) -> None:
    await commit(storage, update_id=1, chat_id=1, now=NOW - 5 * DAY)
    await commit(storage, update_id=2, chat_id=1, now=NOW - 1 * DAY)
    assert await storage.prune_processed(keep_seconds=3 * DAY, now=NOW) == 1
    assert not is_processed(storage, 1)
    assert is_processed(storage, 2)


async def test_prune_events_forgets_only_events_older_than_kept(storage: Storage) -> None:
    """The anonymous events are bounded too, and what /stats still shows stays."""
    await commit(storage, update_id=1, chat_id=1, events=[Event.reached("old")], now=NOW - 95 * DAY)
    await commit(storage, update_id=2, chat_id=1, events=[Event.reached("new")], now=NOW - 85 * DAY)
    assert await storage.prune_events(keep_seconds=90 * DAY, now=NOW) == 1
    assert (await storage.stats(since=0, now=NOW)).steps == {"new": 1}
    assert await storage.prune_events(keep_seconds=90 * DAY, now=NOW) == 0


# --- the hot path stays flat ----------------------------------------------------------------------


async def test_the_hot_path_never_scans_a_table(tmp_path: Path) -> None:
    store = await Storage.open(tmp_path / "triage.db", cache_size=0)
    statements: list[str] = []
    await store._db.set_trace_callback(statements.append)
    await store.load_chat(1)
    queued = await commit_returning(store, update_id=1, chat_id=1, session_json=session("a"),
        outbox=[message(1, "q", tag=PROMPT)], events=[Event.reached("a")],
    )  # fmt: skip
    assert queued is not None
    await store.pending_outbox(1)
    await store.pending_outbox()
    await store.mark_sent([(queued[0].id, 10)])
    await store.mark_failed(queued[0].id, "x", permanent=False)
    is_processed(store, 1)
    await store._db.set_trace_callback(None)  # type: ignore[arg-type]  # None stops tracing

    def plans(conn: sqlite3.Connection) -> dict[str, list[str]]:
        found = {}
        for sql in statements:
            if sql.split()[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
                rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
                found[sql] = [row[-1] for row in rows]
        return found

    found = await store._run(plans)
    await store.close()
    assert len(found) >= 8
    # reading the queue from its start is fine: that index holds only what is still to send
    scans = {
        sql: plan
        for sql, plan in found.items()
        if any("SCAN" in step and "USING INDEX outbox_pending" not in step for step in plan)
    }
    assert scans == {}


async def test_a_small_cache_evicts_and_still_answers_from_the_file(tmp_path: Path) -> None:
    async with await Storage.open(tmp_path / "triage.db", cache_size=2) as store:
        for chat in range(1, 6):
            await commit(store, update_id=chat, chat_id=chat, session_json=session(f"s{chat}"))
        for chat in (1, 5, 2, 4, 3, 1):
            state = await store.load_chat(chat)
            assert state is not None and state.session_json == session(f"s{chat}")
        assert len(store._cache) <= 2


# --- privacy --------------------------------------------------------------------------------------


async def person_with_everything(storage: Storage, chat_id: int, admin: int = 900) -> None:
    card = OutgoingMessage(admin, "sendMessage", {"text": "lead card"}, about_chat_id=chat_id)
    await commit(
        storage,
        update_id=chat_id,
        chat_id=chat_id,
        session_json=session("outcome", severity=6),
        language="en",
        source="flyer",
        consented_at=NOW - 60,
        typed=TypedAnswer("age", 31, 30),
        outbox=[message(chat_id, "Thank you", tag=PROMPT), card],
        events=[Event.started("flyer"), Event.finished("massage_ok")],
        lead=lead(chat_id),
        followup_due_at=NOW + 3 * DAY,
        followup_baseline=6,
        now=NOW,
    )


async def test_forget_deletes_the_person_and_keeps_anonymous_counts(storage: Storage) -> None:
    await person_with_everything(storage, 11)
    await person_with_everything(storage, 12)
    assert await commit(storage, update_id=None, chat_id=11, forget=True)
    assert await storage.load_chat(11) is None
    assert await storage.export_chat(11) == {
        "chat_id": 11, "chat": None, "leads": [], "followups": [], "messages": [],
    }  # fmt: skip
    # the other person is untouched
    assert await storage.load_chat(12) is not None
    assert [x.chat_id for x in await storage.all_leads()] == [12]
    assert [f.chat_id for f in await storage.due_followups(NOW + 4 * DAY)] == [12]
    assert len(await storage.pending_outbox()) == 2
    stats = await storage.stats(0)
    assert (stats.started, stats.completed) == (2, 2)


async def test_forget_in_the_same_transaction_as_its_update(storage: Storage) -> None:
    await person_with_everything(storage, 11)
    done = message(11, "Everything about you is deleted.")
    assert await commit(storage, update_id=500, chat_id=11, forget=True, outbox=[done])
    assert await storage.load_chat(11) is None
    assert texts(await storage.pending_outbox()) == ["Everything about you is deleted."]
    assert await storage.all_leads() == []
    assert not await commit(storage, update_id=500, chat_id=11, forget=True, outbox=[done])
    assert len(await storage.pending_outbox()) == 1


async def test_export_holds_everything_about_the_person(storage: Storage) -> None:
    await person_with_everything(storage, 11)
    await person_with_everything(storage, 12)
    exported = await storage.export_chat(11)
    json.dumps(exported)  # ready to send as a document
    assert exported["chat"] == {
        "session": {"step": "outcome", "answers": {"severity": 6}},
        "language": "en",
        "source": "flyer",
        "consented_at": NOW - 60,
        "blocked": False,
        "prompt_message_id": None,
        "updated_at": NOW,
    }
    assert [x["summary"] for x in exported["leads"]] == [lead(11).summary]
    assert exported["leads"][0]["reasons"] == ["sitting_worse"]
    assert exported["followups"] == [
        {"due_at": NOW + 3 * DAY, "sent_at": None, "cancelled": False, "first_pain_score": 6}
    ]
    assert [(m["to_chat_id"], m["params"]["text"]) for m in exported["messages"]] == [
        (11, "Thank you"),
        (900, "lead card"),
    ]


async def test_retention_purges_old_personal_data_and_keeps_events(storage: Storage) -> None:
    await person_with_everything(storage, 11)  # at NOW
    later = NOW + 100 * DAY
    await commit(
        storage, update_id=2, chat_id=22, session_json=session("a"),
        outbox=[message(22, "recent")], lead=lead(22), followup_due_at=later + DAY,
        events=[Event.started()], now=later,
    )  # fmt: skip
    counts = await storage.purge_older_than(90 * DAY, now=later)
    assert counts == {"chats": 1, "leads": 1, "followups": 1, "outbox": 2}
    assert await storage.load_chat(11) is None
    assert await storage.load_chat(22) is not None
    assert [x.chat_id for x in await storage.all_leads()] == [22]
    assert texts(await storage.pending_outbox()) == ["recent"]
    assert [f.chat_id for f in await storage.due_followups(later + 2 * DAY)] == [22]
    assert (await storage.stats(0)).started == 2  # anonymous counts stay


# --- leads and follow-ups -------------------------------------------------------------------------


async def test_leads_newest_first_and_all_oldest_first(storage: Storage) -> None:
    for n, chat in enumerate((1, 2, 3)):
        await add_lead(storage, lead(chat, name=f"P{chat}"), now=NOW + n)
    assert [x.name for x in await storage.recent_leads(2)] == ["P3", "P2"]
    everyone = await storage.all_leads()
    assert [x.name for x in everyone] == ["P1", "P2", "P3"]
    first = everyone[0]
    assert (first.username, first.outcome, first.reasons, first.source, first.created_at) == (
        "ana_b", "massage_ok", ["sitting_worse"], "website", NOW,
    )  # fmt: skip
    assert first.summary == {"Where is the pain worst?": "Deep in one buttock"}


async def test_add_lead_queues_the_admin_cards_with_it(storage: Storage) -> None:
    card = OutgoingMessage(900, "sendMessage", {"text": "card"}, about_chat_id=3)
    await add_lead(storage, lead(3), outbox=[card])
    assert texts(await storage.pending_outbox(900)) == ["card"]


async def test_followups_come_due_once_and_survive_a_restart(opener: Opener) -> None:
    async with await opener() as store:
        first = await schedule_followup(store, 7, NOW + 3 * DAY)
        await schedule_followup(store, 8, NOW + 5 * DAY)
        assert await store.due_followups(NOW) == []
    async with await opener() as store:
        due = await store.due_followups(NOW + 4 * DAY)
        assert [(f.id, f.chat_id) for f in due] == [(first, 7)]
        check_in = message(7, "How is your pain now?")
        assert await store.mark_followup_sent(first, outbox=[check_in], now=NOW + 4 * DAY)
        assert not await store.mark_followup_sent(first, outbox=[check_in])
        assert texts(await store.pending_outbox()) == ["How is your pain now?"]
        assert await store.due_followups(NOW + 4 * DAY) == []
        assert [f.chat_id for f in await store.due_followups(NOW + 6 * DAY)] == [8]


async def test_a_followup_asked_again_replaces_the_pending_one(storage: Storage) -> None:
    first = await schedule_followup(storage, 7, NOW + DAY)
    replaced = await schedule_followup(storage, 7, NOW + 2 * DAY)  # asked again: one check-in
    assert [f.id for f in await storage.due_followups(NOW + 3 * DAY)] == [replaced]
    assert not await storage.mark_followup_sent(first, outbox=[message(7, "x")])
    assert await storage.pending_outbox() == []


# --- statistics and meta --------------------------------------------------------------------------


async def test_stats_count_conversations_outcomes_sources_and_steps(storage: Storage) -> None:
    async def walk(update_id: int, source: str | None, steps: list[str], outcome: str | None,
                   at: float) -> None:  # fmt: skip
        events = [Event.started(source), *(Event.reached(s) for s in steps)]
        if outcome:
            events.append(Event.finished(outcome))
        await commit(storage, update_id=update_id, chat_id=update_id, events=events, now=at)

    await walk(1, "website", ["location", "severity"], "massage_ok", NOW)
    await walk(2, "website", ["location", "severity"], "see_gp", NOW + 60)
    await walk(3, None, ["location"], None, NOW + 120)
    await walk(4, "flyer", ["location", "severity"], "massage_ok", NOW - 10 * DAY)

    recent = await storage.stats(NOW - DAY)
    assert (recent.started, recent.completed) == (3, 2)
    assert recent.outcomes == {"massage_ok": 1, "see_gp": 1}
    assert recent.sources == {"website": 2, NO_SOURCE: 1}
    assert recent.steps == {"location": 3, "severity": 2}
    everything = await storage.stats(0)
    assert (everything.started, everything.outcomes["massage_ok"]) == (4, 2)
    assert (await storage.stats(0, until=NOW - DAY)).started == 1


async def test_event_times_are_kept_to_the_hour(storage: Storage) -> None:
    await commit(storage, update_id=1, chat_id=1, events=[Event.started()], now=NOW + 1799)
    assert (await storage.stats(NOW)).started == 1
    assert (await storage.stats(NOW + 1)).started == 0  # stored as NOW, the hour it began


async def test_meta_values_persist(opener: Opener) -> None:
    async with await opener() as store:
        assert await store.get_meta("retention_last_run") is None
        await store.set_meta("retention_last_run", "1800000000")
        await store.set_meta("retention_last_run", "1800086400")
        await store.set_meta("other", "x")
        await store.set_meta("other", None)
    async with await opener() as store:
        assert await store.get_meta("retention_last_run") == "1800086400"
        assert await store.get_meta("other") is None
