"""A corpus of broken flow files, one per typical editing mistake.

Each file in tests/flow/broken/ says in its header what is wrong and what the checker must
report, exactly and nothing more::

    # Mistake: A step id after next: is misspelt.
    #
    # error 24:11 'severty' is not a step in this flow.
    #   hint: Did you mean 'severity'? Steps are: welcome, location, ...

so the expectation sits next to the mistake it describes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.flow import FlowError, Problem, check_flow, load_flow

BROKEN = Path(__file__).parent / "broken"
FILES = sorted(BROKEN.glob("*.yaml"))
_EXPECT = re.compile(r"^# (error|warning) (\d+):(\d+) (.+)$")


@dataclass(frozen=True)
class Expected:
    severity: str
    line: int
    column: int
    message: str
    hint: str


def expectations(path: Path) -> list[Expected]:
    found: list[Expected] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        match = _EXPECT.match(line)
        if match:
            severity, row, column, message = match.groups()
            found.append(Expected(severity, int(row), int(column), message, ""))
        elif line.startswith("#   hint:") and found:
            last = found.pop()
            hint = line.removeprefix("#   hint:").strip()
            found.append(Expected(last.severity, last.line, last.column, last.message, hint))
    return found


def test_the_corpus_covers_the_typical_mistakes() -> None:
    names = {path.stem for path in FILES}
    typical = {
        "typo_in_next", "typo_in_key", "tab_indentation", "colon_in_text", "unclosed_quote",
        "duplicate_step_id", "duplicate_option_id", "unknown_option_in_condition",
        "unknown_answer_key", "impossible_rule", "gap_without_default", "unreachable_step",
        "dead_end", "text_for_number", "too_long_callback_data", "too_long_text",
        "missing_translation", "unknown_placeholder", "condition_syntax_error",
        "several_mistakes",
        # the safety rules, one file each (S3: safety_net_not_urgent, safety_net_to_question)
        "safety_booking_on_urgent", "safety_booking_link_on_urgent",
        "safety_emergency_option_not_urgent",
        "safety_net_not_urgent", "safety_no_disclaimer", "safety_empty_disclaimer",
        "safety_hard_coded_number",
        "safety_reasons_promised",
        # S7: a practice's copy against the shipped flow it was made from (in broken/.origin/)
        "safety_shipped_sign_unmarked", "safety_shipped_net_deleted",
        "safety_shipped_question_bypassed",
        # what a phone shows
        "duplicate_button_label", "label_over_limit", "label_over_phone_line",
        "too_long_outcome_with_paragraphs",
        # messages that point the right way
        "text_with_comma_in_braces", "apostrophe_in_single_quotes", "rule_without_dash",
        "rule_without_dash_in_line_with_its_keys", "option_without_quotes_of_another_yes_question",
        "has_any_of_without_brackets", "unclosed_quote_in_braces", "unclosed_quote_in_condition",
        "unclosed_quote_in_comparison",
        "curly_quotes_in_condition", "curly_quotes_around_text",
        "curly_quotes_in_braces_with_comma",
    }  # fmt: skip
    assert typical <= names
    for path in FILES:
        assert expectations(path), f"{path.name} states no expected problem"


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_broken_flow_reports_exactly_the_mistake(path: Path) -> None:
    expected = expectations(path)
    problems = check_flow(path)

    found = [(p.severity, p.line, p.column, p.message) for p in problems]
    assert found == [(e.severity, e.line, e.column, e.message) for e in expected]
    for problem, wanted in zip(problems, expected, strict=True):
        assert problem.file == str(path)
        assert wanted.hint in problem.hint
        assert problem.excerpt == path.read_text(encoding="utf-8").splitlines()[problem.line - 1]


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_broken_flow_is_refused_with_every_problem_rendered(path: Path) -> None:
    errors = [e for e in expectations(path) if e.severity == "error"]
    if not errors:
        load_flow(path)  # warnings alone never stop a flow
        return
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    rendered = str(caught.value)
    for problem in caught.value.errors:
        assert _block(problem) in rendered
    assert rendered.endswith(f"Found {_count(caught.value.problems)} in {path}.")


def _block(problem: Problem) -> str:
    """The Elm-style block: location and message, the line with a caret under the spot."""
    line = str(problem.line)
    shown = (problem.excerpt or "").replace("\t", "→")
    return (
        f"{problem.file}:{problem.line}:{problem.column}  {problem.message}\n"
        f"    {line} | {shown}".rstrip()
        + f"\n    {' ' * len(line)} | {' ' * (problem.column - 1)}^"
    )


def _count(problems: list[Problem]) -> str:
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    parts = [f"{errors} error{'s' * (errors != 1)}"]
    if warnings:
        parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    return " and ".join(parts)
