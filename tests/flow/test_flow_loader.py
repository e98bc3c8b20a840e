"""Loading a flow: the model it builds, how problems are shown, and the example flow talking
through the real engine."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.callback import MAX_BYTES, size
from bot.engine import Action, Choose, Done, Engine, Number, ReplyKind, Text, Toggle
from bot.flow import (
    CompiledFlow,
    FlowError,
    StepKind,
    Where,
    check_flow,
    load_compiled,
    load_flow,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "mini.yaml"
SETTINGS = {
    "booking_url": "https://example.com/book",
    "emergency_number": "999",
    "urgent_advice": "call 111",
}

SMALL = """\
flow: small
version: 3
start: sitting
steps:
  sitting:
    type: choice
    text: "Is it worse when you sit?"
    options:
      yes: "Yes"
      no: "No"
    next:
      - if: sitting == "yes"
        goto: piriformis
      - goto: general
  piriformis:
    type: outcome
    booking: true
    text: "This may involve the piriformis."
  general:
    type: outcome
    text: "Keep moving."
disclaimer: "A massage therapist cannot diagnose."
"""


def errors(text: str) -> list[str]:
    return [
        f"{p.line}:{p.column} {p.message}" for p in check_flow("f.yaml", text=text) if p.is_error
    ]


# --- the model -------------------------------------------------------------------------------


def test_example_flow_loads_into_the_model_with_positions() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    flow = load_flow(EXAMPLE)

    assert flow.id == "mini_back_check"
    assert flow.version == "1-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    assert flow.languages == ("en", "es")
    assert flow.default_language == "en"
    assert flow.start == "welcome"
    assert list(flow.steps) == [
        "welcome", "warning_signs", "radiation", "severity",
        "emergency", "see_doctor", "nerve", "book",
    ]  # fmt: skip
    signs = flow.steps["warning_signs"]
    assert signs.kind is StepKind.MULTI
    assert [(o.id, o.exclusive) for o in signs.options] == [
        ("saddle_numbness", False),
        ("fever", False),
        ("none", True),
    ]
    assert signs.options[2].label.get("es", "en") == "Ninguno"
    assert signs.where == Where(str(EXAMPLE), 67, 3)
    first_rule = signs.routes[0]
    assert first_rule.target == "emergency"
    assert first_rule.condition is not None
    assert first_rule.condition.source == '"saddle_numbness" in warning_signs'
    # The condition starts after the quote of the YAML string.
    assert first_rule.condition.where == Where(str(EXAMPLE), 83, 14)
    assert first_rule.condition.test({"warning_signs": ["saddle_numbness"]})
    assert signs.routes[-1].condition is None
    severity = flow.steps["severity"]
    assert (severity.kind, severity.minimum, severity.maximum, severity.columns) == (
        StepKind.NUMBER, 0, 10, 6,
    )  # fmt: skip
    assert flow.steps["emergency"].urgent and not flow.steps["emergency"].booking
    assert flow.steps["book"].booking
    assert [r.each for r in flow.steps["see_doctor"].reasons] == ["warning_signs", None]
    assert flow.reasons["below_knee"].get("es", "en") == "el dolor baja por debajo de la rodilla"
    assert flow.safety_net is not None and flow.safety_net.target == "emergency"
    assert [c.id for c in flow.safety_net.concepts] == ["saddle_numbness", "bladder_change"]
    assert flow.safety_net.concepts[1].concept.when == (("cannot", "pee"),)
    assert flow.safety_net.words["pee"]["es"] == ("orin*", "pis", "vejiga")


def test_any_change_to_the_file_changes_the_version() -> None:
    one = load_flow("f.yaml", text=SMALL)
    two = load_flow("f.yaml", text=SMALL.replace("Keep moving.", "Keep moving gently."))
    assert one.version.startswith("3-") and two.version.startswith("3-")
    assert one.version != two.version


def test_yes_and_no_stay_option_ids_not_booleans() -> None:
    # YAML 1.1 reads yes/no as true/false; here they are ids the rules compare with.
    flow = load_flow("f.yaml", text=SMALL)
    assert [o.id for o in flow.steps["sitting"].options] == ["yes", "no"]
    compiled = load_compiled("f.yaml", text=SMALL)
    assert compiled.route("sitting", {"sitting": "yes"}) == "piriformis"
    assert compiled.route("sitting", {"sitting": "no"}) == "general"


def test_safety_net_words_keep_what_the_therapist_wrote_and_match_like_typed_text() -> None:
    net = (
        "start: sitting\nsafety_net:\n  goto: general\n  words:\n"
        '    cannot: {en: ["Can’t", unable]}\n    pee: {en: [PEE]}\n'
        "  concepts:\n    bladder:\n      sign: trouble peeing\n      when: [cannot + pee]\n"
    )
    urgent = SMALL.replace("start: sitting\n", net).replace(
        "  general:\n    type: outcome\n", "  general:\n    type: outcome\n    urgent: true\n"
    )
    compiled = load_compiled("f.yaml", text=urgent)
    assert compiled.flow.safety_net is not None
    assert compiled.flow.safety_net.words["cannot"] == {"en": ("Can’t", "unable")}
    assert compiled.screener.screen("i cant peeee").verdict.value == "none"  # a typo of 2
    assert compiled.screener.screen("I CAN NOT pee!").verdict.value == "emergency"


def test_urgent_outcomes_read_their_own_disclaimer() -> None:
    text = SMALL.replace(
        'disclaimer: "A massage therapist cannot diagnose."\n',
        'disclaimer: "If worried, see your doctor."\n'
        'urgent_disclaimer: { en: "We cannot diagnose." }\n',
    ).replace("    booking: true\n", "    urgent: true\n")
    flow = load_flow("f.yaml", text=text)
    assert flow.urgent_disclaimer is not None
    assert flow.urgent_disclaimer.get("en", "en") == "We cannot diagnose."
    urgent, calm = flow.steps["piriformis"], flow.steps["general"]
    assert flow.disclaimer_for(urgent) is flow.urgent_disclaimer
    assert flow.disclaimer_for(calm) is flow.disclaimer


def test_outcome_paragraphs_are_read_in_order_with_their_conditions() -> None:
    text = SMALL.replace(
        '    text: "Keep moving."\n',
        '    text: "Keep moving."\n'
        "    more:\n"
        '      - if: sitting == "no"\n'
        '        text: { en: "Sitting is fine." }\n'
        '      - text: "Thank you."\n',
    )
    flow = load_flow("f.yaml", text=text)
    first, second = flow.steps["general"].more
    assert first.text.get("en", "en") == "Sitting is fine."
    assert first.condition is not None and first.condition.source == 'sitting == "no"'
    assert first.condition.test({"sitting": "no"}) and not first.condition.test({})
    assert first.where == Where("f.yaml", 23, 9)
    assert second.condition is None and second.text.get("en", "en") == "Thank you."
    assert flow.steps["piriformis"].more == ()


def test_defaults_for_optional_keys() -> None:
    flow = load_flow("f.yaml", text=SMALL)
    assert flow.languages == ("en",)
    assert flow.title.get("en", "en") == "small"
    assert flow.safety_net is None and flow.safety_line is None
    assert flow.urgent_disclaimer is None
    assert flow.steps["sitting"].columns == 1
    assert not flow.steps["general"].booking and not flow.steps["general"].urgent


def test_conditions_written_over_several_lines_are_read() -> None:
    text = SMALL.replace(
        '      - if: sitting == "yes"\n',
        '      - if: >-\n          sitting == "yes"\n          or sitting == "no"\n',
    )
    flow = load_flow("f.yaml", text=text)
    condition = flow.steps["sitting"].routes[0].condition
    assert condition is not None
    assert condition.source == 'sitting == "yes" or sitting == "no"'


def test_load_compiled_gives_the_shared_machine() -> None:
    compiled = load_compiled(EXAMPLE)
    assert isinstance(compiled, CompiledFlow)
    answers = {"warning_signs": ["none"], "radiation": "below_knee", "severity": 3}
    assert compiled.route("severity", answers) == "nerve"


# --- the example through the engine ----------------------------------------------------------


@pytest.fixture
def engine() -> Engine:
    return Engine(load_compiled(EXAMPLE), SETTINGS)


def test_example_runs_to_an_outcome_with_reasons(engine: Engine) -> None:
    result = engine.start(language="en")
    assert result.session.step == "warning_signs"
    assert "Hello!" in result.replies[0].text and "call 999 now" in result.replies[0].text
    for message in (
        Toggle("warning_signs", "fever"),
        Toggle("warning_signs", "none"),  # exclusive: clears the fever tick
        Done("warning_signs"),
        Choose("radiation", "below_knee"),
        Number("severity", 8),
    ):
        result = engine.handle(result.session, message)
        assert result.accepted
    session = result.session
    assert session.outcome == "see_doctor"
    assert session.reasons == ["severe_pain"]
    outcome = result.replies[-1]
    assert outcome.kind is ReplyKind.OUTCOME
    assert "your pain is 8 out of 10" in outcome.text
    assert "cannot diagnose" in outcome.text and "call 999 now" in outcome.text


def test_example_in_spanish_books_a_massage(engine: Engine) -> None:
    result = engine.start(language="es-ES")
    assert result.session.language == "es"
    result = engine.handle(result.session, Toggle("warning_signs", "none"))
    result = engine.handle(result.session, Done("warning_signs"))
    assert result.replies[-1].text == "¿Hasta dónde baja el dolor?"
    result = engine.handle(result.session, Choose("radiation", "back_only"))
    result = engine.handle(result.session, Text("4"))
    assert result.session.outcome == "book"
    outcome = result.replies[-1]
    assert "https://example.com/book" in outcome.text
    assert outcome.link is not None and outcome.link.url == "https://example.com/book"


def test_example_safety_net_and_ticked_reasons(engine: Engine) -> None:
    result = engine.start()
    netted = engine.handle(result.session, Text("Help, I CAN’T pee"))
    assert netted.session.outcome == "emergency" and netted.replies[-1].urgent

    result = engine.handle(result.session, Toggle("warning_signs", "fever"))
    result = engine.handle(result.session, Done("warning_signs"))
    assert result.session.outcome == "see_doctor"
    assert result.session.reasons == ["fever"]
    assert "A high temperature" in result.replies[-1].text  # each: the option's label


# --- how problems are shown ------------------------------------------------------------------


def test_problem_renders_like_a_compiler_error() -> None:
    text = SMALL.replace("goto: general", "goto: generl")
    with pytest.raises(FlowError) as caught:
        load_flow("flows/small.yaml", text=text)
    assert str(caught.value) == (
        "flows/small.yaml:14:15  'generl' is not a step in this flow.\n"
        "    14 |       - goto: generl\n"
        "       |               ^^^^^^\n"
        "Did you mean 'general'? Steps are: sitting, piriformis, general.\n"
        "\n"
        "Found 1 error in flows/small.yaml."
    )
    (problem,) = caught.value.problems
    assert (problem.line, problem.column, problem.end_column) == (14, 15, 21)
    assert problem.severity == "error"


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = (
        SMALL.replace("version: 3", "version: three")
        .replace('sitting == "yes"', 'sitting == "maybe"')
        .replace("goto: general", "goto: generl")
        .replace("    booking: true", "    booking: yes please")
    )
    assert errors(text) == [
        "2:10 The version must be a whole number, not the text 'three'.",
        "12:24 'maybe' is not an option of 'sitting'.",
        "14:15 'generl' is not a step in this flow.",
        "17:14 'booking' must be true or false, not the text 'yes please'.",
    ]


def test_caret_points_inside_a_quoted_condition() -> None:
    text = SMALL.replace('      - if: sitting == "yes"', "      - if: 'sitting == \"yes\" and and'")
    (problem,) = check_flow("f.yaml", text=text)
    # 'sitting == "yes" and and': the second 'and' is at offset 21, after the opening quote.
    assert problem.column == 13 + 1 + 21
    assert (
        problem.message
        == "This condition cannot be read. 'and' is a keyword and cannot stand here."
    )


def test_warnings_do_not_stop_loading() -> None:
    text = SMALL.replace("start: sitting", "languages: [en, es]\nstart: sitting")
    problems = check_flow("f.yaml", text=text)
    assert problems and all(p.severity == "warning" for p in problems)
    assert {p.message for p in problems} == {"This text is only in en; it has no 'es' translation."}
    assert load_flow("f.yaml", text=text).languages == ("en", "es")


def test_missing_file_is_one_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(FlowError) as caught:
        load_flow(tmp_path / "nowhere.yaml")
    assert str(caught.value).startswith(f"{tmp_path / 'nowhere.yaml'}  There is no flow file at")


def test_empty_file_and_wrong_shape() -> None:
    assert errors("") == ["1:1 This flow file is empty."]
    assert errors("- a\n- b\n") == [
        "1:1 A flow file is a group of keys (flow:, version:, start:, steps: ...), "
        "but this file holds a list."
    ]


def test_anchor_loop_is_reported_not_followed() -> None:
    text = "flow: x\nversion: 1\nstart: a\nsteps:\n  a: &a\n    next: [*a]\n"
    assert "5:6 This refers to itself (a YAML anchor loop)." in errors(text)


# --- rules and missing answers ---------------------------------------------------------------

OPTIONAL = """\
flow: optional
version: 1
start: location
steps:
  location:
    type: choice
    text: "Where?"
    options:
      buttock: "Buttock"
      back: "Back"
    next:
      - if: location == "buttock"
        goto: sitting
      - goto: flags
  sitting:
    type: choice
    text: "Worse sitting?"
    options:
      yes: "Yes"
      no: "No"
    next: flags
  flags:
    type: multi
    text: "Any of these?"
    options:
      fever: "Fever"
      weight: "Weight loss"
      none: { label: "None", exclusive: true }
    next:
RULES
  doctor:
    type: outcome
    text: "See a doctor."
  massage:
    type: outcome
    text: "Book a massage."
disclaimer: "A massage therapist cannot diagnose."
"""


def rules(*lines: str) -> str:
    return OPTIONAL.replace("RULES\n", "".join(f"      {line}\n" for line in lines))


def test_a_question_skipped_on_some_paths_counts_as_not_answered() -> None:
    text = rules(
        '- if: sitting == "yes"',
        "  goto: massage",
        '- if: sitting == "no"',
        "  goto: doctor",
    )
    (problem,) = [p for p in check_flow("f.yaml", text=text) if p.is_error]
    assert problem.message.startswith("Some answers match none of the rules of 'flags'")
    assert problem.hint.startswith("For example: 'sitting' not answered.")


def test_not_of_a_missing_answer_holds_so_there_is_no_gap() -> None:
    text = rules(
        '- if: sitting == "yes"',
        "  goto: massage",
        '- if: not (sitting == "yes")',
        "  goto: doctor",
    )
    assert errors(text) == []


def test_multi_select_gap_found_over_unmentioned_and_exclusive_ticks() -> None:
    text = rules(
        "- if: '\"fever\" in flags'",
        "  goto: doctor",
        '- if: flags has "none"',
        "  goto: massage",
    )
    (problem,) = [p for p in check_flow("f.yaml", text=text) if p.is_error]
    assert problem.hint.startswith("For example: 'flags' with 'weight' ticked.")


def test_exclusive_option_is_never_ticked_with_others() -> None:
    # "none" is always alone, so asking for it together with "fever" can never hold.
    text = rules(
        '- if: flags has all of ["none", "fever"]',
        "  goto: doctor",
        "- goto: massage",
    )
    assert errors(text) == ["30:13 No answer can make this rule true, so it is never used."]


def test_every_tick_combination_covered_means_no_gap() -> None:
    text = rules(
        '- if: flags has any of ["fever", "weight"]',
        "  goto: doctor",
        '- if: flags has none of ["fever", "weight"]',
        "  goto: massage",
    )
    assert errors(text) == []


def test_reason_rule_that_can_never_hold() -> None:
    text = rules('- if: flags has "fever"', "  goto: doctor", "- goto: massage").replace(
        '    text: "See a doctor."',
        '    text: "See a doctor."\n    reasons:\n      - if: \'"fever" in location\'\n'
        "        reason: fever",
    )
    text = text.replace("steps:\n", 'reasons:\n  fever: "you have a fever"\nsteps:\n')
    # '"fever" in location': 'in' is at offset 8, after the opening quote in column 13.
    assert errors(text) == [
        "39:22 'location' holds one answer, not a list of ticks, so 'in' does not work this "
        "way round."
    ]


def test_callback_data_limit_is_bot_callback_size() -> None:
    step = "where"
    room = MAX_BYTES - size(Action.CHOOSE, step, "")
    fits, too_long = "o" * room, "o" * (room + 1)
    text = (
        SMALL.replace("sitting", step)
        .replace('      yes: "Yes"', f'      {fits}: "Yes"')
        .replace('      no: "No"', f'      {too_long}: "No"')
    )
    text = text.replace(f'{step} == "yes"', f'{step} == "{fits}"')
    found = errors(text)
    assert found == [f"10:7 The button for '{too_long}' would carry {MAX_BYTES + 1} bytes of data."]


def test_multi_select_done_button_counts_too() -> None:
    long_id = "q" * (MAX_BYTES - size(Action.DONE, "", "") + 1)
    text = (
        rules("- goto: doctor")
        .replace("  flags:", f"  {long_id}:")
        .replace("goto: flags", f"goto: {long_id}")
    )
    messages = errors(text)
    assert any(f"The Done button of '{long_id}' would carry" in m for m in messages)


def test_caret_points_inside_a_condition_written_over_several_lines() -> None:
    text = SMALL.replace(
        '      - if: sitting == "yes"\n',
        '      - if: >-\n          sitting == "yes"\n          and sittin == "no"\n',
    )
    (problem,) = check_flow("f.yaml", text=text)
    assert (problem.line, problem.column, problem.end_column) == (14, 15, 21)
    assert problem.message == "'sittin' is not a question in this flow."
    assert problem.hint.startswith("Did you mean 'sitting'?")
