"""All leads as a CSV file for the therapist (/export), and the short /leads list.

The CSV is what a spreadsheet opens well: UTF-8 with a byte order mark (Excel then reads
accents right), one row per lead, fixed columns first and then one column per question in the
order they were first asked. Text a person typed into their Telegram name could start with
``=``, ``+``, ``-`` or ``@``, which a spreadsheet would run as a formula; such cells get a
leading apostrophe (the usual guard against CSV injection).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from datetime import tzinfo

from bot.storage import Lead
from bot.telegram.practice.leads import format_time, humanise

FIXED = ("id", "created_at_utc", "name", "username", "chat_id", "outcome", "reasons", "source")
ENCODING = "utf-8-sig"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def leads_csv(leads: Sequence[Lead]) -> bytes:
    questions = list(dict.fromkeys(step for lead in leads for step in lead.summary))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([*FIXED, *questions])
    for lead in leads:
        fixed = [
            str(lead.id),
            format_time(lead.created_at).removesuffix(" UTC"),  # the column says UTC
            _cell(lead.name),
            _cell(lead.username),
            str(lead.chat_id),
            lead.outcome or "",
            _cell("; ".join(lead.reasons)),
            _cell(lead.source),
        ]
        answers = [_cell(_text(lead.summary.get(step))) for step in questions]
        writer.writerow([*fixed, *answers])
    return buffer.getvalue().encode(ENCODING)


def leads_html(leads: Sequence[Lead], zone: tzinfo | None = None) -> str:
    """/leads: the newest leads, one line each, with a link to write to the person."""
    if not leads:
        return "No leads yet."
    lines = ["<b>Recent leads</b> (newest first)"]
    for lead in leads:
        e = _escape
        who = f'<a href="tg://user?id={int(lead.chat_id)}">{e(lead.name or "Someone")}</a>'
        if lead.username:
            who += f" @{e(lead.username)}"
        parts = [
            f"#{lead.id}",
            format_time(lead.created_at, zone),
            who,
            f"<b>{e(humanise(lead.outcome or '?'))}</b>",
            e(lead.source or "direct"),
        ]
        lines.append(" · ".join(parts))
    lines.append("/export sends them all as a CSV file.")
    return "\n".join(lines)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _cell(value: str | None) -> str:
    text = value or ""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _escape(text: str) -> str:
    return html.escape(text, quote=True)
