"""Backups and restores on real SQLite files: the copy, its name and mode, keeping the newest,
the refusals of a restore (a running bot, a damaged file, a newer schema), the file it replaces
kept aside, the daily job across restarts, and the command line."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.ops.backup import (
    BackupError,
    backup_name,
    backups_in,
    default_target,
    newest_backup,
    prune,
    restore,
    take_backup,
)
from bot.ops.dblock import DatabaseInUse, holding_lock
from bot.storage import SCHEMA_VERSION, Storage
from bot.storage.lock import lock_path
from bot.telegram.backups import DAY, LAST_RUN_KEY, BackupJob
from tests.bot_inprocess import running_bot
from tests.support.storage import commit, count_chats

T0 = 2_000_000_000.0  # 2033-05-18 03:33:20 UTC


async def a_database(path: Path, chats: int = 3) -> None:
    async with await Storage.open(path) as storage:
        for chat_id in range(1, chats + 1):
            await commit(storage, update_id=chat_id, chat_id=chat_id, session_json=None)


def processed(path: Path) -> set[int]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT update_id FROM processed_updates")}


async def test_a_backup_is_one_checked_private_file_named_by_its_time(tmp_path: Path) -> None:
    database = tmp_path / "data" / "triage.db"
    await a_database(database)
    writer = sqlite3.connect(database)  # a bot's connection with a commit still in the WAL
    writer.execute("INSERT INTO processed_updates (update_id, at) VALUES (99, 0)")
    writer.commit()
    try:
        target = default_target(tmp_path / "backups", T0)
        assert target.name == "triage-20330518-033320.db"
        made = take_backup(database, target, now=T0)
    finally:
        writer.close()
    assert made.path == target and made.schema_version == SCHEMA_VERSION
    assert made.size == target.stat().st_size > 0
    assert processed(target) == {1, 2, 3, 99}  # what was only in the WAL too
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no -wal, no .partial
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # A second one in the same second gets a name of its own, and sorts after the first.
    second = default_target(tmp_path / "backups", T0)
    assert second.name == "triage-20330518-033320-2.db"
    take_backup(database, second)
    assert backups_in(tmp_path / "backups") == [target, second]


async def test_only_the_newest_backups_are_kept_and_nothing_else_is_touched(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("the practice's own file")
    for day in range(5):
        path = default_target(folder, T0 + day * DAY)
        path.write_bytes(b"x")
        os.utime(path, (T0 + day * DAY, T0 + day * DAY))
    removed = prune(folder, 2)
    assert [p.name for p in removed] == [backup_name(T0 + d * DAY) for d in (0, 1, 2)]
    assert len(backups_in(folder)) == 2 and (folder / "notes.txt").exists()
    newest = newest_backup(folder)
    assert newest is not None and newest[1] == T0 + 4 * DAY


async def test_a_backup_of_nothing_or_of_a_newer_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=r"there is no database at .*absent\.db"):
        take_backup(tmp_path / "absent.db", tmp_path / "b.db")
    assert not (tmp_path / "absent.db").exists()  # and none was created
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(BackupError, match=r"knows only up to"):
        take_backup(newer, tmp_path / "b.db")


async def test_restore_replaces_the_database_and_keeps_the_old_one_aside(tmp_path: Path) -> None:
    database = tmp_path / "triage.db"
    await a_database(database, chats=2)
    backup = take_backup(database, tmp_path / "backup.db").path
    await a_database(database, chats=5)  # later updates, which the restore takes back
    left_open = sqlite3.connect(database)  # a kill -9'd bot's WAL beside the file
    left_open.execute("INSERT INTO processed_updates (update_id, at) VALUES (77, 0)")
    left_open.commit()
    try:
        done = restore(backup, database, now=T0)
    finally:
        left_open.close()
    assert processed(database) == {1, 2}
    assert done.replaced == tmp_path / "triage.db.replaced-20330518-033320"
    assert processed(done.replaced) == {1, 2, 3, 4, 5, 77}  # nothing of it lost
    async with await Storage.open(database) as storage:  # and the bot can open it
        assert count_chats(storage) == 2


async def test_restore_refuses_while_a_bot_holds_the_lock(tmp_path: Path) -> None:
    database = tmp_path / "triage.db"
    await a_database(database)
    backup = take_backup(database, tmp_path / "backup.db").path
    await a_database(database, chats=4)
    # What a running bot does: an exclusive flock on <db>.lock, held while it runs.
    fd = os.open(lock_path(database), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(DatabaseInUse) as refused:
            restore(backup, database)
    finally:
        os.close(fd)
    assert "a bot is running on" in str(refused.value) and "stop it first" in str(refused.value)
    assert processed(database) == {1, 2, 3, 4}  # untouched
    assert not list(tmp_path.glob("*.replaced-*"))
    with holding_lock(database):  # released: the lock can be had again
        pass


@pytest.mark.parametrize("kind", ["not sqlite", "damaged", "newer schema", "empty database"])
async def test_restore_refuses_a_file_the_bot_could_not_run(tmp_path: Path, kind: str) -> None:
    database = tmp_path / "triage.db"
    await a_database(database)
    bad = tmp_path / "bad.db"
    if kind == "not sqlite":
        bad.write_text("hello, I am a spreadsheet\n" * 100)
        expected = r"not a SQLite database"
    elif kind == "damaged":
        take_backup(database, bad)
        data = bytearray(bad.read_bytes())
        page = 4096
        for at in range(2 * page + 100, len(data), 97):  # scribble over later pages
            data[at] = 0xFF
        bad.write_bytes(bytes(data))
        expected = r"damaged|not a SQLite database"
    elif kind == "newer schema":
        with sqlite3.connect(bad) as conn:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        expected = r"upgrade the bot first"
    else:
        sqlite3.connect(bad).close()
        bad.write_bytes(b"")
        expected = r"schema version 0|not a SQLite database"
    with pytest.raises(BackupError, match=expected):
        restore(bad, database)
    assert processed(database) == {1, 2, 3}


async def test_the_daily_job_runs_once_a_day_across_restarts_and_keeps_the_newest(
    tmp_path: Path,
) -> None:
    database = tmp_path / "triage.db"
    folder = tmp_path / "backups"
    await a_database(database)
    now = [T0]
    async with await Storage.open(database) as storage:
        job = BackupJob(lambda: storage, database, folder, keep=2, clock=lambda: now[0])
        assert await job.run_if_due() is not None  # never ran: due
        assert await job.run_if_due() is None  # ran a moment ago
        assert await storage.get_meta(LAST_RUN_KEY) == repr(T0)
    # A restart the same day: the new job reads the last run from the database.
    async with await Storage.open(database) as storage:
        now[0] = T0 + DAY / 2
        job = BackupJob(lambda: storage, database, folder, keep=2, clock=lambda: now[0])
        assert await job.due_in() == pytest.approx(DAY / 2)
        assert await job.run_if_due() is None
        for day in (1, 2, 3):
            now[0] = T0 + day * DAY
            assert await job.run_if_due() is not None
    names = [p.name for p in backups_in(folder)]
    assert names == [backup_name(T0 + d * DAY) for d in (2, 3)]


def run_cli(*argv: str) -> int:
    return main(list(argv))


async def test_backup_and_restore_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    for name in ("TELEGRAM_BOT_TOKEN", "BACKUP_KEEP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "triage.db"))
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("BACKUP_KEEP", "1")
    await a_database(tmp_path / "triage.db", chats=2)

    assert run_cli("backup") == 0
    first = backups_in(tmp_path / "backups")
    assert len(first) == 1
    out = capsys.readouterr().out
    assert f"to {first[0]}" in out and "schema version" in out
    await a_database(tmp_path / "triage.db", chats=3)
    time.sleep(1.01)  # the next second: a name of its own
    assert run_cli("backup") == 0
    assert len(backups_in(tmp_path / "backups")) == 1  # BACKUP_KEEP=1
    assert "Removed 1 older backup" in capsys.readouterr().out

    assert run_cli("backup", "--to", str(tmp_path / "before-upgrade.db")) == 0
    capsys.readouterr()
    await a_database(tmp_path / "triage.db", chats=9)
    assert run_cli("restore", str(tmp_path / "before-upgrade.db")) == 0
    said = capsys.readouterr().out
    assert "Restored" in said and "triage.db.replaced-" in said
    assert processed(tmp_path / "triage.db") == {1, 2, 3}

    assert run_cli("restore", str(tmp_path / "missing.db")) == 1
    err = capsys.readouterr().err
    assert err.strip().startswith("There is no database at") and "Traceback" not in err
    assert err.count("\n") == 1 and err.strip().endswith(".")


async def test_the_daily_backup_runs_only_where_backup_dir_is_set(tmp_path: Path) -> None:
    async with running_bot(tmp_path / "off") as bot:
        assert "backup" not in bot.runtime.jobs
        assert "retention" in bot.runtime.jobs  # the jobs are there, only not this one
    folder = tmp_path / "on" / "backups"
    async with running_bot(tmp_path / "on", BACKUP_DIR=str(folder)) as bot:
        assert "backup" in bot.runtime.jobs
        # never ran on this database: due at once, so the first copy appears
        for _ in range(200):
            if backups_in(folder):
                break
            await asyncio.sleep(0.05)
    assert len(backups_in(folder)) == 1
