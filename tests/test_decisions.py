"""flows/sciatica.yaml against the rules of docs/clinical-basis.md, for every combination that
matters.

The expected decisions come from tests/reference_rules.py (the rules written in Python,
independent of the YAML). The flow is run by the real engine through bot.scenarios.walk,
button press by button press. Combinations are generated from representative values of every
answer and de-duplicated by the answers actually asked, so each distinct conversation runs
once.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

import pytest
import reference_rules as ref  # tests/ is on sys.path under pytest (no __init__.py here)

from bot.engine import Engine
from bot.flow import load_compiled
from bot.scenarios import Walk, walk

FLOW = Path(__file__).resolve().parents[1] / "flows" / "sciatica.yaml"
SETTINGS = {
    "booking_url": "https://example.com/book",
    "emergency_number": "999",
    "urgent_advice": "call 111",
}

EMERGENCY_VARIANTS = [
    ["none"],
    *([flag] for flag in ref.EMERGENCY_FLAGS),
    ["saddle_numbness", "chest_or_breathing"],
]
AGES = (10, 15, 16, 17, 19, 20, 35, 50, 51, 80)
DOCTOR_VARIANTS = [
    ["none"],
    *([flag] for flag in ref.DOCTOR_FLAGS),
    ["cancer_history", "pregnant"],
]
SEVERITIES = (0, 3, 6, 7, 10)
LEG_VARIANTS = [["none"], ["numbness_tingling"], ["weakness"], ["numbness_tingling", "weakness"]]
# (location, radiation, worse_sitting): one picture per kind of pain for the tier-2 sweep.
PICTURES = (
    ("buttock", "back_of_thigh", "yes"),
    ("low_back_central", "below_knee", "no"),
    ("low_back_near_dimples", "none", "no"),
)
ADULT = {"age": 35, "first_episode": "no", "doctor_flags": ["none"]}


def combinations() -> Iterator[dict[str, Any]]:
    # 1. The safety screen, whatever the pain looks like.
    for location, radiation, severity, flags in product(
        ref.LOCATIONS, ref.RADIATIONS, SEVERITIES, EMERGENCY_VARIANTS
    ):
        yield {
            "location": location,
            "radiation": radiation,
            "severity": severity,
            "emergency_flags": flags,
            **ADULT,
            "worse_sitting": "yes",
            "leg_symptoms": ["none"],
        }
    # 2. Age, first episode, the doctor checks, severity and the leg on three pain pictures.
    for (location, radiation, sitting), age, first, doctor, severity, leg in product(
        PICTURES, AGES, ("yes", "no"), DOCTOR_VARIANTS, SEVERITIES, LEG_VARIANTS
    ):
        yield {
            "location": location,
            "radiation": radiation,
            "severity": severity,
            "emergency_flags": ["none"],
            "age": age,
            "first_episode": first,
            "doctor_flags": doctor,
            "worse_sitting": sitting,
            "leg_symptoms": leg,
        }
    # 3. The patterns: every location, radiation, severity, sitting and leg answer.
    for location, radiation, severity, sitting, leg, age in product(
        ref.LOCATIONS, ref.RADIATIONS, SEVERITIES, ("yes", "no"), LEG_VARIANTS, (16, 35, 51)
    ):
        yield {
            "location": location,
            "radiation": radiation,
            "severity": severity,
            "emergency_flags": ["none"],
            **ADULT,
            "age": age,
            "worse_sitting": sitting,
            "leg_symptoms": leg,
        }


def _key(answers: dict[str, Any], path: list[str]) -> tuple[Any, ...]:
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k in path for v in [answers[k]])


def distinct_cases() -> list[tuple[dict[str, Any], str, list[str], list[str]]]:
    """(answers, outcome, reasons, path) for each distinct conversation."""
    cases: dict[tuple[Any, ...], tuple[dict[str, Any], str, list[str], list[str]]] = {}
    for answers in combinations():
        outcome, reasons, path = ref.expected(answers)
        cases.setdefault(_key(answers, path), (answers, outcome, reasons, path))
    return list(cases.values())


CASES = distinct_cases()


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_compiled(FLOW), SETTINGS)


@pytest.fixture(scope="module")
def walks(engine: Engine) -> list[Walk]:
    """The engine's walk for each case, in the order of CASES (run once for all tests)."""
    return [walk(engine, answers) for answers, _, _, _ in CASES]


def _mismatches(found: list[str]) -> str:
    shown = "\n".join(found[:10])
    more = f"\n... and {len(found) - 10} more" if len(found) > 10 else ""
    return f"{len(found)} of {len(CASES)} conversations differ from the rules:\n{shown}{more}"


def test_the_generated_cases_cover_every_outcome_and_rule() -> None:
    outcomes = {outcome for _, outcome, _, _ in CASES}
    rules = {ref.rule_fired(ref.given(answers, path)) for answers, _, _, path in CASES}
    assert outcomes == set(ref.OUTCOMES)
    assert rules == {f"E{n}" for n in range(1, 5)} | {f"D{n}" for n in range(1, 6)} | {
        f"P{n}" for n in range(1, 7)
    }
    assert len(CASES) > 3000  # the sweep really is broad, not a handful of cases


def test_outcome_reasons_and_questions_match_clinical_rules(walks: list[Walk]) -> None:
    found = []
    for (answers, outcome, reasons, path), got in zip(CASES, walks, strict=True):
        if (got.outcome, list(got.reasons), list(got.path)) != (outcome, reasons, path):
            found.append(
                f"answers {ref.given(answers, path)}\n"
                f"  expected {outcome} {reasons} via {path}\n"
                f"  got      {got.outcome} {list(got.reasons)} via {list(got.path)}"
            )
    assert not found, _mismatches(found)


def test_questions_follow_the_skip_rules(walks: list[Walk]) -> None:
    """F1's "asked when" column, checked on the paths the engine really took."""
    found = []
    for (answers, _, _, _), got in zip(CASES, walks, strict=True):
        path = list(got.path)
        problems = []
        assert path[:4] == ["location", "radiation", "severity", "emergency_flags"]
        emergency = any(flag != "none" for flag in answers["emergency_flags"])
        if ("age" in path) == emergency:
            problems.append("age is asked exactly when there is no emergency flag")
        if "age" in path:
            age = answers["age"]
            if ("first_episode" in path) != (16 <= age < 20 or age > 50):
                problems.append("first_episode only for 16 <= age < 20 or age > 50")
            if ("doctor_flags" in path) != (age >= 16):
                problems.append("doctor_flags only for age >= 16")
        if "leg_symptoms" in path:
            sitting = answers["location"] == "buttock" and answers["radiation"] in ref.ABOVE_KNEE
            if ("worse_sitting" in path) != sitting:
                problems.append("worse_sitting only for buttock pain above the knee")
            if path.index("leg_symptoms") != len(path) - 1:
                problems.append("leg_symptoms is the last question")
        elif "worse_sitting" in path:
            problems.append("worse_sitting is always followed by leg_symptoms")
        if problems:
            found.append(f"{path}: {'; '.join(problems)}")
    assert not found, _mismatches(found)


def test_stopping_early_never_changes_the_outcome() -> None:
    """Part 1: nothing asked later could make the advice less urgent. Deciding on every
    answer F1 would allow (no early stops) gives the same outcome as the early stop."""
    found = []
    for answers, outcome, _, _ in CASES:
        complete = dict(answers)
        if not ref.asks_first_episode(answers["age"]):
            del complete["first_episode"]
        if not ref.asks_worse_sitting(answers):
            del complete["worse_sitting"]
        if answers["age"] < 16:
            del complete["doctor_flags"]
        full_outcome, _ = ref.decide(complete)
        if full_outcome != outcome:
            found.append(f"{answers}: early {outcome}, complete {full_outcome}")
    assert not found, _mismatches(found)


def test_booking_only_where_f3_allows_it(walks: list[Walk]) -> None:
    seen = set()
    for (_, outcome, _, _), got in zip(CASES, walks, strict=True):
        if outcome in seen:
            continue
        seen.add(outcome)
        reply = got.replies[-1]
        assert reply.outcome == outcome
        assert (reply.link is not None) == ref.BOOKING[outcome], outcome
        assert reply.urgent == (outcome == "emergency")
    assert seen == set(ref.OUTCOMES)


def test_every_outcome_carries_disclaimer_and_safety_advice_with_local_numbers(
    engine: Engine,
) -> None:
    local = Engine(
        engine.compiled,
        {
            "booking_url": "https://example.com/b",
            "emergency_number": "112",
            "urgent_advice": "X",
            "doctor": "GP",
        },
    )
    seen = set()
    for answers, outcome, reasons, _ in CASES:
        if outcome in seen:
            continue
        seen.add(outcome)
        text = walk(local, answers).replies[-1].text
        assert "cannot diagnose" in text
        assert "112" in text and "999" not in text, outcome  # the number comes from settings
        assert "{" not in text, outcome  # every placeholder filled
        if outcome != "emergency":
            assert "numbness between your legs" in text  # the safety line
        if outcome.startswith("likely_"):
            assert "may involve" in text  # never "you have"
        # Each reason is shown as a sentence in plain words, one bullet each.
        why = text.split("Why we suggest this:**\n")[1].split("\n\n")[0].splitlines()
        assert len(why) == len(reasons), outcome
        assert all(line.startswith("• ") and "_" not in line for line in why), why
