"""One line of ``triage-bot doctor``'s report: what was checked, what was found, the fix."""

from __future__ import annotations

from dataclasses import dataclass

OK_MARK, FAIL_MARK = "✓", "✗"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: what was checked, what was found, and the fix if it failed."""

    name: str
    ok: bool
    found: str
    fix: str | None = None

    def line(self) -> str:
        mark = OK_MARK if self.ok else FAIL_MARK
        text = f"{mark} {self.name}: {self.found}"
        return text if self.ok or not self.fix else f"{text} → {self.fix}"


def passed(name: str, found: str) -> Check:
    return Check(name, True, found)


def failed(name: str, found: str, fix: str) -> Check:
    return Check(name, False, found, fix)
