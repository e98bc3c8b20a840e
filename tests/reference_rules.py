"""The default flow's decisions written straight from docs/clinical-basis.md, in Python.

Independent of flows/sciatica.yaml on purpose: the tests compare the flow, run by the real
engine, against this. Section 1 sets the order of questions, when each is asked and the early
stops; section 2 gives the rules (E1-E4, D1-D5, P1-P6) in priority order and the outcomes
(booking only for the patterns). The reasons
of the four patterns are our product wording of the rule that fired ("in the person's own
terms"), listed in PATTERN_REASONS below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EMERGENCY_FLAGS = (
    "saddle_numbness",
    "bladder_change",
    "bowel_change",
    "sexual_change",
    "both_legs",
    "weakness_worsening",
    "major_trauma",
    "chest_or_breathing",
    "tummy_pain_faint",
)
E1_FLAGS = EMERGENCY_FLAGS[:6]  # possible cauda equina / severe neurological deficit
DOCTOR_FLAGS = (
    "fever_unwell",
    "cancer_history",
    "weight_loss",
    "night_rest_pain",
    "getting_worse",
    "recent_injury",
    "osteoporosis_steroids",
    "immune_drugs",
    "calf_swelling",
    "blood_thinners",
    "pregnant",
)
LOCATIONS = (
    "buttock",
    "low_back_near_dimples",
    "tailbone",
    "low_back_central",
    "hip_side",
    "other",
)
RADIATIONS = ("none", "buttock_only", "back_of_thigh", "below_knee", "foot")
ABOVE_KNEE = ("none", "buttock_only", "back_of_thigh")
LEG_SYMPTOMS = ("numbness_tingling", "weakness")

OUTCOMES = (
    "emergency",
    "see_doctor_soon",
    "likely_nerve_root",
    "likely_piriformis",
    "likely_sacroiliac",
    "non_specific",
)
# F3: where the booking link may be offered.
BOOKING = {
    "emergency": False,
    "see_doctor_soon": False,
    "likely_nerve_root": True,
    "likely_piriformis": True,
    "likely_sacroiliac": True,
    "non_specific": True,
}


def _ticked(answers: Mapping[str, Any], key: str) -> list[str]:
    return [item for item in answers.get(key) or [] if item != "none"]


def _in_order(chosen: list[str], order: tuple[str, ...]) -> list[str]:
    return [item for item in order if item in chosen]


# --- F1 + Part 1: which questions are asked -----------------------------------------------------


def asks_first_episode(age: int) -> bool:
    return 16 <= age < 20 or age > 50


def asks_worse_sitting(answers: Mapping[str, Any]) -> bool:
    return answers.get("location") == "buttock" and answers.get("radiation") in ABOVE_KNEE


def questions_asked(answers: Mapping[str, Any]) -> list[str]:
    """The questions, in the order asked, for a person who would answer ``answers``.

    Part 1: where, how far down, how bad; then the safety screen; age; first episode; doctor
    checks; sitting; leg. Stop as soon as the outcome cannot get less urgent: after any
    emergency flag, after an age under 16, and after the doctor checks when a tier-2 reason
    is already known.
    """
    path = ["location", "radiation", "severity", "emergency_flags"]
    if _ticked(answers, "emergency_flags"):
        return path
    path.append("age")
    age = answers["age"]
    if age < 16:
        return path
    if asks_first_episode(age):
        path.append("first_episode")
    path.append("doctor_flags")
    if tier2_reasons(given(answers, path)):
        return path
    if asks_worse_sitting(answers):
        path.append("worse_sitting")
    path.append("leg_symptoms")
    return path


def given(answers: Mapping[str, Any], path: list[str]) -> dict[str, Any]:
    """The answers a person gave on ``path``: skipped keys are absent (F1)."""
    return {key: answers[key] for key in path}


# --- F2: decision rules --------------------------------------------------------------------------


def tier2_reasons(answers: Mapping[str, Any]) -> list[str]:
    """D1-D5, every one that holds, in that order (doctor flags in the question's order)."""
    reasons = []
    age = answers.get("age")
    if age is not None and age < 16:
        reasons.append("under_16")  # D1
    if age is not None and (age < 20 or age > 50) and answers.get("first_episode") == "yes":
        reasons.append("age_new_onset")  # D2
    reasons += _in_order(_ticked(answers, "doctor_flags"), DOCTOR_FLAGS)  # D3
    if "weakness" in (answers.get("leg_symptoms") or []):
        reasons.append("leg_weakness")  # D4
    severity = answers.get("severity")
    if severity is not None and severity >= 7:
        reasons.append("severe_pain")  # D5
    return reasons


PATTERN_REASONS = {
    "radiation=below_knee": "pain_below_knee",
    "radiation=foot": "pain_to_foot",
    "numbness": "numbness_tingling",
    "buttock": "buttock_pain",
    "sitting=yes": "sitting_worse",
    "sitting=no": "sitting_not_worse",
    "dimples": "near_dimples",
    "tailbone": "tailbone",
}


def decide(answers: Mapping[str, Any]) -> tuple[str, list[str]]:
    """F2, first match wins, with the reasons of the tier (or pattern) that fired."""
    flags = _ticked(answers, "emergency_flags")
    if flags:  # E1-E4: every ticked flag is a reason
        return "emergency", _in_order(flags, EMERGENCY_FLAGS)
    reasons = tier2_reasons(answers)
    if reasons:
        return "see_doctor_soon", reasons
    location = answers.get("location")
    radiation = answers.get("radiation")
    sitting = answers.get("worse_sitting")
    numb = "numbness_tingling" in (answers.get("leg_symptoms") or [])
    numbness = [PATTERN_REASONS["numbness"]] if numb else []
    if radiation in ("below_knee", "foot"):  # P1
        return "likely_nerve_root", [PATTERN_REASONS[f"radiation={radiation}"], *numbness]
    if location == "buttock" and sitting == "yes":  # P2
        return "likely_piriformis", [PATTERN_REASONS["buttock"], PATTERN_REASONS["sitting=yes"]]
    if numb:  # P3
        return "likely_nerve_root", numbness
    if location == "low_back_near_dimples":  # P4
        return "likely_sacroiliac", [PATTERN_REASONS["dimples"]]
    if location == "buttock" and sitting == "no":  # P5
        return "likely_sacroiliac", [PATTERN_REASONS["buttock"], PATTERN_REASONS["sitting=no"]]
    reasons = ["no_warning_signs", "no_nerve_signs"]  # P6
    if location == "tailbone":
        reasons.append(PATTERN_REASONS["tailbone"])
    return "non_specific", reasons


def rule_fired(answers: Mapping[str, Any]) -> str:
    """The name of the F2 rule that decides (E1 ... P6), for coverage checks."""
    flags = _ticked(answers, "emergency_flags")
    for name, group in (
        ("E1", E1_FLAGS),
        ("E2", ("major_trauma",)),
        ("E3", ("chest_or_breathing",)),
        ("E4", ("tummy_pain_faint",)),
    ):
        if any(flag in group for flag in flags):
            return name
    reasons = tier2_reasons(answers)
    for name, wanted in (
        ("D1", {"under_16"}),
        ("D2", {"age_new_onset"}),
        ("D3", set(DOCTOR_FLAGS)),
        ("D4", {"leg_weakness"}),
        ("D5", {"severe_pain"}),
    ):
        if wanted & set(reasons):
            return name
    location, radiation = answers.get("location"), answers.get("radiation")
    sitting = answers.get("worse_sitting")
    if radiation in ("below_knee", "foot"):
        return "P1"
    if location == "buttock" and sitting == "yes":
        return "P2"
    if "numbness_tingling" in (answers.get("leg_symptoms") or []):
        return "P3"
    if location == "low_back_near_dimples":
        return "P4"
    if location == "buttock" and sitting == "no":
        return "P5"
    return "P6"


def expected(answers: Mapping[str, Any]) -> tuple[str, list[str], list[str]]:
    """(outcome, reasons, questions asked) for a person who would answer ``answers``."""
    path = questions_asked(answers)
    outcome, reasons = decide(given(answers, path))
    return outcome, reasons, path
