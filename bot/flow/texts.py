"""Text checks (being written)."""

from __future__ import annotations

from typing import Any

from bot.flow.draft import FlowDraft
from bot.flow.report import Report


def check_texts(draft: FlowDraft, report: Report, graph: Any) -> None:
    return None
