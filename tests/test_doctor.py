"""``triage-bot doctor`` against the fake Bot API over real HTTP, with a real SQLite file:
every check passes on a ready setup, and each broken thing fails its own line (and only it).
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import bot.ops.database
import bot.ops.doctor
from bot.cli import main
from bot.ops.backup import backups_in, take_backup
from bot.storage import SCHEMA_VERSION, Storage
from bot.storage.postgres import PostgresStorage
from tests.bot_inprocess import FLOW
from tests.support import FAKE_TOKEN, FakeBotApi
from tests.support.botprocess import _SETTINGS
from tests.support.storage import commit

ADMIN = 9001
NAMES = [
    "settings", "flow", "database writable", "migrations", "integrity", "free disk",
    "last backup", "token", "webhook", f"admin chat {ADMIN}",
]  # fmt: skip


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


def ready(tmp_path: Path, fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A setup that is ready to go live: settings, flow, database, a fresh backup, an admin
    who has pressed Start."""
    database = tmp_path / "data" / "triage.db"

    async def create() -> None:
        async with await Storage.open(database) as storage:
            await commit(storage, update_id=1, chat_id=5, session_json=None)

    asyncio.run(create())
    take_backup(database, tmp_path / "backups" / "triage-20300101-000000.db")
    fake.user(ADMIN).start()  # Telegram knows the admin's chat once they wrote to the bot
    env = {
        "TELEGRAM_BOT_TOKEN": FAKE_TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_PATH": str(database),
        "FLOW_FILE": str(FLOW),
        "BACKUP_DIR": str(tmp_path / "backups"),
        "ADMIN_CHAT_IDS": str(ADMIN),
    }
    monkeypatch.chdir(tmp_path)  # no developer .env
    for name in _SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["doctor"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and FAKE_TOKEN not in captured.out + captured.err
    return code, captured.out.splitlines()


def test_a_ready_setup_passes_every_check(
    tmp_path: Path, fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    ready(tmp_path, fake, monkeypatch)
    code, lines = doctor(capsys)
    assert code == 0, "\n".join(lines)
    checks, summary = lines[:-1], lines[-1]
    assert [line.split(":")[0] for line in checks] == [f"✓ {name}" for name in NAMES]
    assert summary == f"All {len(NAMES)} checks passed."
    text = "\n".join(lines)
    assert f"schema version {SCHEMA_VERSION}, current" in text
    assert "PRAGMA integrity_check: ok" in text
    assert "accepted, the bot is @triage_test_bot" in text
    assert "none, as polling mode wants; 1 update(s) waiting" in text
    assert re.search(r"last backup: triage-20300101-000000\.db, \d+ s old", text)
    # doctor reads, it never writes: the webhook is untouched, the database not migrated
    assert not fake.calls("setWebhook") and not fake.calls("deleteWebhook")


def broken_flow(tmp_path: Path) -> str:
    flow = tmp_path / "broken.yaml"
    flow.write_text(
        "flow: sciatica\nversion: 1\ntitle: Broken\nlanguages: [en]\nstart: welcome\n"
        "steps:\n  welcome:\n    type: message\n    text: Hi\n    next: nowhere\n",
        "utf-8",
    )
    return str(flow)


def unsafe_flow(tmp_path: Path) -> str:
    """The shipped flow with the emergency number written into its texts (safety rule S5)."""
    shipped = Path(__file__).resolve().parents[1] / "flows" / "sciatica.yaml"
    text = shipped.read_text("utf-8")
    assert "{emergency_number}" in text
    flow = tmp_path / "unsafe.yaml"
    flow.write_text(text.replace("{emergency_number}", "999"), "utf-8")
    return str(flow)


def damage(database: Path) -> None:
    """Overwrite the middle of the table pages, leaving the header and schema page whole."""
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        conn.execute("CREATE TABLE filler (x TEXT)")
        conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 200)
        conn.execute("CREATE INDEX filler_x ON filler (x)")
        conn.execute("PRAGMA journal_mode = DELETE")  # everything in the one file
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    finally:
        conn.close()
    data = bytearray(database.read_bytes())
    for number in range(pages - 10, pages - 2):
        start = number * page + 8
        data[start : start + 64] = bytes(range(64))
    database.write_bytes(bytes(data))


Breaker = Callable[[Path, FakeBotApi, dict[str, str], pytest.MonkeyPatch], None]


def env(**values: str | None) -> Breaker:
    def apply(tmp: Path, fake: FakeBotApi, e: dict[str, str], mp: pytest.MonkeyPatch) -> None:
        for name, value in values.items():
            if value is None:
                mp.delenv(name, raising=False)
            else:
                mp.setenv(name, value)

    return apply


HELD: list[sqlite3.Connection] = []  # closed at the end of each test


def hold_write_lock(tmp: Path, fake: FakeBotApi, e: dict[str, str], mp: pytest.MonkeyPatch) -> None:
    mp.setattr(bot.ops.database, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(e["DATABASE_PATH"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
    HELD.append(holder)


def failing_deliveries(
    tmp: Path, fake: FakeBotApi, e: dict[str, str], mp: pytest.MonkeyPatch
) -> None:
    env(WEBHOOK_URL="https://clinic.example/tg", WEBHOOK_SECRET_TOKEN="s3cret")(tmp, fake, e, mp)
    five_minutes_ago = int(time.time()) - 300
    fake.set_webhook_state(
        "https://clinic.example/tg", last_error=(five_minutes_ago, "Connection refused")
    )


def newer_schema(tmp: Path, fake: FakeBotApi, e: dict[str, str], mp: pytest.MonkeyPatch) -> None:
    with sqlite3.connect(e["DATABASE_PATH"]) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")


def old_backup(tmp: Path, fake: FakeBotApi, e: dict[str, str], mp: pytest.MonkeyPatch) -> None:
    (backup,) = backups_in(Path(e["BACKUP_DIR"]))
    three_days_ago = time.time() - 3 * 86400
    os.utime(backup, (three_days_ago, three_days_ago))


CASES: dict[str, tuple[Breaker, str, str]] = {
    "settings": (env(LOG_LEVEL="LOUD"), "settings", r"LOG_LEVEL must be one of .* fix it in .env"),
    "token": (
        lambda t, fake, e, mp: setattr(fake, "valid_tokens", {"1:someone-else"}),
        "token", r"Telegram rejected TELEGRAM_BOT_TOKEN → copy the token again from @BotFather",
    ),
    "no token": (env(TELEGRAM_BOT_TOKEN=None), "token", r"TELEGRAM_BOT_TOKEN is not set"),
    "a webhook in polling mode": (
        lambda t, fake, e, mp: fake.set_webhook_state("https://old.example/hook"),
        "webhook", r"polling mode, but a webhook is set \(https://old\.example/hook\)",
    ),
    "webhook mode, nothing registered": (
        env(WEBHOOK_URL="https://clinic.example/tg", WEBHOOK_SECRET_TOKEN="s3cret"),
        "webhook", r"webhook mode, but no webhook is set; .*→ start the bot",
    ),
    "webhook mode, deliveries failing": (
        failing_deliveries,
        "webhook", r"last delivery failed 5 min ago \(Connection refused\).*→ check that the proxy",
    ),
    "flow": (
        lambda t, fake, e, mp: mp.setenv("FLOW_FILE", broken_flow(t)),
        "flow", r"broken\.yaml has \d+ errors? → run `triage-bot flows check",
    ),
    "flow breaking a safety rule": (
        lambda t, fake, e, mp: mp.setenv("FLOW_FILE", unsafe_flow(t)),
        "flow", r"unsafe\.yaml has \d+ errors, breaking the safety rules S5 no-hard-coded-n",
    ),
    "flow, not made yet": (
        lambda t, fake, e, mp: mp.setenv("FLOW_FILE", str(t / "practice" / "sciatica.yaml")),
        "flow", r"there is no flow file at .*practice/sciatica\.yaml → make the practice's copy "
        r"with `triage-bot flows init`",
    ),
    "database writable": (hold_write_lock, "database writable", r"database is locked"),
    "migrations": (newer_schema, "migrations", r"schema version \d+, but this version .* knows"),
    "integrity": (
        lambda t, fake, e, mp: damage(Path(e["DATABASE_PATH"])),
        "integrity", r"is damaged \(.*\) → stop the bot and `triage-bot restore`",
    ),
    "free disk": (
        lambda t, fake, e, mp: mp.setattr(bot.ops.doctor, "MIN_FREE_BYTES", 10**18),
        "free disk", r"GB free of .* → free at least",
    ),
    "last backup, old": (old_backup, "last backup", r"3 days old → is the bot running\?"),
    "last backup, none": (env(BACKUP_DIR=None), "last backup", r"BACKUP_DIR is not set"),
    "admin chat": (
        env(ADMIN_CHAT_IDS=f"{ADMIN},424242"),
        "admin chat 424242", r"(?i)chat not found → that person must open the bot and press Start",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_each_problem_fails_its_own_line(
    case: str, tmp_path: Path, fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    values = ready(tmp_path, fake, monkeypatch)
    breaker, name, expected = CASES[case]
    breaker(tmp_path, fake, values, monkeypatch)
    try:
        code, lines = doctor(capsys)
    finally:
        while HELD:
            HELD.pop().close()
    assert code == 1, "\n".join(lines)
    failing = [line for line in lines if line.startswith("✗")]
    assert len(failing) == 1, "\n".join(lines)
    assert failing[0].startswith(f"✗ {name}: "), failing[0]
    assert re.search(expected, failing[0]), failing[0]
    assert lines[-1].endswith("checks failed.")


def test_a_postgresql_database_gets_the_same_database_lines(
    tmp_path: Path, fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], pg_url: str,
) -> None:  # fmt: skip
    ready(tmp_path, fake, monkeypatch)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.delenv("BACKUP_DIR")
    _, lines = doctor(capsys)
    text = "\n".join(lines)
    assert f"database {pg_url}" in text
    assert "✓ database writable" in text
    assert "✓ migrations: an empty database; the first start creates the tables" in text
    assert "(the bot's folder; PostgreSQL's disk is its server's to watch)" in text
    assert str(tmp_path / "data") not in text  # the SQLite folder is not where the data is

    async def create() -> None:
        async with await PostgresStorage.open(pg_url):
            pass

    asyncio.run(create())
    _, lines = doctor(capsys)
    text = "\n".join(lines)
    assert f"✓ migrations: schema version {SCHEMA_VERSION}, current" in text
    assert "✓ integrity: checked by PostgreSQL itself" in text

    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:s3cret@127.0.0.1:1/none")
    code, lines = doctor(capsys)
    text = "\n".join(lines)
    assert code == 1
    assert "✗ database writable: cannot connect to postgresql://bot@127.0.0.1:1/none" in text
    assert "s3cret" not in text
