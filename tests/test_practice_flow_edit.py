"""Editing the flow file while the bot runs and someone is mid-conversation; /reload.

The bot runs in-process against the fake Bot API server over real HTTP (tests/bot_inprocess.py).
The watcher's poll interval is shortened for these tests (it is two seconds in production);
every wait is for something the bot says, bounded.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot import practice_copy
from bot.telegram.practice import flows
from tests.bot_inprocess import RunningBot, running_bot
from tests.practice_bot import ADMIN, ADMINS, OTHER_ADMIN, editable_flow, line_of, messages_to
from tests.support import FakeUser
from tests.support.conversation import PATHS, converse

OLD_WORDING = "**At its worst in the last 24 hours, how bad is the pain?**"
NEW_WORDING = "**How bad was the pain at its worst today?**"
UPDATED = "Flow updated"


def texts_to(bot: RunningBot, chat_id: int, needle: str) -> list[str]:
    return [m.raw_text or "" for m in messages_to(bot, chat_id) if needle in (m.text or "")]


async def refused_reload(bot: RunningBot, admin: FakeUser) -> tuple[str, str, str]:
    """/reload of a file with one error: the admin's answer (as shown, and as sent in HTML)
    and what the other admin is told."""
    admin.command("reload")
    reply = await admin.wait_for_text("has 1 error")
    (told,) = await bot.fake.wait_for(lambda: texts_to(bot, OTHER_ADMIN, "has 1 error"))
    return reply.text or "", reply.raw_text or "", told


async def at_radiation(bot: RunningBot, user_id: int) -> FakeUser:
    person = bot.fake.user(user_id)
    await converse(person, PATHS["non_specific"][:1])
    await bot.question(person, "radiation")
    return person


async def test_valid_and_invalid_edits_while_a_conversation_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(flows, "POLL_SECONDS", 0.05)
    flow = editable_flow(tmp_path)
    original = flow.read_text(encoding="utf-8")
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=ADMINS, FLOW_FILE=str(flow)) as bot:
        person = await at_radiation(bot, 6001)

        # A valid edit: the next question already uses the new wording.
        edited = original.replace(OLD_WORDING, NEW_WORDING)
        flow.write_text(edited, encoding="utf-8")
        await bot.fake.wait_for(lambda: texts_to(bot, ADMIN, UPDATED), 10, "the update notice")
        person.press_option("none", step="radiation")
        severity = await bot.question(person, "severity")
        assert "How bad was the pain at its worst today?" in (severity.text or "")
        session = await bot.session(person.chat_id)
        assert session is not None and session.history == ["location", "radiation"]

        # An invalid edit: the admins get file:line and the fix; the person carries on.
        broken = edited.replace("    next: emergency_flags\n", "    next: emergency_flag\n", 1)
        line = line_of(broken, "    next: emergency_flag")
        with caplog.at_level(logging.WARNING, logger="bot.telegram.practice.flows"):
            flow.write_text(broken, encoding="utf-8")
            for admin in (ADMIN, OTHER_ADMIN):
                (errors,) = await bot.fake.wait_for(
                    lambda a=admin: texts_to(bot, a, "has 1 error"), 10, f"errors to {admin}"
                )
                assert f"{flow}:{line}:" in errors
                assert "Did you mean 'emergency_flags'?" in errors
                assert "<pre>" in errors
            person.say("3")
            await bot.question(person, "emergency_flags")  # the last good flow goes on

            # Once per broken version: /reload answers the one who asks, nobody else again.
            bot.fake.user(ADMIN).command("reload")
            await bot.fake.wait_for(lambda: len(texts_to(bot, ADMIN, "has 1 error")) == 2)
            # The fix is noticed and announced to both; the broken version was told once.
            flow.write_text(edited.replace("today", "today (0-10)"), encoding="utf-8")
            await bot.fake.wait_for(lambda: len(texts_to(bot, OTHER_ADMIN, UPDATED)) == 2, 10)
        assert len(texts_to(bot, OTHER_ADMIN, "has 1 error")) == 1
        warnings = [r for r in caplog.records if "error(s); still running" in r.getMessage()]
        assert len(warnings) == 1
        assert str(person.chat_id) not in warnings[0].getMessage()


async def test_reload_answers_with_the_validation_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flows, "POLL_SECONDS", 3600.0)  # only /reload looks at the file
    flow = editable_flow(tmp_path)
    original = flow.read_text(encoding="utf-8")
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=ADMINS, FLOW_FILE=str(flow)) as bot:
        person = await at_radiation(bot, 6002)
        admin = bot.fake.user(ADMIN)

        broken = original.replace("      - if: age < 16\n", "      - if: age <> 16\n", 1)
        line = line_of(broken, "if: age <> 16")
        flow.write_text(broken, encoding="utf-8")
        text, raw, told = await refused_reload(bot, admin)
        assert f"{flow}:{line}:" in text
        assert "<pre>" in raw and "age &lt;&gt; 16" in raw  # the source line, escaped
        assert "keeps running the last good version" in text
        assert f"{flow}:{line}:" in told

        person.press_option("none", step="radiation")
        severity = await bot.question(person, "severity")
        assert "At its worst in the last 24 hours" in (severity.text or "")

        flow.write_text(original.replace(OLD_WORDING, NEW_WORDING), encoding="utf-8")
        admin.command("reload")
        await admin.wait_for_text(UPDATED)
        person.say("3")
        await bot.question(person, "emergency_flags")
        person.command("back")  # the question asked again comes from the new flow
        again = await bot.question(person, "severity")
        assert "How bad was the pain at its worst today?" in (again.text or "")

        admin.command("reload")
        await admin.wait_for_text("is valid and unchanged")
        stranger = bot.fake.user(6003)
        stranger.command("reload")
        await stranger.wait_for_text("I don't know that command")


async def test_a_reload_that_breaks_a_safety_rule_is_refused_and_names_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flows, "POLL_SECONDS", 3600.0)  # only /reload looks at the file
    flow = editable_flow(tmp_path)
    original = flow.read_text(encoding="utf-8")
    urgent = "    urgent: true\n    booking: false\n"
    assert original.count(urgent) == 1
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=ADMINS, FLOW_FILE=str(flow)) as bot:
        person = await at_radiation(bot, 6004)
        admin = bot.fake.user(ADMIN)

        broken = original.replace(urgent, "    urgent: true\n    booking: true\n")
        line = line_of(broken, "    booking: true")
        flow.write_text(broken, encoding="utf-8")
        text, _, told = await refused_reload(bot, admin)
        assert f"{flow}:{line}:" in text
        assert "It breaks the safety rule S1 no-booking-on-urgent: someone who needs" in text
        assert "S1 no-booking-on-urgent: 'emergency' is urgent" in text
        assert "S1 no-booking-on-urgent" in told

        # The running flow is the last good one: the person carries on as before.
        person.press_option("none", step="radiation")
        await bot.question(person, "severity")


async def test_a_reload_of_the_practices_copy_that_drops_the_shipped_safety_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flows, "POLL_SECONDS", 3600.0)  # only /reload looks at the file
    flow = practice_copy.init(tmp_path / "practice").flow  # as triage-bot flows init makes it
    original = flow.read_text(encoding="utf-8")
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=ADMINS, FLOW_FILE=str(flow)) as bot:
        admin = bot.fake.user(ADMIN)

        # The whole safety net deleted: nothing else is wrong with the file.
        net, after = original.index("\nsafety_net:\n"), original.index("\nreasons:\n")
        flow.write_text(original[:net] + "\n" + original[after:], encoding="utf-8")
        text, _, told = await refused_reload(bot, admin)
        assert f"{flow}:{line_of(original, 'flow: sciatica')}:" in text
        assert "It breaks the safety rule S7 shipped-safety-kept: the emergency signs" in text
        assert "S7 shipped-safety-kept: The shipped flow this copy was made from has a " in text
        assert "S7 shipped-safety-kept" in told

        # An emergency sign unmarked: refused too, and the running flow still has the net.
        unmarked = original.replace(
            '        label: { en: "Numb between legs", es: "Adormecido entre las piernas" }\n'
            "        emergency: true\n",
            '        label: { en: "Numb between legs", es: "Adormecido entre las piernas" }\n'
            "        emergency: false\n",
        )
        assert unmarked != original
        flow.write_text(unmarked, encoding="utf-8")
        admin.command("reload")
        await bot.fake.wait_for(lambda: len(texts_to(bot, ADMIN, "has 1 error")) == 2, 10)
        second = [m.text or "" for m in messages_to(bot, ADMIN) if "has 1 error" in (m.text or "")][
            -1
        ]
        assert "It breaks the safety rule S7 shipped-safety-kept" in second
        assert "The shipped flow marks 'saddle_numbness' (Numb between legs)" in second
        assert bot.runtime.flow.engine.flow.safety_net is not None
