"""YAML syntax errors in plain words.

PyYAML's messages ("expected <block end>, but found '<scalar>'") are written for people who
know the YAML grammar. A therapist needs to know which line, what probably happened, and
what to type instead. The usual causes are few: a text containing ``: `` that needs quotes,
a value that starts with a quote but goes on after it (``if: "x" in flags``), a quote never
closed (pointed at where it opens, not where YAML noticed), an apostrophe inside single
quotes, curly quotes typed by a word processor, a rule without its ``- ``, a line out of step
with its neighbours, or a list in brackets not closed.
"""

from __future__ import annotations

import re

import yaml

from bot.flow.keys import (
    ALL_STEP_KEYS,
    OPTION_KEYS,
    REASON_RULE_KEYS,
    RULE_KEYS,
    SAFETY_NET_KEYS,
    TOP_KEYS,
)
from bot.flow.positions import TOO_DEEP, TOO_DEEP_HINT, SourceProblem, Span

# The names of the flow language: `type number` above `text:` is a missing ':', while
# `Hello there` above `note: ...` is a text with a ':' in it.
FLOW_NAMES = TOP_KEYS | ALL_STEP_KEYS | OPTION_KEYS | RULE_KEYS | REASON_RULE_KEYS | SAFETY_NET_KEYS

# `key: "quoted" and more` (also as a list item): YAML reads only the quoted part.
_QUOTED_START = re.compile(r"""^\s*(?:-\s+)?[^\s:#'"][^:#]*:\s+(["'])(?:(?!\1).)*\1\s*[^\s#]""")

# `type number`: a name, a space and a value, with no ':' between them (not a list item, a
# comment or a text in quotes). Group 1 is the name, group 2 the value, without the spaces
# after it. The value is words, each after a possessive run of spaces (``\s*+``), so a run
# is read once: linear in the line's length. Written as ``[^:#]*?\s*`` the value and the
# spaces after it could split a long run of spaces in every way before a ':' refused the
# line, and one 8,000-character line took seconds to explain.
_NAME_WITHOUT_COLON = re.compile(
    r"""^\s*+([A-Za-z_][A-Za-z0-9_]*+)[ ]++([^\s:#](?:\s*+[^\s:#])*+)\s*+(?:#.*)?$"""
)

_NAME_ALONE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:#.*)?$")
_ONE_VALUE = re.compile(r"""^(?:["'{\[].*|[\w.+-]+)$""")

_INDENTATION_HINT = (
    "Check the indentation: the keys of one step (or one rule) must start in exactly the same "
    "column, and a line that belongs to the line above must be indented further than it."
)


CURLY = "“”‘’„«»"  # typographic quotes a word processor types for " and '
_STRAIGHT = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})

# Where a value starts on a line, so a quote there opens a text: after "key: ", "- ", "[",
# "{" or ", " (YAML reads a quote anywhere else as an ordinary character).
_VALUE_START = re.compile(r"""(?:^\s*(?:-\s+)*|:\s+|[\[{,]\s*)(["'])""")

# The rule keys a line starts with when it is a rule (or reason rule, or paragraph).
_RULE_LINE = re.compile(r"^(\s*)(if|goto|reason|each|text):(?:\s|$)")


def straight(text: str) -> str:
    """``text`` with typed curly quotes made straight."""
    return text.translate(_STRAIGHT)


def _code(line: str) -> str:
    """The line without a comment (a # after a space, outside quotes: near enough here)."""
    return line.split(" #", 1)[0]


def _curly_quotes(lines: list[str], *marks: yaml.Mark | None) -> SourceProblem | None:
    for mark in marks:
        if mark is None or mark.line >= len(lines):
            continue
        text = _code(lines[mark.line])
        found = next((i for i, char in enumerate(text) if char in CURLY), None)
        if found is None:
            continue
        return SourceProblem(
            Span(mark.line + 1, found + 1, found + 2),
            f"{text[found]} is a curly quote, as a word processor types it: YAML only "
            "understands the straight quotes \" and ' around a text.",
            "Type the quotes again in this editor (straight quotes):\n    "
            + straight(text.strip()),
        )
    return None


def _apostrophe(lines: list[str], *marks: yaml.Mark | None) -> SourceProblem | None:
    """``'Isn't it worse?'``: the apostrophe ends a text in single quotes early."""
    for mark in marks:
        if mark is None or mark.line >= len(lines):
            continue
        text = _code(lines[mark.line])
        for match in _VALUE_START.finditer(text):
            if match.group(1) != "'":
                continue
            start = match.end(1)
            end = _closing(text, start, "'")
            if end is None or end + 1 >= len(text):
                continue
            before, after = text[end - 1], text[end + 1]
            if not (before.isalpha() and after.isalpha()):
                continue
            close = re.search(r"'(?=\s*(?:[,}\]]|$))", text[end + 1 :])
            whole = text[start : end + 1 + close.start()] if close else text[start:]
            word = re.search(r"\w+'\w+", text[end - 20 if end > 20 else 0 : end + 20])
            shown = word.group(0) if word else "it"
            return SourceProblem(
                Span(mark.line + 1, end + 1, end + 2),
                f"This text is in single quotes, so the apostrophe in {shown} ends it early.",
                f'Put the text in double quotes instead:  "{whole}"  (or, keeping the single '
                f"quotes, write each apostrophe twice:  '{whole.replace(chr(39), chr(39) * 2)}')",
            )
    return None


def _closing(text: str, start: int, quote: str) -> int | None:
    """The index of the quote that closes a text opened just before ``start``."""
    index = start
    while index < len(text):
        char = text[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and text[index + 1 : index + 2] == "'":
                index += 2
                continue
            return index
        index += 1
    return None


def unclosed_on_line(text: str) -> int | None:
    """The column (0-based) of a quote on this line that opens a text never closed on it.

    ``{ en: "Lower back, es: "Zona" }``: the text opened after ``en:`` runs to the quote that
    was meant to open the next one (it ends in ``: `` or ``, `` and a word follows at once),
    so YAML complains further on; the quote to close is the first one.
    """
    code = _code(text)
    for match in _VALUE_START.finditer(code):
        quote = match.group(1)
        start = match.end(1)
        end = _closing(code, start, quote)
        if end is None:
            continue
        inside, after = code[start:end], code[end + 1 : end + 2]
        if inside.endswith((": ", ", ")) and (after.isalnum() or after in "*_¿¡"):
            return start - 1
    return None


def _unclosed_here(lines: list[str], *marks: yaml.Mark | None) -> SourceProblem | None:
    for mark in marks:
        if mark is None or mark.line >= len(lines):
            continue
        column = unclosed_on_line(lines[mark.line])
        if column is None:
            continue
        quote = lines[mark.line][column]
        return SourceProblem(
            Span(mark.line + 1, column + 1, column + 2),
            "The text in quotes that starts here is never closed.",
            f"Add the closing {quote} at the end of the text: YAML read on to the next {quote}, "
            "which was meant to open the next text.",
        )
    return None


def _rule_without_dash(lines: list[str], mark: yaml.Mark | None) -> SourceProblem | None:
    """A rule written without its '- ' at the column of the dashes above it."""
    if mark is None or mark.line >= len(lines):
        return None
    match = _RULE_LINE.match(lines[mark.line])
    if match is None:
        return None
    indent = len(match.group(1))
    for index in range(mark.line - 1, max(-1, mark.line - 30), -1):
        above = lines[index]
        if not above.strip() or above.lstrip().startswith("#"):
            continue
        if _indent(above) < indent:
            return None
        if _indent(above) == indent and above.lstrip().startswith("- "):
            key = match.group(2)
            return SourceProblem(
                Span(mark.line + 1, indent + 1, indent + 1 + len(key)),
                f"This line has no '- ' in front, but the {_what(key)}s above it do: each "
                f"{_what(key)} of a list starts with '- '.",
                f"Write it as  - {lines[mark.line].strip()}  with the dash in the same column "
                "as the dashes above, and the lines that belong to it indented two more.",
            )
    return None


def _what(key: str) -> str:
    return {"reason": "reason rule", "each": "reason rule", "text": "paragraph"}.get(key, "rule")


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


def _unclosed_earlier(lines: list[str], *marks: yaml.Mark | None) -> SourceProblem | None:
    """A quote closed just before the error spot, opened on an earlier line: most likely
    that earlier text was never closed and YAML read on until the next quote.

    The spot is the problem's mark, or the start of what YAML was scanning there: in
    ``es: "**Bold**`` YAML read the closing quote, then took ``*`` for an alias and
    complained one character later."""
    for mark in marks:
        if mark is None or mark.line >= len(lines):
            continue
        before = lines[mark.line][: mark.column].rstrip()
        found = _opened_above(lines, mark, before[-1]) if before[-1:] in ('"', "'") else None
        if found is not None:
            return found
    return None


def _opened_above(lines: list[str], mark: yaml.Mark, quote: str) -> SourceProblem | None:
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


def _missing_colon(lines: list[str], line: int) -> SourceProblem | None:
    """``type number`` on ``line`` (0-based): a name and a value without the ':' between.

    Only when the name is one of the flow's own, or the rest is one value (a number, an id,
    a text in quotes, a group in brackets): ``and more words`` is more likely a text that
    went on to a line of its own.
    """
    if line < 0 or line >= len(lines):
        return None
    match = _NAME_WITHOUT_COLON.match(lines[line])
    if match is None:
        return None
    name, value = match.groups()
    if name not in FLOW_NAMES and not _ONE_VALUE.match(value):
        return None
    return SourceProblem(
        Span(line + 1, match.start(1) + 1, match.end(1) + 1),
        f"A ':' seems to be missing after '{name}'.",
        f"Write a ':' and a space between a name and its value:  {name}: {value}",
    )


def _bare_name(lines: list[str], line: int) -> SourceProblem | None:
    """``welcome`` on ``line`` (0-based) above its indented ``type: message``: the id of a
    group lost its ':'."""
    alone = _NAME_ALONE.match(lines[line]) if 0 <= line < len(lines) else None
    below = _line_below(lines, line)
    if alone is None or below < 0 or _indent(lines[below]) <= _indent(lines[line]):
        return None
    name = alone.group(1)
    return SourceProblem(
        Span(line + 1, alone.start(1) + 1, alone.end(1) + 1),
        f"A ':' seems to be missing after '{name}'.",
        f"The lines indented below belong to it: write  {name}:",
    )


def _line_below(lines: list[str], line: int) -> int:
    """The nearest line below ``line`` (0-based) with something on it, or -1."""
    for index in range(line + 1, len(lines)):
        text = lines[index].strip()
        if text and not text.startswith("#"):
            return index
    return -1


def _line_above(lines: list[str], line: int) -> int:
    """The nearest line above ``line`` (0-based) with something on it, or -1."""
    for index in range(min(line, len(lines)) - 1, -1, -1):
        text = lines[index].strip()
        if text and not text.startswith("#"):
            return index
    return -1


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _colon_missing_above(lines: list[str], mark: yaml.Mark | None) -> SourceProblem | None:
    """``type number`` followed by ``text:`` at the same indentation.

    As the first key of a group, the name without its ':' starts a plain text that YAML
    reads on into the next line (``type number text``) until it meets that line's ':',
    and complains there. Only when the line above looks like one of the flow's own names
    and a value: a text going on over several lines can look the same (``Hello there``
    above ``note: ...``), and then the ':' in the text is the mistake.
    """
    if mark is None or mark.line >= len(lines):
        return None
    here = lines[mark.line]
    above = _line_above(lines, mark.line)
    if above < 0:
        return None
    bare = _bare_name(lines, above)
    if bare is not None:
        return bare
    if _indent(lines[above]) != _indent(here):
        return None
    match = _NAME_WITHOUT_COLON.match(lines[above])
    if match is None or not (match.group(1) in FLOW_NAMES or match.group(2)[0] in "\"'{["):
        return None
    return _missing_colon(lines, above)


def explain(error: yaml.YAMLError, lines: list[str]) -> SourceProblem:
    """One plain-language problem for a YAML syntax error."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return SourceProblem(
            Span(0, 0),
            "This file cannot be read as YAML.",
            "Check it against the examples in docs/flow-language.md: names and values as  "
            "name: value, indented with spaces.",
        )
    problem = error.problem or ""
    context = error.context or ""
    here = _mark_span(error.problem_mark, lines)
    if "nesting depth" in problem:  # libyaml stops at 1,000 levels
        return SourceProblem(here, TOO_DEEP, TOO_DEEP_HINT)
    started = _mark_span(error.context_mark, lines) if error.context_mark else here

    marks = (error.problem_mark, error.context_mark)
    for found in (
        _curly_quotes(lines, *marks),
        _apostrophe(lines, *marks),
        _unclosed_here(lines, *marks),
        _rule_without_dash(lines, error.problem_mark),
    ):
        if found is not None:
            return found
    quoted = _quoted_start(lines, error.problem_mark, error.context_mark)
    if quoted is not None and ("expected" in problem or "mapping values" in problem):
        return quoted
    scanning = error.context_mark if context.startswith("while scanning") else None
    unclosed = _unclosed_earlier(lines, error.problem_mark, scanning)
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
        missing = _colon_missing_above(lines, error.problem_mark)
        if missing is not None:
            return missing
        return SourceProblem(
            here,
            "YAML did not expect a ':' here.",
            "If this is a text that contains ': ' (a colon and a space), put the whole text "
            'in double quotes: text: "Note: ...". Otherwise check that this line lines up '
            "with the lines around it.",
        )
    if "could not find expected ':'" in problem:
        if error.context_mark is not None:
            line = error.context_mark.line
            missing = _missing_colon(lines, line) or _bare_name(lines, line)
            if missing is not None:
                return missing
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
        "This line cannot be read: it does not fit with the lines around it.",
        _INDENTATION_HINT,
    )
