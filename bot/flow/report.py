"""Collects the problems of one flow file (or a file beside it) while it is read and checked."""

from __future__ import annotations

from pathlib import Path

from bot.flow.errors import Problem, Severity, sort_problems
from bot.flow.positions import SourceProblem, Span
from bot.flow.source import Reader, YMap, YNode, YScalar, YSeq


def span_of(at: Span | YNode) -> Span:
    if isinstance(at, YScalar | YMap | YSeq):
        return at.span
    return at


class Report:
    def __init__(self, file: str, lines: list[str]) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[Problem] = []

    def add(
        self, at: Span | YNode, message: str, hint: str = "", severity: Severity = "error"
    ) -> None:
        span = span_of(at)
        excerpt = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else None
        end = span.end_column
        if isinstance(at, YMap | YSeq):
            end = None  # mark only where a block starts, not its whole first line
        self.problems.append(
            Problem(
                file=self.file,
                line=span.line,
                column=span.column,
                message=message,
                hint=hint,
                severity=severity,
                end_column=end,
                excerpt=excerpt,
            )
        )

    def error(self, at: Span | YNode, message: str, hint: str = "") -> None:
        self.add(at, message, hint, "error")

    def warning(self, at: Span | YNode, message: str, hint: str = "") -> None:
        self.add(at, message, hint, "warning")

    def source(self, problem: SourceProblem) -> None:
        self.add(problem.span, problem.message, problem.hint)

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)

    def sorted(self) -> list[Problem]:
        return sort_problems(self.problems)


def read_tree(
    path: str | Path, *, text: str | None = None, empty: str, hint: str = ""
) -> tuple[Report, YNode | None]:
    """A YAML file beside a flow (scenarios, safety examples) read with positions: its tree
    (None when there is none to use) and a report already holding what kept it from being
    read (not readable, YAML mistakes, or ``empty`` with ``hint`` for an empty file)."""
    file = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            why = "is not UTF-8 text" if isinstance(error, UnicodeDecodeError) else "cannot be read"
            report = Report(file, [])
            report.problems.append(Problem(file, 0, 0, f"{file} {why}."))
            return report, None
    report = Report(file, text.splitlines())
    reader = Reader(text)
    root = reader.read()
    for problem in reader.problems:
        report.source(problem)
    if root is None and not reader.problems:
        report.error(Span(1, 1), empty, hint)
    return report, root
