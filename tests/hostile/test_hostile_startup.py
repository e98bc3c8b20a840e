"""A damaged or read-only database stops the bot at start, with one sentence.

Both used to start fine and then drop every update: a garbage page is only met when a query
reaches it, a read-only file only when the first update is written. At start the bot now runs
``PRAGMA quick_check`` and one write it gives back.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

import pytest

from bot.storage import OutgoingMessage, Storage, StorageError
from tests.support import FAKE_TOKEN, FakeBotApi
from tests.support.botprocess import bot_processes
from tests.support.disk import damage, read_only_file
from tests.support.storage import commit, count_chats

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
DAMAGED = r"the database at .*triage\.db is damaged .*: restore it from a backup"
READ_ONLY = r"cannot write the database at .*triage\.db: it is read-only"


async def a_database_with_data(path: Path) -> None:
    """Some hundred chats with queued messages: the file spans many pages."""
    async with await Storage.open(path) as storage:
        for chat in range(300):
            message = OutgoingMessage(chat, "sendMessage", {"text": f"question {chat} " * 20})
            await commit(storage, update_id=chat, chat_id=chat, session_json="{}", outbox=[message])


async def test_the_bots_storage_checks_the_database_is_intact_and_writable(
    tmp_path: Path,
) -> None:
    intact, damaged, read_only = (tmp_path / f"{n}.db" for n in ("intact", "damaged", "ro"))
    for path in (intact, damaged, read_only):
        await a_database_with_data(path)
    async with await Storage.open(intact, verify=True) as storage:
        assert count_chats(storage) == 300

    damage(damaged, page=12)
    with pytest.raises(StorageError, match=r"damaged .*: restore it from a backup"):
        await Storage.open(damaged, verify=True)

    with read_only_file(read_only):
        with pytest.raises(StorageError, match="it is read-only"):
            await Storage.open(read_only, verify=True)
        async with await Storage.open(read_only) as storage:  # to look at it, it still opens
            assert count_chats(storage) == 300


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["damaged", "read-only"])
def test_triage_bot_run_refuses_a_damaged_or_read_only_database(fault: str, tmp_path: Path) -> None:
    database = tmp_path / "triage.db"
    asyncio.run(a_database_with_data(database))
    if fault == "damaged":
        damage(database, page=12)
    with (
        read_only_file(database) if fault == "read-only" else contextlib.nullcontext(),
        FakeBotApi() as fake,
        bot_processes(tmp_path, fake.base_url) as bots,
    ):
        bot = bots.start()
        code = bot.wait_exit(timeout=45)
        output = bot.output()
        assert not fake.calls("getUpdates"), "it never took an update"
    assert code == 1, output
    assert "Traceback" not in output, output
    assert FAKE_TOKEN not in output
    said = [line for line in output.splitlines() if line.strip() and not LOG_LINE.match(line)]
    assert len(said) == 1, output
    assert re.search(DAMAGED if fault == "damaged" else READ_ONLY, said[0]), output
