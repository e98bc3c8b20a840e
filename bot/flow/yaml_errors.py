"""YAML syntax errors in plain words.

PyYAML's messages ("expected <block end>, but found '<scalar>'") are written for people who
know the YAML grammar. A therapist needs to know which line, what probably happened, and
what to type instead. The usual causes are few: a text containing ``: `` that needs quotes,
a value that starts with a quote but goes on after it (``if: "x" in flags``), a quote never
closed, a line out of step with its neighbours, or a list in brackets not closed.
"""

from __future__ import annotations

import re

import yaml

from bot.flow.source import SourceProblem, Span

# `key: "quoted" and more` (also as a list item): YAML reads only the quoted part.
_QUOTED_START = re.compile(r"""^\s*(?:-\s+)?[^\s:#'"][^:#]*:\s+(["'])(?:(?!\1).)*\1\s*[^\s#]""")

_INDENTATION_HINT = (
    "Check the indentation: the keys of one step (or one rule) must start in exactly the same "
    "column, and a line that belongs to the line above must be indented further than it."
)


def _mark_span(mark: yaml.Mark | None, lines: list[str]) -> Span:
    if mark is None:
        return Span(0, 0)
    line = min(mark.line, max(len(lines) - 1, 0))
    column = mark.column if mark.line < len(lines) else 0
    return Span(line + 1, column + 1, column + 2)


def _quoted_start(lines: list[str], *marks: yaml.Mark | None) -> SourceProblem | None:
    for mark in marks:
        if mark is None or mark.line >= len(lines):
            continue
        text = lines[mark.line]
        match = _QUOTED_START.match(text)
        if match:
            quote = match.start(1)
            return SourceProblem(
                Span(mark.line + 1, quote + 1, len(text.rstrip()) + 1),
                "This value starts with a quote, so YAML reads only the part in quotes and "
                "does not know what to do with the rest.",
                "Put the whole value in the other kind of quotes, for example:\n"
                "    if: '\"saddle_numbness\" in emergency_flags'",
            )
    return None


def _unclosed_earlier(lines: list[str], mark: yaml.Mark | None) -> SourceProblem | None:
    """A quote closed just before the error spot, opened on an earlier line: most likely
    that earlier text was never closed and YAML read on until the next quote."""
    if mark is None or mark.line >= len(lines):
        return None
    before = lines[mark.line][: mark.column].rstrip()
    if not before or before[-1] not in "\"'":
        return None
    quote = before[-1]
    for index in range(mark.line - 1, max(-1, mark.line - 40), -1):
        text = lines[index].split(" #", 1)[0]
        if text.replace(f"\\{quote}", "").count(quote) % 2 == 1:
            column = text.find(quote)
            return SourceProblem(
                Span(index + 1, column + 1, column + 2),
                "The text in quotes that starts here is never closed.",
                f"Add the closing {quote} at the end of the text. YAML read on until the "
                f"next {quote}, on line {mark.line + 1}.",
            )
    return None


def explain(error: yaml.YAMLError, lines: list[str]) -> SourceProblem:
    """One plain-language problem for a YAML syntax error."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return SourceProblem(Span(0, 0), f"This file cannot be read as YAML: {error}.")
    problem = error.problem or ""
    context = error.context or ""
    here = _mark_span(error.problem_mark, lines)
    started = _mark_span(error.context_mark, lines) if error.context_mark else here

    quoted = _quoted_start(lines, error.problem_mark, error.context_mark)
    if quoted is not None and ("expected" in problem or "mapping values" in problem):
        return quoted
    unclosed = _unclosed_earlier(lines, error.problem_mark)
    if unclosed is not None:
        return unclosed
    if "'\\t'" in problem or "\t" in problem:
        return SourceProblem(
            here,
            "There is a tab character here; use spaces.",
            "YAML only understands spaces between the parts of a line and for indentation.",
        )
    if "quoted scalar" in context:
        return SourceProblem(
            started,
            "The text in quotes that starts here is never closed.",
            "Add the closing quote at the end of the text. Inside a text in double quotes, "
            "write \\\" for a quote; inside single quotes, write two single quotes ''.",
        )
    if "mapping values are not allowed" in problem:
        return SourceProblem(
            here,
            "YAML did not expect a ':' here.",
            "If this is a text that contains ': ' (a colon and a space), put the whole text "
            'in double quotes: text: "Note: ...". Otherwise check that this line lines up '
            "with the lines around it.",
        )
    if "could not find expected ':'" in problem:
        return SourceProblem(
            started,
            "I expected 'name: value' on this line.",
            "A ':' may be missing after the name, or a text in quotes on this line is not closed.",
        )
    if "single document" in context:
        return SourceProblem(
            here,
            "This file holds more than one YAML document (a line with ---).",
            "Keep one flow per file: remove this --- line and what follows, or move it to "
            "another file.",
        )
    if "undefined alias" in problem or "alias" in context or "anchor" in context:
        return SourceProblem(
            here,
            "A value cannot start with '*' or '&' unless it is in quotes.",
            'Put the text in double quotes: text: "*Important* ..."',
        )
    if "cannot start any token" in problem:
        char = re.search(r"character '(.+?)'", problem)
        shown = char.group(1) if char else "this character"
        return SourceProblem(
            here,
            f"A value cannot start with '{shown}' unless it is in quotes.",
            f'Put the whole text in double quotes: text: "{shown}..."',
        )
    if "flow sequence" in context:
        return SourceProblem(
            started,
            "This list in [square brackets] is not closed, or two items miss a comma.",
            'Write lists like ["saddle_numbness", "bladder_change"] on one line.',
        )
    if "flow mapping" in context:
        return SourceProblem(
            started,
            "This group in {curly brackets} is not closed, or two items miss a comma.",
            'Write it like { en: "Yes", es: "Sí" } on one line, or put a text that starts '
            "with { in quotes.",
        )
    if "block sequence" in context or "'-' indicator" in problem:
        return SourceProblem(
            here,
            "This line is out of step with the list items above it.",
            "Items of one list start with '- ' in the same column. " + _INDENTATION_HINT,
        )
    if "block mapping" in context or "expected <block end>" in problem:
        return SourceProblem(
            here, "This line is out of step with the lines above it.", _INDENTATION_HINT
        )
    return SourceProblem(
        here,
        f"This is not valid YAML here ({problem or context or 'syntax error'}).",
        _INDENTATION_HINT,
    )
