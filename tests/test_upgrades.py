"""Upgrades: a database from the first released schema is migrated by the current code and
the conversations in it carry on; a database from a newer version is refused (the subprocess
side of that is in tests/e2e/test_startup.py).

The v1 database is built the way a v1 bot left it: only the first migration, then rows
written with plain SQL in the v1 layout.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

import pytest

from bot.engine import Choose, Engine, Start
from bot.flow import load_compiled
from bot.storage import SCHEMA_VERSION, Storage, StorageError
from bot.storage.pg_schema import PG_MIGRATIONS
from bot.storage.schema import MIGRATIONS, migrate, schema_version
from tests.bot_inprocess import FLOW, running_bot
from tests.support.conversation import (
    PATHS,
    agree,
    converse,
    wait_for_outcome,
    wait_for_question,
)

CHAT = 8101
OLD_UPDATE = 400_000_123


def v1_database(path: Path) -> str:
    """A database at schema version 1 holding a conversation halfway through, a processed
    update, an unsent reply and anonymous events; returns the stored session."""
    engine = Engine(load_compiled(str(FLOW)), {})
    started = engine.handle(None, Start(language="en", source="flyer"))
    session = engine.handle(started.session, Choose("location", "buttock")).session
    assert session.step == "radiation"
    now = time.time()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, name=str(path), target=1)
        assert schema_version(conn) == 1
        conn.execute(
            "INSERT INTO chats (chat_id, session_json, prompt_message_id, blocked, language, "
            "source, updated_at) VALUES (?, ?, NULL, 0, NULL, 'flyer', ?)",
            (CHAT, session.to_json(), now),
        )
        conn.execute("INSERT INTO processed_updates (update_id, at) VALUES (?, ?)",
                     (OLD_UPDATE, now))  # fmt: skip
        params = json.dumps({"chat_id": CHAT, "text": "Left unsent by the old version."})
        conn.execute(
            "INSERT INTO outbox (chat_id, method, params, created_at) VALUES (?, ?, ?, ?)",
            (CHAT, "sendMessage", params, now),
        )
        conn.execute("INSERT INTO events (kind, source, at) VALUES ('started', 'flyer', ?)",
                     (now,))  # fmt: skip
    finally:
        conn.close()
    return session.to_json()


async def test_a_v1_database_is_migrated_and_its_conversation_carries_on(tmp_path: Path) -> None:
    database = tmp_path / "triage.db"
    stored = v1_database(database)

    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(CHAT)
        # What the old version committed but never sent goes out at start.
        await person.wait_for_text("Left unsent by the old version")
        # The person carries on where they were: a typed word at a button question brings the
        # same question back, then they answer the rest of the way.
        person.say("hello?")
        # stored before consent was asked: agreeing first, then the open question again
        await agree(person)
        await wait_for_question(person, "radiation")
        await converse(person, PATHS["likely_piriformis"][1:], start=False)
        await wait_for_outcome(person, "likely_piriformis")
        await bot.quiet()

    with sqlite3.connect(database) as conn:
        assert schema_version(conn) == SCHEMA_VERSION
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert {"leads", "followups", "meta"} <= tables  # what migration 2 adds
        kept = conn.execute(
            "SELECT 1 FROM processed_updates WHERE update_id = ?", (OLD_UPDATE,)
        ).fetchone()
        assert kept is not None  # exactly-once survives the upgrade
        source = conn.execute("SELECT source FROM chats WHERE chat_id = ?", (CHAT,)).fetchone()
        assert source == ("flyer",)
        outcomes = conn.execute("SELECT outcome, source FROM events WHERE kind = 'outcome'")
        assert outcomes.fetchall() == [("likely_piriformis", "flyer")]
    session = await bot.session(CHAT)
    assert session is not None and session.finished
    assert session.answers["location"] == json.loads(stored)["answers"]["location"]


async def test_a_database_from_a_newer_version_is_refused_in_one_sentence(
    tmp_path: Path,
) -> None:
    database = tmp_path / "triage.db"
    with sqlite3.connect(database) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError) as refused:
        await Storage.open(database)
    message = str(refused.value)
    assert "\n" not in message
    assert f"schema version {SCHEMA_VERSION + 1}" in message
    assert f"knows only up to {SCHEMA_VERSION}" in message and "upgrade the bot" in message
    with sqlite3.connect(database) as conn:  # and nothing was changed
        assert schema_version(conn) == SCHEMA_VERSION + 1


# What each released migration was, as its SHA-256: a database out there was built by exactly
# these scripts, so they are appended to, never edited (the v1 database above is built with
# today's first migration, which is only the v1 layout while this holds).
RELEASED = {
    "sqlite": (
        "acb6f612ccd420f8c0e95b854ce40ed274f3ab45376e7aec74167d30c5c6b9c8",
        "1dfa8a3a2903524c0d4ea053cd5110793ef3cf6eb333efa85aac65cbd4751550",
        "c586c7e4ee4230acfa208bd2b3ccf69d518318f3c945cda88475a583864b77bc",
        "57e12c9dc09e3dc8f009a241030446542d1ad5389e23a392327b674d967f8857",
        "18568af7a7a1dbefaaa997b175f6fe7ee8585b6e1d5c21a3351b2bc7a5419015",
    ),
    "postgresql": (
        "12f80d930e99c59e9abd229d6110d5ee893273629202ae7142e77e8553af0f94",
        "3fab9ca941bcac5c82ebfe3ec8beefb47c5bb0b7fbeff6505445d62225a35e1e",
        "8bd64e2b5cbee6b6c88afd0e83f0f48fc9b99a0139af762317676de041872a37",
        "04b7748b3ad33e925b398ee2e3dbb6999089a499e3ba1f12b0c581488e3528a2",
        "18568af7a7a1dbefaaa997b175f6fe7ee8585b6e1d5c21a3351b2bc7a5419015",
    ),
}


@pytest.mark.parametrize("backend", sorted(RELEASED))
def test_released_migrations_are_never_edited(backend: str) -> None:
    scripts = MIGRATIONS if backend == "sqlite" else PG_MIGRATIONS
    released = RELEASED[backend]
    assert len(scripts) >= len(released), "a released migration was removed"
    for number, (script, digest) in enumerate(zip(scripts, released, strict=False), start=1):
        assert hashlib.sha256(script.encode()).hexdigest() == digest, (
            f"{backend} migration {number} was edited: add a new migration instead"
        )
