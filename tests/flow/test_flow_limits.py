"""What Telegram and a phone allow: button labels, and the length of an outcome as people get
it (text, the paragraphs and reasons that hold together, disclaimer, safety line)."""

from __future__ import annotations

import pytest

from bot.engine import Engine, Number
from bot.flow import check_flow, load_compiled
from bot.flow.limits import MAX_MESSAGE

OUTCOME = """\
flow: lengths
version: 1
start: age
disclaimer: "We are massage therapists, not doctors."
safety_line: "If you get numb between the legs, call for an ambulance."
reasons:
  under_16: "you are under 16"
  over_60: "you are over 60"
steps:
  age:
    type: number
    text: "How old are you?"
    min: 1
    max: 120
    next: see_doctor
  see_doctor:
    type: outcome
    text: "Please see a doctor."
    more:
      - if: age < 16
        text: "CHILD"
      - if: age > 60
        text: "OLDER"
    reasons:
      - if: age < 16
        reason: under_16
      - if: age > 60
        reason: over_60
"""

SETTINGS: dict[str, str] = {}


def outcome_length(text: str, age: int) -> int:
    engine = Engine(load_compiled("f.yaml", text=text), SETTINGS)
    result = engine.handle(engine.start().session, Number("age", age))
    return len(result.replies[-1].text)


def padded(child: int, older: int) -> str:
    return OUTCOME.replace("CHILD", "c" * child).replace("OLDER", "o" * older)


def length_problems(text: str) -> list[str]:
    return [p.message for p in check_flow("f.yaml", text=text) if "characters" in p.message]


def test_the_checker_counts_an_outcome_exactly_as_the_engine_builds_it() -> None:
    small = padded(10, 10)
    child_extra = outcome_length(small, 10) - 10  # everything but the child's paragraph
    fits = padded(MAX_MESSAGE - child_extra, 10)
    assert outcome_length(fits, 10) == MAX_MESSAGE
    assert length_problems(fits) == []
    too_long = padded(MAX_MESSAGE - child_extra + 1, 10)
    (message,) = length_problems(too_long)
    assert message == (
        "With the paragraphs and reasons it shows for some answers, this outcome reaches "
        f"{MAX_MESSAGE + 1:,} characters in 'en'; Telegram allows {MAX_MESSAGE:,}, so its end, "
        "where the disclaimer is, would be cut off."
    )


def test_paragraphs_that_never_show_together_are_not_added_up() -> None:
    # Each paragraph alone fits; both together would not, but no age is under 16 and over 60.
    half = MAX_MESSAGE // 2 + 100
    assert length_problems(padded(half, half)) == []


def test_the_example_names_the_answers_that_make_it_too_long() -> None:
    text = padded(10, MAX_MESSAGE)
    (problem,) = [p for p in check_flow("f.yaml", text=text) if "characters" in p.message]
    assert problem.hint.startswith("For example: 'age' is 61.")


def test_a_placeholder_counts_as_long_as_it_can_be_shown() -> None:
    # {age} is at most 3 digits: shorter than written, so it counts as written.
    base = padded(10, 10)
    extra = outcome_length(base, 10) - 10
    text = padded(MAX_MESSAGE - extra - len("{age}"), 10).replace("CHILD", "CHILD")
    text = text.replace('text: "c', 'text: "{age}c', 1)
    assert length_problems(text) == []


LABELS = """\
flow: labels
version: 1
start: where
LIMIT
disclaimer: "We cannot diagnose."
steps:
  where:
    type: choice
    text: "Where?"
    columns: COLUMNS
    options:
      a: "LABEL_A"
      b: "LABEL_B"
    next: done
  done:
    type: outcome
    text: "Thanks."
"""


def labels(a: str, b: str = "Short", *, limit: int | None = None, columns: int = 1) -> list[str]:
    text = (
        LABELS.replace("LABEL_A", a)
        .replace("LABEL_B", b)
        .replace("LIMIT\n", f"label_limit: {limit}\n" if limit is not None else "")
        .replace("COLUMNS", str(columns))
    )
    return [f"{p.severity}: {p.message}" for p in check_flow("f.yaml", text=text)]


def test_a_label_of_24_characters_fits_and_25_gets_the_warning() -> None:
    assert labels("x" * 24) == []
    (warning,) = labels("x" * 25)
    assert warning.startswith("warning: This label of 'where' is longer than a phone shows")


def test_buttons_sharing_a_row_share_the_line() -> None:
    assert labels("x" * 12, columns=2) == []
    (warning,) = labels("x" * 13, columns=2)
    assert "(about 12 characters, 2 buttons share each row)" in warning


def test_label_limit_is_the_flows_own() -> None:
    assert labels("x" * 33) == [
        "error: This button's label is 33 characters long; this flow's buttons hold at most "
        "32 (label_limit)."
    ]
    assert labels("x" * 33, limit=40) == [
        "warning: This label of 'where' is longer than a phone shows on one line (about 24 "
        "characters), so a smaller phone cuts it short with '…'."
    ]
    assert labels("x" * 20, limit=16)[0].startswith("error: This button's label is 20")


@pytest.mark.parametrize("limit", [0, 7, 65])
def test_label_limit_must_be_sensible(limit: int) -> None:
    assert labels("Fine", limit=limit) == [
        f"error: label_limit must be from 8 to 64 (characters on a button), not {limit}."
    ]


def test_two_buttons_with_the_same_label_differing_only_in_case_or_spaces() -> None:
    assert labels("Lower back", "lower  back") == [
        "error: Two buttons of 'where' say 'lower  back': the options 'a' and 'b'."
    ]
