"""LOG_FORMAT=json: one JSON object per line, secrets hidden; transitions kept quiet at INFO."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.config import ConfigError, load_settings
from bot.engine import Choose, Engine, Start
from bot.flow import load_compiled
from bot.telegram.jsonlogs import JsonFormatter
from bot.telegram.logs import HIDDEN, RedactSecrets, configure_logging, token_secrets
from tests.bot_inprocess import FLOW

TOKEN = "123456789:AAHk3z_example-token-0123456789abcdefg"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    transitions = logging.getLogger("transitions").level
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in root.handlers:
            for f in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
                handler.removeFilter(f)
        root.setLevel(level)
        logging.getLogger("transitions").setLevel(transitions)


def test_each_record_is_one_line_of_json_with_the_secrets_hidden() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets(token_secrets(TOKEN)))
    log = logging.getLogger("test.jsonlogs")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("two\nlines about %s", "bot" + TOKEN)
        try:
            raise RuntimeError(f"failed at https://api.telegram.org/bot{TOKEN}/getMe")
        except RuntimeError:
            log.exception("it broke")
    finally:
        log.removeHandler(handler)
        log.propagate = True

    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "WARNING" and first["logger"] == "test.jsonlogs"
    assert first["message"] == f"two\nlines about bot{HIDDEN}"
    assert first["time"].endswith("Z") and "T" in first["time"]
    assert second["message"] == "it broke"
    assert "Traceback" in second["exception"] and "RuntimeError" in second["exception"]
    assert TOKEN not in stream.getvalue() and TOKEN.split(":")[1] not in stream.getvalue()


def test_log_format_setting() -> None:
    base = {"TELEGRAM_BOT_TOKEN": TOKEN}
    assert load_settings(base, env_file=None).log_format == "text"
    assert load_settings({**base, "LOG_FORMAT": "JSON"}, env_file=None).log_format == "json"
    with pytest.raises(ConfigError, match=r"LOG_FORMAT must be text or json, got 'xml'\."):
        load_settings({**base, "LOG_FORMAT": "xml"}, env_file=None)


def walk_a_few_steps() -> None:
    engine = Engine(load_compiled(str(FLOW)), {})
    result = engine.handle(None, Start(language="en"))
    engine.handle(result.session, Choose(result.session.step, "buttock"))


def test_transitions_reveals_the_path_at_info_unless_configured(
    caplog: pytest.LogCaptureFixture, restore_logging: None
) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("transitions").setLevel(logging.NOTSET)
    walk_a_few_steps()
    # The reason for the rule: left alone, the library names every state a person enters.
    assert any(r.name.startswith("transitions") for r in caplog.records)
    caplog.clear()

    configure_logging("INFO", token_secrets(TOKEN), fmt="json")
    walk_a_few_steps()
    assert not [r for r in caplog.records if r.name.startswith("transitions")]

    configure_logging("DEBUG", token_secrets(TOKEN))
    assert logging.getLogger("transitions").getEffectiveLevel() == logging.DEBUG
