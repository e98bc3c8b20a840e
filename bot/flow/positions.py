"""Where something was written in a flow file, and what reading its YAML can find wrong.

Shared by the reader (:mod:`bot.flow.source`), which builds the tree with these positions,
and by the wording of YAML's own syntax errors (:mod:`bot.flow.yaml_errors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# A flow needs a handful of levels (steps, a step, its options, an option's label in each
# language); reading recurses once per level, so hundreds of levels would end in Python's
# RecursionError. Deeper than this is a mistake, reported like any other.
MAX_DEPTH = 32
TOO_DEEP = "This is nested too deeply: a flow needs only a few levels of keys and lists."
TOO_DEEP_HINT = (
    f"Something here is inside more than {MAX_DEPTH} levels of keys, lists or brackets. "
    "Check the indentation, and the [ ] and { } of this part."
)


class Span(NamedTuple):  # a tuple: thousands are made per file, and cheaply
    """Where something was written: 1-based line and column; ``end_column`` is just after
    the text on the same line, or ``None`` when the text runs over several lines."""

    line: int
    column: int
    end_column: int | None = None


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """A problem found while reading the YAML itself, before the flow's meaning is read."""

    span: Span
    message: str
    hint: str = ""
