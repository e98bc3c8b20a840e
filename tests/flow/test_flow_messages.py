"""Messages that point the right way for the mistakes a therapist really makes (the broken-flow
corpus holds one file each; these are the variants around them)."""

from __future__ import annotations

import pytest

from bot.flow import check_flow
from bot.flow.conditions import ConditionSyntaxError, parse_condition
from bot.flow.yaml_errors import unclosed_on_line

FLOW = """\
flow: words
version: 1
languages: [en, es]
start: where
disclaimer: { en: "We cannot diagnose.", es: "No podemos diagnosticar." }
steps:
  where:
    type: choice
    text: { en: "Where?", es: "¿Dónde?" }
    options:
      back: { en: "Back", es: "Espalda" }
      hip: { en: "Hip", es: "Cadera" }
    next: done
  done:
    type: outcome
    text: { en: "Thanks.", es: "Gracias." }
"""


def problems(text: str) -> list[str]:
    return [
        f"{p.severity} {p.line}:{p.column} {p.message}" for p in check_flow("f.yaml", text=text)
    ]


def test_languages_without_brackets_are_read_and_pointed_out_once() -> None:
    found = problems(FLOW.replace("languages: [en, es]", "languages: en, es"))
    assert found == [
        "error 3:12 The languages are one text here, 'en, es': a list needs [square brackets]."
    ]


def test_a_text_cut_at_two_commas_is_told_once_with_the_whole_text() -> None:
    text = FLOW.replace(
        'text: { en: "Where?", es: "¿Dónde?" }', "text: { en: Where, roughly, is it?, es: Dónde }"
    )
    (problem,) = [p for p in check_flow("f.yaml", text=text)]
    assert problem.message.endswith("YAML read 'roughly' as one more language.")
    assert problem.hint == 'Put the text in double quotes:  en: "Where, roughly, is it?"'


def test_a_text_wrapped_in_curly_quotes_is_a_warning() -> None:
    found = problems(FLOW.replace('en: "Thanks."', "en: “Thanks.”"))
    assert found == [
        "warning 16:17 This text starts and ends with curly quotes (“ ”), as a word processor "
        "types them: YAML does not read them as quotes, so people would see them."
    ]


def test_curly_quotes_around_texts_with_commas_in_braces_are_one_mistake_made_straight() -> None:
    line = "      hip: { en: “Hip, or the side”, es: “Cadera, o el lado” }"
    text = FLOW.replace('      hip: { en: "Hip", es: "Cadera" }', line)
    (problem,) = check_flow("f.yaml", text=text)
    assert (problem.line, problem.column) == (12, 18)
    assert problem.message.startswith("“ is a curly quote, as a word processor types it")
    assert problem.hint == (
        "Type the quotes again in this editor (straight quotes):\n"
        '    hip: { en: "Hip, or the side", es: "Cadera, o el lado" }'
    )
    # A curly quote inside the text is part of it: the text only needs quotes around it.
    inside = FLOW.replace('en: "Where?"', "en: Say “hip”, or where")
    (problem,) = check_flow("f.yaml", text=inside)
    assert problem.hint == 'Put the text in double quotes:  en: "Say “hip”, or where"'


def test_a_step_id_in_curly_quotes_is_one_mistake() -> None:
    found = problems(FLOW.replace("next: done", "next: “done”"))
    assert found == [
        "error 13:11 “done” is in curly quotes, as a word processor types them: a step id "
        "needs no quotes."
    ]


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ('  low: { en: "Lower back, es: "Zona lumbar" }', 13),
        ('      "yes: { en: "Yes", es: "Sí" }', 6),
        ('    text: { en: "Lower back", es: "Zona lumbar" }', None),
        ('    text: "He said "hi" to me"', None),  # a quote inside: another message
        ("    text: 'Isn't it'", None),  # an apostrophe: another message
    ],
)
def test_the_quote_really_left_open_on_a_line(line: str, column: int | None) -> None:
    assert unclosed_on_line(line) == column


@pytest.mark.parametrize(
    ("condition", "message", "hint"),
    [
        (
            'where in "back", "hip"',
            "After 'in', several options go in [square brackets].",
            'Write: where in ["back", "hip"]',
        ),
        (
            'flags has none of "a", "b", "c"',
            "After 'has none of', several options go in [square brackets].",
            'Write: flags has none of ["a", "b", "c"]',
        ),
        (
            "where == ‘back’",
            "‘ is a curly quote, as a word processor types it: conditions only understand "
            "straight quotes around an option id.",
            "Type the quotes again in this editor:  where == 'back'",
        ),
        (
            'where in ["back: "hip"]',
            "This text in quotes is never closed.",
            'Write: where in ["back": "hip"]',
        ),
        (
            'where == "back and hurts == "yes"',
            "This text in quotes is never closed.",
            'Write: where == "back" and hurts == "yes"',
        ),
        (
            'not (where == "back) or hurts == "yes"',
            "This text in quotes is never closed.",
            'Write: not (where == "back") or hurts == "yes"',
        ),
        (
            'where == "back and hurts',  # no way to tell what was meant: close the last one
            "This text in quotes is never closed.",
            'Add a closing ".',
        ),
    ],
)
def test_condition_mistakes_show_the_form_that_works(
    condition: str, message: str, hint: str
) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(condition)
    assert (caught.value.message, caught.value.hint) == (message, hint)
