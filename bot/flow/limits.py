"""Telegram limit checks (being written)."""

from __future__ import annotations

from bot.flow.draft import FlowDraft
from bot.flow.report import Report


def check_limits(draft: FlowDraft, report: Report) -> None:
    return None
