"""The condition language (bot/flow/conditions.py): what each rule means, including for
answers that were never given, and that it reads text without ever evaluating Python."""

from __future__ import annotations

from typing import Any

import pytest

from bot.flow.conditions import (
    And,
    Compare,
    ConditionSyntaxError,
    Literal,
    Name,
    Not,
    Or,
    compile_condition,
    names_in,
    parse_condition,
)

PERSON = {
    "location": "buttock",
    "worse_sitting": "yes",
    "severity": 7,
    "age": 52,
    "emergency_flags": ["none"],
    "doctor_flags": ["fever_unwell", "cancer_history"],
}


def holds(source: str, answers: dict[str, Any] | None = None) -> bool:
    return compile_condition(source)(PERSON if answers is None else answers)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("severity >= 7", True),
        ("severity > 7", False),
        ("severity <= 7", True),
        ("severity < 7", False),
        ("severity == 7", True),
        ("severity != 7", False),
        ("7 <= severity", True),
        ('location == "buttock"', True),
        ("location == 'buttock'", True),
        ('location != "buttock"', False),
        ('location in ["buttock", "hip_side"]', True),
        ('location not in ["buttock", "hip_side"]', False),
        ('"fever_unwell" in doctor_flags', True),
        ('"weight_loss" in doctor_flags', False),
        ('"weight_loss" not in doctor_flags', True),
        ('doctor_flags has "cancer_history"', True),
        ('doctor_flags has any of ["weight_loss", "fever_unwell"]', True),
        ('doctor_flags has all of ["fever_unwell", "cancer_history"]', True),
        ('doctor_flags has all of ["fever_unwell", "weight_loss"]', False),
        ('doctor_flags has none of ["weight_loss", "pregnant"]', True),
        ('doctor_flags has none of ["weight_loss", "fever_unwell"]', False),
        ('location == "buttock" and worse_sitting == "yes"', True),
        ('location == "buttock" and worse_sitting == "no"', False),
        ('location == "hip_side" or severity >= 7', True),
        ("not (severity >= 7)", False),
        ("not severity < 7", True),
        ("(age < 20 or age > 50) and severity >= 7", True),
        ("age < 20 or age > 50 and severity > 9", False),  # and binds before or
        ("true", True),
        ("false", False),
    ],
)
def test_meaning_of_each_operator(source: str, expected: bool) -> None:
    assert holds(source) is expected


@pytest.mark.parametrize(
    "source",
    [
        'worse_sitting == "no"',
        'worse_sitting != "yes"',
        'worse_sitting in ["yes", "no"]',
        'worse_sitting not in ["yes"]',
        "severity >= 0",
        "severity < 100",
        "severity != 3",
        '"weakness" in leg_symptoms',
        '"weakness" not in leg_symptoms',
        'leg_symptoms has none of ["weakness"]',
        'leg_symptoms has any of ["weakness"]',
        "worse_sitting",
    ],
)
def test_a_missing_answer_makes_every_comparison_false(source: str) -> None:
    assert holds(source, {"location": "buttock"}) is False


def test_not_turns_a_missing_comparison_into_true() -> None:
    # Documented in docs/flow-language.md: `not` of a false comparison holds.
    assert holds('not (worse_sitting == "yes")', {}) is True
    assert holds('location == "buttock" and not (worse_sitting == "yes")', {"location": "buttock"})


def test_comparisons_of_mismatched_types_are_false_not_errors() -> None:
    assert holds('severity >= "7"') is False
    assert holds("location < 3") is False
    assert holds("location == 3") is False
    assert holds('"buttock" in location') is False  # a single answer is not a list


def test_tree_keeps_the_column_of_every_piece() -> None:
    tree = parse_condition('location == "buttock" and not severity < 7')
    assert isinstance(tree, And)
    first, second = tree.operands
    assert first == Compare("==", Name("location", 0), Literal("buttock", 12), 9)
    assert isinstance(second, Not) and second.column == 26
    assert second.operand == Compare("<", Name("severity", 30), Literal(7, 41), 39)
    assert isinstance(parse_condition("a == 1 or b == 2"), Or)


def test_names_in_lists_the_answers_read() -> None:
    tree = parse_condition('(age < 20 or age > 50) and "x" in flags and not location')
    assert names_in(tree) == {"age", "flags", "location"}


@pytest.mark.parametrize(
    ("source", "column", "message"),
    [
        ("", 0, "The condition is empty."),
        ("severity = 7", 9, "A single '=' is not a comparison."),
        ("severity >=", 11, "The condition stops too early."),
        ('location == "buttock', 12, "This text in quotes is never closed."),
        ("(severity > 3", 0, "A '(' is never closed."),
        ("severity > 3 severity", 13, "I did not expect 'severity' here."),
        ("severity >= and 3", 12, "'and' is a keyword and cannot stand here."),
        ('flags has any ["a"]', 14, "Expected the word 'of' here."),
        (
            'x in ["a" "b"]',
            10,
            "Items in a list are separated by commas and the list ends with ']'.",
        ),
        ("__import__('os').system('x')", 16, "'.' cannot be used in a condition."),
        ("severity >= 7; drop", 13, "';' cannot be used in a condition."),
    ],
)
def test_syntax_errors_say_where(source: str, column: int, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        compile_condition(source)
    assert caught.value.column == column
    assert caught.value.message == message


def test_nothing_is_ever_evaluated_as_python() -> None:
    # A name is only ever looked up in the answers, never in Python's namespace.
    assert holds("__class__", {}) is False
    assert holds("__class__", {"__class__": "set"}) is True
