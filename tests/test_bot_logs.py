"""The logging set-up keeps the token out of every line, tracebacks included."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.telegram.logs import HIDDEN, RedactSecrets, configure_logging, token_secrets

TOKEN = "123456789:AAHk3z_example-token-0123456789abcdefg"
SECRET_HALF = TOKEN.partition(":")[2]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """A root handler like the bot's, with the redaction filter on it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(token_secrets(TOKEN, "webhook-secret-123")))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_the_token_is_hidden_in_messages_arguments_and_tracebacks(
    captured: io.StringIO,
) -> None:
    log = logging.getLogger("test.redaction")
    log.warning("POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
    log.warning("the secret half alone: %s", SECRET_HALF)
    log.warning("webhook secret webhook-secret-123 seen")
    try:
        raise RuntimeError(f"httpx said https://api.telegram.org/bot{TOKEN}/getMe")
    except RuntimeError:
        log.exception("failed")

    written = captured.getvalue()
    assert TOKEN not in written and SECRET_HALF not in written
    assert "webhook-secret-123" not in written
    assert written.count(HIDDEN) == 4
    assert "RuntimeError: httpx said https://api.telegram.org/bot<hidden>/getMe" in written


def test_configure_logging_quiets_httpx_even_at_debug() -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        configure_logging("DEBUG", token_secrets(TOKEN))
        assert root.level == logging.DEBUG
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
        assert all(
            any(isinstance(f, RedactSecrets) for f in handler.filters) for handler in root.handlers
        )
        configure_logging("DEBUG", token_secrets(TOKEN))  # twice: still one handler of ours
        ours = [h for h in root.handlers if getattr(h, "_triage_bot", False)]
        assert len(ours) == 1
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in root.handlers:
            for f in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
                handler.removeFilter(f)
        root.setLevel(level)
