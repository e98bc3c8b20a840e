"""Admin commands and lead cards are for the listed people, in private chats, never a group.

A group id (negative) in ADMIN_CHAT_IDS made every member of that group an admin: /stats,
/leads and /export answered anyone there, and lead cards with health data went to all of
them. A negative id is now refused at start with one sentence, and the admin commands
answer only a listed person in their private chat with the bot.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from tests.bot_inprocess import running_bot
from tests.practice_bot import ADMIN
from tests.support import FAKE_TOKEN, updates
from tests.support.botprocess import bot_processes
from tests.support.fake_botapi import FakeBotApi

GROUP = -1001234567890
STATS = r"Conversations in|No conversations were started"


@pytest.mark.parametrize("ids", [f"{ADMIN},{GROUP}", "-42", "0", f" {GROUP} "])
def test_a_group_or_channel_id_in_admin_chat_ids_is_refused(ids: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"TELEGRAM_BOT_TOKEN": FAKE_TOKEN, "ADMIN_CHAT_IDS": ids}, env_file=None)
    message = str(refused.value)
    assert "ADMIN_CHAT_IDS" in message and "\n" not in message
    assert "group" in message and ids.split(",")[-1].strip() in message


def test_people_are_admins_as_before() -> None:
    loaded = load_settings(
        {"TELEGRAM_BOT_TOKEN": FAKE_TOKEN, "ADMIN_CHAT_IDS": " 12345, 678 ,"}, env_file=None
    )
    assert loaded.admin_chat_ids == {12345, 678}


@pytest.mark.slow
def test_triage_bot_run_refuses_a_group_among_the_admins(tmp_path: Path) -> None:
    with FakeBotApi() as fake, bot_processes(tmp_path, fake.base_url) as bots:
        bot = bots.start(ADMIN_CHAT_IDS=f"{ADMIN},{GROUP}")
        code = bot.wait_exit(timeout=45)
        output = bot.output()
    assert code == 1 and "Traceback" not in output, output
    (said,) = [line for line in output.splitlines() if line.strip()]
    assert "ADMIN_CHAT_IDS" in said and str(GROUP) in said, output


async def test_an_admin_command_in_a_group_is_not_answered_as_one(tmp_path: Path) -> None:
    """The listed person typing /stats in a group gets no statistics there."""
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        admin = bot.fake.user(ADMIN)
        group = updates.group_chat(GROUP)
        message_id = bot.fake.next_message_id(GROUP)
        bot.fake.enqueue(updates.command(group, admin.person, message_id, "stats"))
        await bot.quiet()
        admin.command("stats")  # in their private chat: answered
        await admin.wait_for_text(STATS)
        await bot.quiet()
    said = [m.text or "" for m in bot.fake.bot_messages(GROUP)]
    assert not [t for t in said if re.search(STATS, t)], said
    assert not [m for m in bot.fake.bot_messages(GROUP) if m.kind == "photo"]
