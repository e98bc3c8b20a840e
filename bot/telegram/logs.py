"""Logging for ``triage-bot run``: one line per record, and the token never written anywhere.

httpx logs every request URL at INFO, and the Bot API puts the token in the URL, so httpx and
httpcore are held at WARNING whatever LOG_LEVEL says (as python-telegram-bot's own examples
do). As a second line of defence a filter on the root handlers replaces the token, and the
webhook secret, in every record, tracebacks included.

The ``transitions`` library logs every state a conversation enters at INFO ("Finished
processing state severity enter callbacks"), which traces each person's path through the
questions; its loggers are held at WARNING unless LOG_LEVEL is DEBUG. ``LOG_FORMAT=json``
writes one JSON object per line instead of text (:mod:`bot.telegram.jsonlogs`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from bot.telegram.jsonlogs import JsonFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HIDDEN = "<hidden>"
# Loggers that would write the token (httpx: URLs) or every request (tornado.access).
QUIET_LOGGERS = ("httpx", "httpcore", "tornado.access")
# Loggers that would write where each person goes (state names) unless we are debugging.
PATH_LOGGERS = ("transitions",)


class RedactSecrets(logging.Filter):
    """Replaces each secret in a record's message and traceback by ``<hidden>``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a token is hidden whole before its secret half is looked for.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, HIDDEN)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def token_secrets(token: str, *others: str | None) -> list[str]:
    """The token, its secret half on its own, and any other secret given."""
    secrets = [token, token.partition(":")[2], *(o for o in others if o)]
    return [s for s in secrets if len(s) >= 8]


def configure_logging(level: str, secrets: Iterable[str], *, fmt: str = "text") -> RedactSecrets:
    """Log to stderr at ``level`` as ``fmt`` (text or json); returns the filter (already on
    every root handler)."""
    root = logging.getLogger()
    ours = next((h for h in root.handlers if getattr(h, "_triage_bot", False)), None)
    if ours is None:
        ours = logging.StreamHandler(sys.stderr)
        ours._triage_bot = True  # type: ignore[attr-defined]
        root.addHandler(ours)
    ours.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(FORMAT))
    root.setLevel(level)
    redactor = RedactSecrets(secrets)
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for name in PATH_LOGGERS:
        quiet = level != "DEBUG"
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)
    return redactor
