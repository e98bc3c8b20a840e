"""The rule analysis agrees with brute force.

The checker decides "no answer makes this rule true", "this rule never wins" and "some answers
match no rule" from a few representative answers per question. Here random rule lists for the
example's `severity` step are checked against every possible combination of answers (all tick
sets, all choices, every number from min to max): the checker must report exactly what brute
force finds.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.flow import check_flow
from bot.flow.conditions import compile_condition

EXAMPLE = (Path(__file__).resolve().parents[2] / "docs" / "examples" / "mini.yaml").read_text(
    encoding="utf-8"
)
SEVERITY_RULES = """\
      - if: severity >= 7
        goto: see_doctor
      - if: radiation == "below_knee"
        goto: nerve
      - goto: book
"""
CONDITIONS = [
    "severity >= 7",
    "severity < 3",
    "severity > 10",
    "severity == 5",
    "severity >= 3 and severity < 7",
    "severity < 2 or severity > 8",
    "not (severity >= 7)",
    "severity <= 6.5",
    'radiation == "below_knee"',
    'radiation != "below_knee"',
    'radiation in ["back_only", "above_knee"]',
    'radiation == "back_only" and severity >= 4',
    'warning_signs has "fever"',
    '"none" in warning_signs',
    'warning_signs has all of ["fever", "saddle_numbness"]',
    'warning_signs has none of ["fever"]',
    'warning_signs has all of ["fever", "none"]',
]
TARGETS = ["see_doctor", "nerve", "book"]

TICKS = [["saddle_numbness"], ["fever"], ["saddle_numbness", "fever"], ["none"]]
EVERY_ANSWER = [
    {"warning_signs": ticks, "radiation": radiation, "severity": severity}
    for ticks, radiation, severity in itertools.product(
        TICKS, ["back_only", "above_knee", "below_knee"], range(11)
    )
]


def quoted(condition: str) -> str:
    return "'" + condition + "'" if condition.startswith('"') else condition


def flow_with(rules: list[tuple[str, str]], default: str | None) -> str:
    lines = [f"      - if: {quoted(c)}\n        goto: {t}\n" for c, t in rules]
    if default is not None:
        lines.append(f"      - goto: {default}\n")
    return EXAMPLE.replace(SEVERITY_RULES, "".join(lines))


def first_match(conditions: list[Any], answers: dict[str, Any]) -> int | None:
    return next((i for i, test in enumerate(conditions) if test(answers)), None)


@settings(max_examples=120, deadline=None)
@given(
    rules=st.lists(
        st.tuples(st.sampled_from(CONDITIONS), st.sampled_from(TARGETS)), min_size=1, max_size=4
    ),
    default=st.none() | st.sampled_from(TARGETS),
)
def test_checker_reports_exactly_what_brute_force_finds(
    rules: list[tuple[str, str]], default: str | None
) -> None:
    text = flow_with(rules, default)
    lines = text.splitlines()
    problems = [p for p in check_flow("f.yaml", text=text) if p.is_error]
    # Every other step is unchanged and fine; only the severity rules can be reported.
    assert all("severity" in lines[p.line - 1] or "if:" in lines[p.line - 1]
               or "next:" in lines[p.line - 1] or p.message.startswith("Nothing leads")
               for p in problems)  # fmt: skip

    tests = [compile_condition(c) for c, _ in rules]
    winners = [first_match(tests, answers) for answers in EVERY_ANSWER]
    start = lines.index("  severity:") + 1
    rule_lines = [start + 9 + 2 * i for i in range(len(rules))]  # 1-based line of each `if:`

    for index, line in enumerate(rule_lines):
        never_true = not any(tests[index](answers) for answers in EVERY_ANSWER)
        never_wins = index not in winners
        reported = {p.message.split(",")[0] for p in problems if p.line == line}
        assert ("No answer can make this rule true" in reported) == never_true
        assert ("This rule is never used: every answer it catches is already caught by the rule"
                in " ".join(reported)) == (never_wins and not never_true)  # fmt: skip
    gap_reported = any(p.message.startswith("Some answers match none") for p in problems)
    assert gap_reported == (default is None and None in winners)


def test_a_gap_example_is_answers_the_routing_lets_through() -> None:
    """In the default flow, buttock pain above the knee is always asked worse_sitting first:
    without leg_symptoms' default, the example must not leave worse_sitting unanswered there."""
    default_flow = Path(__file__).resolve().parents[2] / "flows" / "sciatica.yaml"
    lines = default_flow.read_text(encoding="utf-8").split("\n")
    rules_start = lines.index("  leg_symptoms:")
    last_default = next(
        i for i in range(rules_start, len(lines)) if lines[i].strip() == "- goto: non_specific"
    )
    text = "\n".join(lines[:last_default] + lines[last_default + 1 :])

    gaps = [p for p in check_flow("f.yaml", text=text) if "match none" in p.message]

    assert len(gaps) == 1 and "'leg_symptoms'" in gaps[0].message
    example = gaps[0].hint.split(". Add a last rule")[0]
    assert "'worse_sitting' not answered" in example  # only asked for buttock pain...
    assert "'location' is 'buttock'" not in example  # ...so this one is not buttock pain
    assert "'radiation' is 'below_knee'" not in example and "'foot'" not in example
