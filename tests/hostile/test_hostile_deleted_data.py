"""Deleted data is gone from the disk, not only from the tables.

SQLite leaves deleted rows in free pages and the write-ahead log keeps old copies of every
page it wrote, so a person's name, or an answer they typed, could still be read out of
``triage.db`` or ``triage.db-wal`` long after /forget or the retention job deleted it. With
``secure_delete`` on and the WAL checkpointed and truncated after each, the raw bytes of the
files (``-shm`` too) no longer hold them. The real bot, its real database file, read byte by
byte.
"""

from __future__ import annotations

import time
from pathlib import Path

from bot.telegram.retention import DAY
from tests.bot_inprocess import RunningBot, running_bot
from tests.practice_bot import (
    ADMINS,
    BOOKING_OUTCOME,
    CONSENT,
    CONSENT_SENT,
    at_booking_outcome,
)
from tests.support.conversation import PATHS

NAME = "Zebulonia Quartermaine"
USERNAME = "zq_unique_handle"
AGE = 35  # typed by the person (the paths of tests.support.conversation type it)
# The typed age as the bot keeps it: in the conversation's answers, and in words on the card.
TYPED = (f'"age":{AGE}', f"Age: {AGE}")


def raw_bytes(database: Path) -> bytes:
    """Everything on disk for the database: the file, its WAL and its shared memory."""
    files = [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]
    return b"".join(path.read_bytes() for path in files if path.exists())


def holds_the_person(database: Path) -> list[str]:
    """Which of the person's name, username and typed answer the files hold, as bytes."""
    data = raw_bytes(database)
    found = []
    for secret in (NAME, USERNAME, *TYPED):
        for encoding in ("utf-8", "utf-16-le"):
            if secret.encode(encoding) in data:
                found.append(f"{secret} ({encoding})")
    return found


async def a_lead_from_the_person(bot: RunningBot, user_id: int) -> None:
    """The person types their age and consents, so their answers, name and username are
    stored, sent and rewritten."""
    assert ("age", AGE) in PATHS[BOOKING_OUTCOME]
    person, _ = await at_booking_outcome(bot, user_id, first_name=NAME, username=USERNAME)
    person.press(CONSENT)
    await person.wait_for_text(CONSENT_SENT)
    await bot.quiet()
    found = holds_the_person(bot.settings.database_path)
    for secret in (NAME, USERNAME, TYPED[0]):  # the test needs them on disk first
        assert f"{secret} (utf-8)" in found, found


async def test_forget_leaves_no_trace_of_the_person_in_the_files(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=ADMINS) as bot:
        await a_lead_from_the_person(bot, 4501)
        person = bot.fake.user(4501)
        person.command("forget")
        ask = await person.wait_for_text("Delete everything we store")
        person.press("Yes, delete everything", message_id=ask.message_id)
        await person.wait_for_text("everything we stored about you is deleted")
        await bot.quiet()
        assert not holds_the_person(bot.settings.database_path)


async def test_retention_leaves_no_trace_of_expired_data_in_the_files(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=ADMINS, RETENTION_DAYS="30") as bot:
        await a_lead_from_the_person(bot, 4502)
        retention = bot.runtime.retention
        retention.clock = lambda: time.time() + 31 * DAY
        counts = await retention.run()
        assert counts["leads"] == 1 and counts["chats"] == 1
        assert not holds_the_person(bot.settings.database_path)
