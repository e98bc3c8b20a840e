"""Condition checks (being written)."""

from __future__ import annotations

from typing import Any

from bot.flow.draft import FlowDraft
from bot.flow.report import Report


def check_conditions(draft: FlowDraft, report: Report, graph: Any) -> Any:
    return None
