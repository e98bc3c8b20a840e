"""Problems found in a flow file, and how they are shown to the therapist.

Every problem points at a place (file, 1-based line and column), says in plain words what is
wrong and, where it can, how to fix it. They are rendered the way the Elm and Rust compilers
show errors: the line as written, a caret under the spot, then the advice::

    flows/sciatica.yaml:42:11  'radiaton' is not a step in this flow.
        42 |     next: radiaton
           |           ^^^^^^^^
    Did you mean 'radiation'? Steps are: location, radiation, severity, ...

Hierarchy: :class:`FlowError` is the only exception the loader raises for a therapist's
mistakes; it carries every :class:`Problem` at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.errors import SetupError

Severity = Literal["error", "warning"]

MAX_LISTED = 12  # names listed in a hint before "..."


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (``error``) or worth a look (``warning``) in a flow file.

    ``line`` and ``column`` are 1-based; ``line == 0`` means the file as a whole.
    ``end_column`` is the column just after the marked text (so the caret covers
    ``end_column - column`` characters); ``None`` marks a single character.
    ``excerpt`` is the source line, kept so that a problem renders on its own.
    """

    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    severity: Severity = "error"
    end_column: int | None = None
    excerpt: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def location(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"

    def render(self) -> str:
        label = "warning: " if self.severity == "warning" else ""
        lines = [f"{self.location}  {label}{self.message}"]
        if self.excerpt is not None and self.line > 0:
            gutter = " " * len(str(self.line))
            # A tab is one column to YAML; show it as one visible character so the caret
            # stays under the right spot.
            shown = self.excerpt.replace("\t", "→")
            width = max(1, (self.end_column or self.column + 1) - self.column)
            width = min(width, max(1, len(shown) - self.column + 1))
            lines.append(f"    {self.line} | {shown}".rstrip())
            lines.append(f"    {gutter} | {' ' * (self.column - 1)}{'^' * width}")
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """File order; at the same spot errors before warnings. Exact duplicates dropped."""
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.file, p.line, p.column, p.severity != "error"))


def render_problems(problems: Sequence[Problem]) -> str:
    """All problems, one block each, then a one-line summary."""
    blocks = [problem.render() for problem in problems]
    return "\n\n".join([*blocks, summary(problems)])


def summary(problems: Sequence[Problem]) -> str:
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    files = sorted({p.file for p in problems})
    where = f" in {', '.join(files)}" if files else ""
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return f"Found {' and '.join(parts) or 'no problems'}{where}."


class FlowError(SetupError):
    """A flow file that cannot be used. ``problems`` holds every problem found, in file order
    (errors and warnings); ``str(error)`` renders them all for the therapist."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = sort_problems(problems)
        super().__init__(render_problems(self.problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def __str__(self) -> str:
        return render_problems(self.problems)


# --- advice ----------------------------------------------------------------------------------


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice a typo most likely meant, if any is close enough."""
    options = [c for c in choices if c]
    found = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not found:
        lowered = {c.lower(): c for c in options}
        found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        found = [lowered[f] for f in found]
    return found[0] if found else None


def listing(names: Iterable[str], limit: int = MAX_LISTED) -> str:
    items = list(names)
    shown = ", ".join(items[:limit])
    return f"{shown} and {len(items) - limit} more" if len(items) > limit else shown


def did_you_mean(word: str, choices: Sequence[str], what: str) -> str:
    """``Did you mean 'severity'? Steps are: location, radiation, ...``"""
    guess = closest(word, choices)
    known = f"{what} are: {listing(choices)}." if choices else f"There are no {what.lower()}."
    if guess is not None:
        return f"Did you mean '{guess}'? {known}"
    return known
