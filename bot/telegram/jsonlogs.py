"""``LOG_FORMAT=json``: one JSON object per log line, for journald, Docker and log shippers.

A line-per-record text log is fine for a person reading a terminal, but a collector (Loki,
CloudWatch, ``journalctl -o json``) has to guess where a multi-line traceback ends. Here every
record is exactly one line: ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``,
``message``, and ``exception`` (the traceback as text) or ``stack`` when the record has one.

The secrets filter (:class:`bot.telegram.logs.RedactSecrets`) runs on the handler before this
formatter, so the message and the traceback text it reads are already redacted.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON (newlines inside values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _iso(created: float) -> str:
    moment = datetime.fromtimestamp(created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
