"""The safety rules (bot/flow/safety_rules.py): what holds for any flow, and how it is proven.

The broken-flow corpus shows one message per rule; these tests cover the edges: the proof of
S2 over every combination of answers, message steps on the way, what counts as a hard-coded
number, and the default flow's emergency signs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flow import check_flow, load_flow
from bot.flow.safety_rules import RULES, broken_rules

ROOT = Path(__file__).resolve().parents[2]

FLOW = """\
flow: rules
version: 1
start: severity
disclaimer: "We cannot diagnose."
steps:
  severity:
    type: number
    text: "How bad, 0 to 10?"
    min: 0
    max: 10
    next: flags
  flags:
    type: multi
    text: "Any of these?"
    options:
      numb: { label: "Numb between the legs", emergency: true }
      pee: { label: "New trouble peeing", emergency: true }
      fever: "Fever"
      none: { label: "None", exclusive: true }
    next:
RULES
  warn:
    type: message
    text: "This needs help now."
    next: emergency
  emergency:
    type: outcome
    urgent: true
    text: "Call {emergency_number} now."
  doctor:
    type: outcome
    text: "See a doctor."
  book:
    type: outcome
    booking: true
    text: "Book a massage."
"""


def flow(*rules: str) -> str:
    return FLOW.replace("RULES\n", "".join(f"      {line}\n" for line in rules))


def messages(text: str, code: str = "") -> list[str]:
    return [p.message for p in check_flow("f.yaml", text=text) if p.message.startswith(code)]


def test_every_combination_with_a_sign_going_to_the_urgent_outcome_is_proven() -> None:
    text = flow(
        '- if: flags has any of ["numb", "pee"]',
        "  goto: emergency",
        '- if: flags has "fever"',
        "  goto: doctor",
        "- goto: book",
    )
    assert messages(text, "S") == []


def test_a_sign_lost_only_in_combination_with_an_earlier_answer_is_found() -> None:
    text = flow(
        '- if: flags has "numb" and severity < 8',
        "  goto: emergency",
        '- if: flags has "pee"',
        "  goto: emergency",
        "- goto: book",
    )
    (problem,) = [p for p in check_flow("f.yaml", text=text) if p.message.startswith("S2")]
    assert problem.message == (
        "S2 emergency-only-to-urgent: An answer with 'numb' (marked emergency: true) goes to "
        "'book', an outcome that is not urgent."
    )
    assert problem.hint.startswith("For example: 'flags' with 'numb' ticked and 'severity' is 8.")


def test_a_sign_ticked_with_an_option_a_rule_excludes_is_found() -> None:
    text = flow(
        '- if: flags has any of ["numb", "pee"] and flags has none of ["fever"]',
        "  goto: emergency",
        '- if: flags has "fever"',
        "  goto: doctor",
        "- goto: book",
    )
    (problem,) = [p for p in check_flow("f.yaml", text=text) if p.message.startswith("S2")]
    assert "goes to 'doctor'" in problem.message
    assert "'numb', 'fever' ticked" in problem.hint


def test_message_steps_on_the_way_to_the_urgent_outcome_are_allowed() -> None:
    text = flow('- if: flags has any of ["numb", "pee"]', "  goto: warn", "- goto: book")
    assert messages(text, "S2") == []


def test_a_sign_that_leads_to_another_question_breaks_s2() -> None:
    text = (
        flow("- goto: book")
        .replace("start: severity", "start: flags")
        .replace("    next: flags\n", "    next: book\n")
    )
    text = text.replace("      - goto: book\n", "      - goto: severity\n")
    found = messages(text, "S2")
    assert found == [
        "S2 emergency-only-to-urgent: An answer with 'numb' (marked emergency: true) goes to "
        "'severity', a number step."
    ]


def test_a_single_choice_can_mark_an_emergency_sign_too() -> None:
    text = """\
flow: choice
version: 1
start: fall
disclaimer: "We cannot diagnose."
steps:
  fall:
    type: choice
    text: "How did it start?"
    options:
      crash: { label: "A car crash", emergency: true }
      slowly: "Slowly"
    next: book
  emergency:
    type: outcome
    urgent: true
    text: "Call {emergency_number} now."
  book:
    type: outcome
    booking: true
    text: "Book a massage."
"""
    found = [m for m in messages(text) if m.startswith("S2")]
    assert found == [
        "S2 emergency-only-to-urgent: An answer with 'crash' (marked emergency: true) goes to "
        "'book', an outcome that is not urgent."
    ]
    fixed = text.replace(
        "    next: book\n",
        '    next:\n      - if: fall in ["crash"]\n        goto: emergency\n      - goto: book\n',
    )
    assert messages(fixed) == []


def test_emergency_must_be_true_or_false() -> None:
    text = flow("- goto: emergency").replace("emergency: true }", "emergency: yes please }", 1)
    assert "'emergency' must be true or false, not the text 'yes please'." in messages(text)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Call 999 now.", ["999"]),
        ("Ring 112, or 911 in the US.", ["112", "911"]),
        ("Phone 111 for advice.", ["111"]),
        ("Llama al 061.", ["061"]),
        ("Dial 000 now.", ["000"]),
        ("Go to A&E now.", ["A&E"]),
        ("Go to A & E now.", ["A & E"]),
        ("Call {emergency_number} now.", []),
        ("Over 10,000 people a year.", []),
        ("Ring us on 0161 999 1234.", []),
        ("It costs £111.", []),
        ("Room 1112, or 9990.", []),
        ("At 9:11 every day.", []),
        ("Version 1.111 of the leaflet.", []),
        ("Question 111: which side?", []),
        ("Pregunta 112: ¿cuánto?", []),
    ],
)
def test_what_counts_as_a_hard_coded_number(text: str, found: list[str]) -> None:
    source = flow("- goto: emergency").replace("Book a massage.", text)
    got = [m.split("'")[1] for m in messages(source, "S5")]
    assert got == found


def test_a_flow_whose_outcomes_are_all_urgent_may_close_with_the_urgent_disclaimer() -> None:
    text = """\
flow: urgent_only
version: 1
start: emergency
urgent_disclaimer: "We cannot diagnose."
steps:
  emergency:
    type: outcome
    urgent: true
    text: "Call {emergency_number} now."
"""
    assert messages(text) == []
    calm = text.replace("    urgent: true\n", "")
    assert messages(calm, "S4") == [
        "S4 disclaimer-on-every-outcome: This flow has no disclaimer:, so its outcomes "
        "('emergency') would end without saying that a massage therapist cannot diagnose."
    ]
    emptied = text.replace('urgent_disclaimer: "We cannot diagnose."', 'urgent_disclaimer: ""')
    assert messages(emptied) == [
        "S4 disclaimer-on-every-outcome: The urgent disclaimer is empty, so the urgent outcomes "
        "would end without saying that a massage therapist cannot diagnose."
    ]


def test_a_reason_without_if_keeps_its_promise() -> None:
    text = flow("- goto: book").replace(
        '    text: "Book a massage."\n',
        '    text: "We suggest this because of your answers."\n'
        "    reasons:\n      - reason: asked\n",
    )
    text = text.replace("steps:\n", 'reasons:\n  asked: "you answered our questions"\nsteps:\n')
    assert messages(text, "S6") == []
    promised = text.replace(
        "      - reason: asked\n", "      - if: severity > 5\n        reason: asked\n"
    )
    (warning,) = [p for p in check_flow("f.yaml", text=promised) if p.message.startswith("S6")]
    assert warning.severity == "warning"
    assert warning.hint.startswith("For example: 'severity' is 0.")


def test_the_booking_link_is_refused_wherever_an_urgent_outcome_would_show_it() -> None:
    routed = ('- if: flags has any of ["numb", "pee"]', "  goto: emergency", "- goto: book")
    text = flow(*routed).replace("Book a massage.", "Book a massage: {booking_url}")
    assert messages(text, "S1") == []  # the booking outcome may show it

    closing = text.replace('disclaimer: "We cannot diagnose."', 'disclaimer: "Or {booking_url}"')
    (problem,) = [p for p in check_flow("f.yaml", text=closing) if p.message.startswith("S1")]
    assert problem.message == (
        "S1 no-booking-on-urgent: 'emergency' is urgent, but the disclaimer: that closes it "
        "holds {booking_url}: the booking link would be shown under the emergency advice."
    )
    assert (problem.line, problem.column) == (4, 17)
    assert "urgent_disclaimer:" in problem.hint
    # Urgent outcomes that close with their own text no longer show the disclaimer.
    own = closing.replace("steps:\n", 'urgent_disclaimer: "We cannot diagnose."\nsteps:\n', 1)
    assert messages(own, "S1") == []

    paragraph = text.replace(
        '    text: "Call {emergency_number} now."\n',
        '    text: "Call {emergency_number} now."\n'
        '    more:\n      - text: "When you are better: {booking_url}"\n',
    )
    assert messages(paragraph, "S1") == [
        "S1 no-booking-on-urgent: 'emergency' is urgent, but a paragraph of its more: holds "
        "{booking_url}: the booking link would be shown under the emergency advice."
    ]


def test_the_admins_are_told_which_rules_a_message_names() -> None:
    found = broken_rules(["S5 no-hard-coded-numbers: '999' ...", "S1 no-booking-on-urgent: ..."])
    assert [rule.code for rule in found] == ["S1", "S5"]
    assert [rule.code for rule in RULES] == ["S1", "S2", "S3", "S4", "S5", "S6", "S7"]


def test_the_default_flow_marks_every_emergency_sign_and_proves_them() -> None:
    sciatica = load_flow(ROOT / "flows" / "sciatica.yaml")
    flags = sciatica.steps["emergency_flags"]
    marked = [o.id for o in flags.options if o.emergency]
    assert marked == [o.id for o in flags.options if not o.exclusive]
    assert len(marked) == 9
    assert not any(o.emergency for s in sciatica.questions if s.id != flags.id for o in s.options)


def test_s7_says_nothing_more_about_a_question_whose_options_cannot_be_read() -> None:
    # The origin beside the copy is what makes it a practice's copy (bot.flow.origin); the
    # options written as a list are the one mistake to tell.
    broken = ROOT / "tests" / "flow" / "broken"
    copy = (broken / ".origin" / "safety_shipped_sign_unmarked.yaml").read_text("utf-8")
    listed = copy.replace(
        '      numb: { label: "Numb between the legs", emergency: true }\n'
        '      pee: { label: "New trouble peeing", emergency: true }\n'
        '      none: { label: "None of these", exclusive: true }\n',
        "      - numb\n      - pee\n      - none\n",
    )
    assert listed != copy
    found = [
        p.message for p in check_flow(broken / "safety_shipped_sign_unmarked.yaml", text=listed)
    ]
    assert found and not [m for m in found if m.startswith("S7")]
    assert found[0] == "options: should list the buttons, one per line."
