"""Graph and rule analysis (being written)."""

from __future__ import annotations

from typing import Any

from bot.flow.draft import FlowDraft
from bot.flow.report import Report


def analyse_graph(draft: FlowDraft, report: Report) -> Any:
    return None


def analyse_rules(draft: FlowDraft, report: Report, graph: Any, checked: Any) -> None:
    return None
