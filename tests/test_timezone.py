"""TIMEZONE: the practice's time zone on lead cards and in /leads, checked when the settings
are read (one sentence for a name that is not a time zone)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_settings
from bot.storage import Lead, NewLead
from bot.telegram.practice.export import leads_csv, leads_html
from bot.telegram.practice.leads import format_time, lead_card
from tests.bot_inprocess import running_bot
from tests.practice_bot import ADMIN, CONSENT, CONSENT_SENT, at_booking_outcome, messages_to

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456789:AAHk3z_example-token-0123456789abcdefg"
SUMMER = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC


def test_the_time_zone_defaults_to_utc_and_takes_an_iana_name() -> None:
    plain = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    assert plain.timezone == "UTC" and plain.zone == ZoneInfo("UTC")
    madrid = load_settings(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "TIMEZONE": "Europe/Madrid"}, env_file=None
    )
    assert madrid.zone == ZoneInfo("Europe/Madrid")


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "CEST+2", "../etc/passwd", "Europe/"])
def test_a_name_that_is_not_a_time_zone_is_one_sentence(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "TIMEZONE": name}, env_file=None)
    assert str(caught.value) == (
        "TIMEZONE must be a time zone name such as Europe/London, Europe/Madrid or "
        f"America/New_York (the IANA names), got {name!r}."
    )


def test_run_stops_at_a_wrong_time_zone_with_that_sentence(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env={"TELEGRAM_BOT_TOKEN": TOKEN, "TIMEZONE": "Mars/Base", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("TIMEZONE must be a time zone name such as")


def test_times_are_shown_in_the_practices_zone() -> None:
    assert format_time(SUMMER) == "2026-05-28 20:26 UTC"
    assert format_time(SUMMER, ZoneInfo("Europe/Madrid")) == "2026-05-28 22:26 Europe/Madrid"
    assert format_time(SUMMER, ZoneInfo("America/New_York")) == "2026-05-28 16:26 America/New_York"
    lead = NewLead(chat_id=1, name="Ann", username=None, summary={}, outcome="x")
    assert "Sent: 2026-05-28 22:26 Europe/Madrid" in lead_card(
        lead, "en", SUMMER, ZoneInfo("Europe/Madrid")
    )
    stored = Lead(1, 1, "Ann", None, {}, "x", [], None, SUMMER)
    assert "2026-05-28 22:26 Europe/Madrid" in leads_html([stored], ZoneInfo("Europe/Madrid"))
    # The spreadsheet's column says UTC, and stays so.
    assert b"2026-05-28 20:26" in leads_csv([stored])


async def test_the_lead_card_uses_timezone(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN), TIMEZONE="Asia/Kolkata") as bot:
        person, _ = await at_booking_outcome(bot, 5201)
        person.press(CONSENT)
        await person.wait_for_text(CONSENT_SENT)
        (card,) = await bot.fake.wait_for(
            lambda: [m for m in messages_to(bot, ADMIN) if "Sent:" in (m.text or "")]
        )
    assert (card.text or "").count("Asia/Kolkata") == 1 and " UTC" not in (card.text or "")
