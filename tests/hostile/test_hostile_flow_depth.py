"""A flow file nested hundreds of levels deep is a plain mistake with a line, not a crash.

The reader, the YAML error wording and the condition parser all recurse, so a file nested a
few hundred levels deep (in YAML, or in a condition's brackets or 'not's) ended ``flows
check`` and ``run`` in a RecursionError. Now nesting is bounded where it is read, and the
therapist is told where: "nested too deeply", with the line; also by the running bot, when
such a file is saved over its flow (the watcher tells the admins, /reload answers), which
goes on with the last good flow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from bot.flow import FlowError, check_flow, load_compiled
from bot.telegram.practice import flows
from tests.bot_inprocess import RunningBot, running_bot
from tests.practice_bot import ADMIN, editable_flow, messages_to
from tests.support.conversation import begin

HEAD = (
    "flow: deep\nversion: 1\ntitle: Deep\nlanguages: [en]\nstart: where\n"
    'disclaimer: "A massage therapist cannot diagnose."\nsteps:\n'
)
TAIL = (
    "  where:\n    type: choice\n    text: Where?\n    options:\n      x: X\n      y: Y\n"
    "    next:\n      - if: '{condition}'\n        goto: done\n      - goto: done\n"
    "  done:\n    type: outcome\n    text: {text}\n"
)
CONDITION_LINE = HEAD.count("\n") + 8  # the "- if:" line


def block(depth: int) -> tuple[str, int]:
    """The outcome's text as keys within keys, ``depth`` deep (block style)."""
    lines = [f"{'  ' * (level + 3)}k{level}:" for level in range(depth)]
    text = "\n" + "\n".join(lines) + "\n" + "  " * (depth + 3) + "v: 1"
    source = HEAD + TAIL.format(condition='where == "x"', text=text)
    return source, source.index("k0:")


def flow_style(depth: int, opener: str = "[", closer: str = "]") -> tuple[str, int]:
    text = opener * depth + closer * depth
    source = HEAD + TAIL.format(condition='where == "x"', text=text)
    return source, source.index(opener * 2)


def condition(text: str) -> tuple[str, int]:
    source = HEAD + TAIL.format(condition=text, text="bye")
    return source, source.index("- if:")


CASES: dict[str, Callable[[], tuple[str, int]]] = {
    "600 levels of keys": lambda: block(600),
    "990 levels of keys": lambda: block(990),
    "2,000 levels of [lists]": lambda: flow_style(2000),
    "400 levels of {maps}": lambda: flow_style(400, "{a: ", "}"),
    "500 levels of brackets in a condition": lambda: condition(
        "(" * 500 + 'where == "x"' + ")" * 500
    ),
    "2,000 nots in a condition": lambda: condition("not " * 2000 + 'where == "x"'),
}


def line_of(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


@pytest.mark.parametrize("case", list(CASES))
def test_deep_nesting_is_one_plain_error_at_its_line(case: str, tmp_path: Path) -> None:
    source, offset = CASES[case]()
    path = tmp_path / "deep.yaml"
    path.write_text(source, encoding="utf-8")
    problems = [p for p in check_flow(path) if p.is_error]
    deep = [p for p in problems if "nested too deeply" in p.message]
    assert deep, [p.message for p in problems]
    assert deep[0].line >= line_of(source, offset), deep[0].render()
    assert deep[0].line <= source.count("\n") + 1
    with pytest.raises(FlowError, match="nested too deeply"):  # what `triage-bot run` loads
        load_compiled(path)


@pytest.mark.parametrize("case", ["990 levels of keys", "2,000 nots in a condition"])
def test_flows_check_says_so_without_a_traceback(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, _ = CASES[case]()
    path = tmp_path / "deep.yaml"
    path.write_text(source, encoding="utf-8")
    assert main(["flows", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "nested too deeply" in err and "Traceback" not in err
    assert f"{path}:" in err  # file:line:column


def test_ordinary_nesting_is_still_fine(tmp_path: Path) -> None:
    path = tmp_path / "fine.yaml"
    path.write_text(
        HEAD + TAIL.format(condition='not (where == "x" and not (where == "y"))', text="bye"),
        encoding="utf-8",
    )
    assert not [p for p in check_flow(path) if p.is_error]


TO_SEVERITY = "    next: severity\n"
DEEP = "nested too deeply"


def told(bot: RunningBot, chat_id: int, needle: str) -> list[str]:
    return [m.text or "" for m in messages_to(bot, chat_id) if needle in (m.text or "")]


async def test_a_deep_flow_saved_while_the_bot_runs_is_a_plain_error_to_the_admins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(flows, "POLL_SECONDS", 0.05)
    caplog.set_level(logging.INFO, logger="bot")
    flow = editable_flow(tmp_path)
    original = flow.read_text(encoding="utf-8")
    assert original.count(TO_SEVERITY) == 1
    async with running_bot(tmp_path, ADMIN_CHAT_IDS=str(ADMIN), FLOW_FILE=str(flow)) as bot:
        person = bot.fake.user(6601)
        await begin(person)
        await bot.question(person, "location")

        deep = original.replace(TO_SEVERITY, "    next: " + "[" * 2000 + "]" * 2000 + "\n")
        flow.write_text(deep, encoding="utf-8")  # the watcher notices it
        (notice,) = await bot.fake.wait_for(lambda: told(bot, ADMIN, DEEP), 10, "the notice")
        assert f"{flow}:{line_of(deep, deep.index('[[['))}:" in notice, notice
        bot.fake.user(ADMIN).command("reload")  # and /reload answers the same
        await bot.fake.wait_for(lambda: len(told(bot, ADMIN, DEEP)) == 2, 10, "the answer")

        person.press_option("buttock", step="location")  # on the last good flow
        await bot.question(person, "radiation")
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not failures, failures
