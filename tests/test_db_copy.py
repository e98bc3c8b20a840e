"""``triage-bot db copy``: a real SQLite file into a real, empty PostgreSQL database."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.ops.dbcopy import TABLES
from bot.storage import (
    ChatChange,
    Event,
    NewLead,
    OutgoingMessage,
    Storage,
    TypedAnswer,
    UpdateWrite,
)
from bot.storage.postgres import PostgresStorage
from bot.storage.records import EventKind
from tests.support.storage import commit, one

NOW = 1_800_000_000.0
DAY = 86_400.0


def message(chat_id: int, text: str, tag: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(chat_id, "sendMessage", {"chat_id": chat_id, "text": text}, tag=tag)


async def fill(path: Path) -> None:
    """A database with rows in every table, and the odd ones: a failed row, a blocked chat,
    a typed answer, Spanish text, a sent check-in."""
    async with await Storage.open(path) as store:
        for chat in range(1, 21):
            await commit(
                store,
                update_id=1000 + chat,
                chat_id=chat,
                session_json=f'{{"step": "age", "answers": {{"n": {chat}}}}}',
                outbox=[message(chat, f"¿Dónde duele más? {chat}", tag="prompt")],
                events=[Event.started("website"), Event.reached("age")],
                language="es" if chat % 2 else "en",
                consented_at=NOW + chat,
                typed=TypedAnswer("age", 500 + chat, 600 + chat),
                now=NOW + chat * 0.25,
            )
        await commit(
            store,
            update_id=2001,
            chat_id=3,
            lead=NewLead(3, "Ana", "ana_b", {"Where?": "Buttock"}, "massage_ok", ("sitting",)),
            followup_due_at=NOW + 3 * DAY,
            followup_baseline=6,
            events=[Event(EventKind.OUTCOME, outcome="massage_ok")],
            now=NOW + 60,
        )
        await commit(store, update_id=2002, chat_id=4, followup_due_at=NOW + DAY, now=NOW)
        (due,) = await store.due_followups(NOW + 2 * DAY)
        await store.mark_followup_sent(due.id, outbox=[message(4, "How is it?")], now=NOW + DAY)
        (first, *_) = await store.pending_outbox()
        await store.mark_failed(first.id, "BadRequest: nope", permanent=True)
        await store.mark_blocked(7)
        await store.mark_processed([3000, 3001], now=NOW)
        await store.set_meta("retention_last_run", "1800000000")


def copy(source: Path, target: str) -> int:
    return main(["db", "copy", "--from", f"sqlite:///{source}", "--to", target])


async def test_every_table_arrives_verified_and_the_bot_reads_the_same(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "triage.db"
    await fill(source)
    assert await asyncio.to_thread(copy, source, pg_url) == 0
    printed = capsys.readouterr().out
    for table in TABLES:
        (count,) = one(source, f"SELECT count(*) FROM {table}")
        assert f"{table}: {count} rows, checksum" in printed
    assert "Copied" in printed

    async with await Storage.open(source) as sqlite, await PostgresStorage.open(pg_url) as pg:
        for chat in (1, 3, 4, 7, 20, 99):
            assert await pg.load_chat(chat) == await sqlite.load_chat(chat)
        assert await pg.pending_outbox(None, 1000) == await sqlite.pending_outbox(None, 1000)
        assert await pg.all_leads() == await sqlite.all_leads()
        later = NOW + 10 * DAY
        assert await pg.due_followups(later) == await sqlite.due_followups(later)
        assert await pg.stats(0, idle_for=1, now=later) == await sqlite.stats(
            0, idle_for=1, now=later
        )
        assert await pg.export_chat(3) == await sqlite.export_chat(3)
        assert await pg.get_meta("retention_last_run") == "1800000000"
        # Exactly-once carries over, and new rows get ids after the copied ones.
        assert not await commit(pg, update_id=1005, chat_id=5, outbox=[message(5, "again")])
        items = await pg.commit(_write(5))
        (last,) = one(source, "SELECT max(id) FROM outbox")
        assert items is not None and items[0].id > last


def _write(chat_id: int) -> UpdateWrite:
    return UpdateWrite(None, chat_id, ChatChange(outbox=[message(chat_id, "new")]))


async def test_a_target_that_holds_anything_is_refused_and_left_alone(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "triage.db"
    await fill(source)
    assert await asyncio.to_thread(copy, source, pg_url) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(copy, source, pg_url) == 1
    error = capsys.readouterr().err
    assert "is not empty" in error and error.count("\n") == 1
    async with await PostgresStorage.open(pg_url) as pg:
        assert (
            len(await pg.pending_outbox(None, 1000))
            == one(source, "SELECT count(*) FROM outbox WHERE failed = 0")[0]
        )


async def test_the_source_of_a_running_bot_is_refused(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "triage.db"
    await fill(source)
    async with await Storage.open(source, exclusive=True):
        assert await asyncio.to_thread(copy, source, pg_url) == 1
    assert "bot is running on" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("data/triage.db", "postgresql://db/t", "--from must be a SQLite file"),
        ("sqlite:///{tmp}/triage.db", "mysql://u:pw@db/t", "--to must be a PostgreSQL"),
        ("sqlite:///{tmp}/none.db", "postgresql://db/t", "here is no SQLite database"),
    ],
)
def test_wrong_places_are_one_sentence_without_a_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, target: str, expected: str
) -> None:
    sqlite3.connect(tmp_path / "triage.db").close()
    code = main(["db", "copy", "--from", source.format(tmp=tmp_path), "--to", target])
    error = capsys.readouterr().err
    assert code == 1 and expected in error and error.count("\n") == 1
    assert "pw" not in error


@pytest.mark.parametrize("command", [["backup", "--to", "x.db"], ["restore", "x.db"]])
def test_sqlite_file_commands_say_what_to_use_with_postgresql(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:s3cret@db/triage")
    assert main(command) == 1
    error = capsys.readouterr().err
    assert "pg_dump" in error and "s3cret" not in error and error.count("\n") == 1
