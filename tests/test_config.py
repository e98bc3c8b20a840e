"""Settings: defaults, the .env file, and one clear sentence for each mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
TOKEN = "123456789:AAHk3z_example-token-0123456789abcdefg"


def settings(env_file: Path | None = None, **values: str) -> Settings:
    return load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, **values}, env_file=env_file)


def problem(**values: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(values, env_file=None)
    message = str(caught.value)
    assert "\n" not in message and message.endswith("."), message
    return message


def test_defaults() -> None:
    loaded = settings()
    assert loaded.telegram_bot_token == TOKEN
    assert loaded.api_base_url is None
    assert loaded.database_path == Path("data/triage.db")
    assert loaded.flow_file == Path("flows/sciatica.yaml")
    assert loaded.booking_url is None
    assert loaded.admin_chat_ids == frozenset()
    assert (loaded.emergency_number, loaded.log_level, loaded.retention_days) == ("999", "INFO", 90)
    assert (loaded.webhook_url, loaded.webhook_listen, loaded.webhook_port) == (
        None,
        "127.0.0.1",
        8443,
    )
    assert not loaded.webhook_mode
    assert loaded.public_api_url == "https://api.telegram.org/bot"


def test_every_setting_is_read() -> None:
    loaded = settings(
        TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/bot/",
        DATABASE_PATH="/srv/bot/triage.db",
        BOOKING_URL="https://clinic.example/book",
        ADMIN_CHAT_IDS=" 12345, 1234567890 ,",
        FLOW_FILE="flows/other.yaml",
        EMERGENCY_NUMBER="112",
        URGENT_ADVICE="call your doctor today",
        DOCTOR_NAME="family doctor",
        LOG_LEVEL="debug",
        RETENTION_DAYS="30",
        BOT_USERNAME="@clinic_triage_bot",
        WEBHOOK_URL="https://bot.clinic.example/telegram",
        WEBHOOK_SECRET_TOKEN="s3cret_-token",
        WEBHOOK_LISTEN="0.0.0.0",
        WEBHOOK_PORT="8080",
    )
    assert loaded.api_base_url == "http://127.0.0.1:8081/bot"
    assert loaded.database_path == Path("/srv/bot/triage.db")
    assert loaded.admin_chat_ids == {12345, 1234567890}
    assert loaded.log_level == "DEBUG"
    assert loaded.retention_days == 30
    assert loaded.bot_username == "clinic_triage_bot"
    assert loaded.webhook_mode and loaded.webhook_port == 8080
    assert loaded.texts() == {
        "booking_url": "https://clinic.example/book",
        "emergency_number": "112",
        "urgent_advice": "call your doctor today",
        "doctor": "family doctor",  # named: every language uses it unless named separately
    }


def test_texts_leave_out_a_missing_booking_url() -> None:
    assert "booking_url" not in settings().texts()


def test_blank_values_count_as_unset() -> None:
    loaded = settings(BOOKING_URL="", WEBHOOK_PORT="  ", LOG_LEVEL="")
    assert (loaded.booking_url, loaded.webhook_port, loaded.log_level) == (None, 8443, "INFO")


def test_the_token_and_secret_stay_out_of_repr() -> None:
    loaded = settings(WEBHOOK_URL="https://x.example/hook", WEBHOOK_SECRET_TOKEN="hushhush")
    assert TOKEN not in repr(loaded) and "hushhush" not in repr(loaded)


def test_missing_token() -> None:
    assert problem() == "Set TELEGRAM_BOT_TOKEN in .env (see .env.example)."
    assert load_settings({}, env_file=None, require_token=False).telegram_bot_token == ""


@pytest.mark.parametrize(
    "token", ["hello", "123456:short", "abc:AAHk3z_example-token-0123456789abcdefg", f"{TOKEN}!"]
)
def test_malformed_token(token: str) -> None:
    message = problem(TELEGRAM_BOT_TOKEN=token)
    assert message.startswith("TELEGRAM_BOT_TOKEN does not look like a bot token")
    assert token not in message


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ADMIN_CHAT_IDS", "12345,abc", r"ADMIN_CHAT_IDS must be Telegram user ids .*'abc'"),
        ("WEBHOOK_PORT", "eighty", r"WEBHOOK_PORT must be a whole number from 1 to 65535"),
        ("WEBHOOK_PORT", "0", r"WEBHOOK_PORT must be a whole number from 1 to 65535, got '0'"),
        ("WEBHOOK_PORT", "70000", r"WEBHOOK_PORT must be a whole number from 1 to 65535"),
        ("RETENTION_DAYS", "-1", r"RETENTION_DAYS must be a whole number from 1 or more"),
        ("LOG_LEVEL", "LOUD", r"LOG_LEVEL must be one of DEBUG, INFO, .*'LOUD'"),
        ("BOOKING_URL", "clinic.example", r"BOOKING_URL must be a web address starting with"),
        ("TELEGRAM_API_BASE_URL", "ftp://x/bot", r"TELEGRAM_API_BASE_URL must be a web address"),
        ("BOT_USERNAME", "no spaces", r"BOT_USERNAME must be the bot's Telegram username"),
        ("WEBHOOK_URL", "https://x.example/hook", r"Set WEBHOOK_SECRET_TOKEN when WEBHOOK_URL"),
        ("WEBHOOK_SECRET_TOKEN", "not secret!", r"WEBHOOK_SECRET_TOKEN may only use letters"),
    ],
)
def test_one_sentence_per_mistake(name: str, value: str, expected: str) -> None:
    assert re.match(expected, problem(TELEGRAM_BOT_TOKEN=TOKEN, **{name: value}))


def test_dot_env_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\n"
        "# a comment\n"
        "EMERGENCY_NUMBER=112\n"
        'URGENT_ADVICE="call 111, or your GP"\n'
        "RETENTION_DAYS=45\n",
        encoding="utf-8",
    )
    from_file = load_settings({}, env_file=env_file)
    assert from_file.telegram_bot_token == TOKEN
    assert (from_file.emergency_number, from_file.urgent_advice) == ("112", "call 111, or your GP")
    assert from_file.retention_days == 45

    overridden = load_settings({"EMERGENCY_NUMBER": "911"}, env_file=env_file)
    assert overridden.emergency_number == "911"
    assert overridden.retention_days == 45


def test_a_missing_env_file_is_fine(tmp_path: Path) -> None:
    assert settings(env_file=tmp_path / "absent.env").emergency_number == "999"


def test_every_setting_is_documented_in_env_example() -> None:
    source = (REPO / "bot" / "config.py").read_text(encoding="utf-8")
    read = set(re.findall(r'read\.\w+\(\s*"([A-Z_]+)"', source))
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z_]+)=", example, re.M))
    assert len(read) >= 16  # more as features come; the regex must not miss them all
    assert read == documented


def test_env_example_itself_loads_once_a_token_is_given(tmp_path: Path) -> None:
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    env_file = tmp_path / ".env"
    env_file.write_text(example.replace("TELEGRAM_BOT_TOKEN=", f"TELEGRAM_BOT_TOKEN={TOKEN}"))
    loaded = load_settings({}, env_file=env_file)
    assert loaded.database_path == Path("data/triage.db")
    assert loaded.urgent_advice == "call 111 or your GP surgery today"


def test_the_doctors_name_defaults_to_gp_and_medico_de_familia() -> None:
    texts = settings().texts()
    assert (texts["doctor"], texts["doctor:es"]) == ("GP", "médico de familia")


def test_the_doctors_name_may_be_given_per_language() -> None:
    loaded = settings(DOCTOR_NAME="doctor", DOCTOR_NAME_ES="médico", DOCTOR_NAME_FR=" ")
    assert loaded.doctor_name == "doctor"
    assert loaded.doctor_name_by_language == {"es": "médico"}
    assert (loaded.texts()["doctor"], loaded.texts()["doctor:es"]) == ("doctor", "médico")
    only_spanish = settings(DOCTOR_NAME_ES="médico de cabecera").texts()
    assert (only_spanish["doctor"], only_spanish["doctor:es"]) == ("GP", "médico de cabecera")


def test_urgent_advice_may_be_given_per_language() -> None:
    loaded = settings(URGENT_ADVICE_ES="llama al 112 hoy", URGENT_ADVICE_FR="  ")
    assert loaded.urgent_advice_by_language == {"es": "llama al 112 hoy"}
    assert loaded.texts()["urgent_advice:es"] == "llama al 112 hoy"
    assert loaded.texts()["urgent_advice"] == "call 111 or your GP surgery today"


def test_health_and_backup_settings() -> None:
    loaded = settings()
    assert (loaded.health_port, loaded.health_listen) == (None, "127.0.0.1")
    assert (loaded.backup_dir, loaded.backup_keep, loaded.start_network_wait) == (None, 7, 600)
    loaded = settings(HEALTH_PORT="9102", HEALTH_LISTEN="0.0.0.0", BACKUP_DIR="/srv/b",
                      BACKUP_KEEP="30", START_NETWORK_WAIT="0")  # fmt: skip
    assert (loaded.health_port, loaded.health_listen) == (9102, "0.0.0.0")
    assert (loaded.backup_dir, loaded.backup_keep) == (Path("/srv/b"), 30)
    assert loaded.start_network_wait == 0


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("HEALTH_PORT", "0", r"HEALTH_PORT must be a whole number from 1 to 65535, got '0'"),
        ("BACKUP_KEEP", "0", r"BACKUP_KEEP must be a whole number from 1 to 1000"),
        ("START_NETWORK_WAIT", "-1", r"START_NETWORK_WAIT must be a whole number from 0"),
    ],
)
def test_ops_settings_mistakes(name: str, value: str, expected: str) -> None:
    assert re.search(expected, problem(TELEGRAM_BOT_TOKEN=TOKEN, **{name: value}))


def test_health_port_must_not_be_the_webhook_port(tmp_path: Path) -> None:
    message = problem(
        TELEGRAM_BOT_TOKEN=TOKEN, WEBHOOK_URL="https://x.example/t", WEBHOOK_SECRET_TOKEN="s",
        WEBHOOK_PORT="8443", HEALTH_PORT="8443",
    )  # fmt: skip
    assert "HEALTH_PORT must differ from WEBHOOK_PORT (8443)" in message
    blocker = tmp_path / "file"
    blocker.write_text("x")
    message = problem(TELEGRAM_BOT_TOKEN=TOKEN, BACKUP_DIR=str(blocker))
    assert "BACKUP_DIR must be a folder" in message


def test_every_setting_is_in_the_readme_table() -> None:
    source = (REPO / "bot" / "config.py").read_text(encoding="utf-8")
    read = set(re.findall(r'read\.\w+\(\s*"([A-Z_]+)"', source))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `([A-Z_]+)`", readme, re.M))
    table |= set(re.findall(r"^\| `[A-Z_]+`, `([A-Z_]+)`", readme, re.M))
    assert read <= table, sorted(read - table)


# --- the database: DATABASE_URL and DATABASE_PATH ------------------------------------------------


def test_database_url_postgresql_selects_postgresql_and_hides_its_password() -> None:
    url = "postgresql://triage:s3cret@db:5432/triage"
    loaded = settings(DATABASE_URL=url)
    assert loaded.database_url == url
    assert loaded.database_name == "postgresql://triage@db:5432/triage"
    assert loaded.notes == ()
    assert "s3cret" not in repr(loaded)


def test_database_url_sqlite_names_the_file() -> None:
    assert settings(DATABASE_URL="sqlite:///data/other.db").database_path == Path("data/other.db")
    absolute = settings(DATABASE_URL="sqlite:////var/lib/triage/triage.db")
    assert absolute.database_path == Path("/var/lib/triage/triage.db")
    assert absolute.database_url is None


def test_database_url_wins_over_database_path_and_says_so() -> None:
    loaded = settings(DATABASE_URL="postgresql://db/triage", DATABASE_PATH="data/triage.db")
    assert loaded.database_url == "postgresql://db/triage"
    assert loaded.notes == ("DATABASE_URL is set, so DATABASE_PATH is not used",)
    assert settings(DATABASE_PATH="data/x.db").notes == ()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://db/triage", "must start with postgresql:// (PostgreSQL) or sqlite:///"),
        ("data/triage.db", "starting with neither"),
        ("postgresql://db", "must name the database"),
    ],
)
def test_a_database_url_of_another_kind_is_one_sentence(url: str, expected: str) -> None:
    message = problem(TELEGRAM_BOT_TOKEN=TOKEN, DATABASE_URL=url)
    assert expected in message


def test_backups_of_a_postgresql_database_are_pg_dumps_job(tmp_path: Path) -> None:
    # The container image sets BACKUP_DIR for its SQLite file: ignored with PostgreSQL, said.
    loaded = settings(DATABASE_URL="postgresql://db/t", BACKUP_DIR=str(tmp_path))
    assert loaded.backup_dir is None
    assert any("pg_dump" in note for note in loaded.notes)
