"""The therapist's commands: /stats (text and chart), /leads, /export (CSV); admins only.

The bot runs in-process against the fake Bot API server over real HTTP (tests/bot_inprocess.py).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.bot_inprocess import running_bot
from tests.practice_bot import (
    ADMIN,
    ADMINS,
    BOOKING_OUTCOME,
    CONSENT,
    CONSENT_SENT,
    OTHER_ADMIN,
    at_booking_outcome,
    messages_to,
)
from tests.support.conversation import PATHS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UNKNOWN = "I don't know that command"
ADMIN_ONLY = ("stats", "leads", "export", "reload")


async def test_someone_else_gets_the_normal_bot_and_learns_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=ADMINS) as bot:
        await at_booking_outcome(bot, 5001)  # there is something to give away
        stranger = bot.fake.user(5002)
        for command in ADMIN_ONLY:
            stranger.command(command)
            stranger.command(command, "30")
        await bot.quiet()
        await bot.fake.wait_for(lambda: len(stranger.texts()) == 2 * len(ADMIN_ONLY))

        assert set(stranger.texts()) == {f"{UNKNOWN}. Send /help to see what I can do."}
        assert all(m.kind == "text" and m.file is None for m in stranger.bot_messages())
        assert bot.fake.calls("sendPhoto") == [] and bot.fake.calls("sendDocument") == []
        assert messages_to(bot, ADMIN) == [] and messages_to(bot, OTHER_ADMIN) == []
        # The public menu does not list them; the admins' own menu does.
        public = [c["command"] for c in bot.fake.commands()]
        assert not set(ADMIN_ONLY) & set(public)
        admin_menu = await bot.fake.wait_for(lambda: bot.fake.commands(scope="chat"))
        assert [c["command"] for c in admin_menu] == [*public, *ADMIN_ONLY]


async def test_stats_answers_with_text_and_a_chart(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        await at_booking_outcome(bot, 5003, source="flyer")
        admin = bot.fake.user(ADMIN)

        admin.command("stats")
        text = await admin.wait_for_text("Conversations in the last 7 days")
        chart = await bot.fake.wait_for(
            lambda: next((m for m in admin.bot_messages() if m.kind == "photo"), None),
            10,
            "the chart",
        )
        assert chart.message_id > text.message_id  # the chart follows its text
        assert chart.file is not None and chart.file.data.startswith(PNG_SIGNATURE)
        assert chart.file.filename == "stats-7-days.png"
        body = text.text or ""
        assert "Started: 1" in body and "Completed: 1 (100%)" in body
        # In the flow's own words: the outcome's title, not its id.
        assert "Your answers may involve the piriformis muscle.: 1" in body and "flyer: 1" in body
        assert BOOKING_OUTCOME not in body

        admin.command("stats", "30")
        await admin.wait_for_text("Conversations in the last 30 days")
        admin.command("stats", "12")
        await admin.wait_for_text(r"Use /stats 7, /stats 30 or /stats 90")
        await bot.quiet()
        assert len([m for m in admin.bot_messages() if m.kind == "photo"]) == 2


async def test_export_sends_every_lead_as_csv(tmp_path: Path) -> None:
    names = ['Ann "the back", Smith', '=HYPERLINK("http://x")']
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        admin = bot.fake.user(ADMIN)
        admin.command("export")
        await admin.wait_for_text("No leads yet")

        for user_id, name in zip((5004, 5005), names, strict=True):
            person, _ = await at_booking_outcome(bot, user_id, first_name=name, username=None)
            person.press(CONSENT)
            await person.wait_for_text(CONSENT_SENT)

        admin.command("export")
        await admin.wait_for_text("2 leads: the CSV file follows")
        document = await bot.fake.wait_for(
            lambda: next((m for m in admin.bot_messages() if m.kind == "document"), None),
            what="the CSV document",
        )
        assert document.file is not None and document.file.filename.endswith(".csv")
        rows = list(csv.reader(io.StringIO(document.file.data.decode("utf-8-sig"))))

    header, *leads = rows
    questions = [step for step, _ in PATHS[BOOKING_OUTCOME]]
    assert header[:8] == [
        "id",
        "created_at_utc",
        "name",
        "username",
        "chat_id",
        "outcome",
        "reasons",
        "source",
    ]
    assert header[8:] == questions
    assert len(leads) == 2
    first, second = (dict(zip(header, row, strict=True)) for row in leads)
    assert first["name"] == names[0]  # commas and quotes survive the round trip
    assert second["name"] == "'" + names[1]  # a formula is defused for spreadsheets
    assert (first["chat_id"], second["chat_id"]) == ("5004", "5005")
    assert first["outcome"] == BOOKING_OUTCOME and first["source"] == "website"
    assert first["reasons"] == "the pain is deep in one buttock; sitting makes it worse"
    assert first["location"] == "Deep in one buttock"
    assert first["severity"] == "4" and first["emergency_flags"] == "None of these"


async def test_leads_lists_the_newest_with_names_escaped(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN)) as bot:
        admin = bot.fake.user(ADMIN)
        admin.command("leads")
        await admin.wait_for_text("No leads yet")

        person, _ = await at_booking_outcome(bot, 5006, first_name="<i>Dee</i>", username="dee")
        person.press(CONSENT)
        await person.wait_for_text(CONSENT_SENT)
        admin.command("leads")
        listing = await admin.wait_for_text("Recent leads")

    assert '<a href="tg://user?id=5006">&lt;i&gt;Dee&lt;/i&gt;</a> @dee' in (listing.raw_text or "")
    assert "Likely piriformis" in (listing.text or "")
