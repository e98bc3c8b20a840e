"""Settings from the environment, with a ``.env`` file read when present.

This is the one place that reads settings. Every name is documented in ``.env.example``.
A real environment variable always wins over the same name in ``.env``, so a deployment can
override a checked-out file without editing it. Empty values count as unset (a copied
``.env.example`` leaves many names blank).

Problems raise :class:`ConfigError` with one sentence that says which setting to fix; the
token itself never appears in a message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.errors import SetupError
from bot.redact import redacted_url

DEFAULT_DATABASE_PATH = "data/triage.db"
DEFAULT_FLOW_FILE = "flows/sciatica.yaml"
DEFAULT_EMERGENCY_NUMBER = "999"
DEFAULT_URGENT_ADVICE = "call 111 or your GP surgery today"
# The family doctor's local name, used in texts as "your {doctor}" / "tu {doctor}": a noun
# without "your". Spanish speakers get their own word unless the practice names its doctor.
DEFAULT_DOCTOR_NAME = "GP"
DEFAULT_DOCTOR_NAME_BY_LANGUAGE: Mapping[str, str] = {"es": "médico de familia"}
DEFAULT_RETENTION_DAYS = 90
DEFAULT_FOLLOWUP_DAYS = 3
DEFAULT_TIMEZONE = "UTC"
MAX_FOLLOWUP_DAYS = 60
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1"
DEFAULT_WEBHOOK_PORT = 8443
DEFAULT_BACKUP_KEEP = 7
DEFAULT_HEALTH_LISTEN = "127.0.0.1"
DEFAULT_START_NETWORK_WAIT = 600  # seconds: a server's network is up well within this
TELEGRAM_API = "https://api.telegram.org/bot"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")

# BotFather tokens: the bot's numeric id, a colon, then ~35 URL-safe characters.
_TOKEN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{30,100}$")
# Telegram usernames: 5-32 characters, letters, digits and underscores, starting with a letter.
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
# Telegram's rule for setWebhook's secret_token.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(SetupError):
    """A setting is missing or malformed; the message is one sentence naming the fix."""


@dataclass(frozen=True, slots=True)
class Settings:
    telegram_bot_token: str = field(repr=False)
    api_base_url: str | None = None
    database_path: Path = Path(DEFAULT_DATABASE_PATH)
    # DATABASE_URL=postgresql://...: PostgreSQL instead of the SQLite file (it may hold a
    # password: never shown, see database_name).
    database_url: str | None = field(default=None, repr=False)
    # Settings given but not used, in one sentence each, for start-up to log (once).
    notes: tuple[str, ...] = ()
    booking_url: str | None = None
    admin_chat_ids: frozenset[int] = frozenset()
    flow_file: Path = Path(DEFAULT_FLOW_FILE)
    emergency_number: str = DEFAULT_EMERGENCY_NUMBER
    urgent_advice: str = DEFAULT_URGENT_ADVICE
    # URGENT_ADVICE_ES=... and the like: the same advice in another language of the flow.
    urgent_advice_by_language: Mapping[str, str] = field(default_factory=dict)
    doctor_name: str = DEFAULT_DOCTOR_NAME
    # DOCTOR_NAME_ES=... and the like: the name in another language of the flow.
    doctor_name_by_language: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_DOCTOR_NAME_BY_LANGUAGE)
    )
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one JSON object per line
    retention_days: int = DEFAULT_RETENTION_DAYS
    followup_days: int = DEFAULT_FOLLOWUP_DAYS
    timezone: str = DEFAULT_TIMEZONE  # the practice's, an IANA name: times on lead cards
    bot_username: str | None = None
    webhook_url: str | None = None
    webhook_secret_token: str | None = field(default=None, repr=False)
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN
    webhook_port: int = DEFAULT_WEBHOOK_PORT
    start_network_wait: int = DEFAULT_START_NETWORK_WAIT  # seconds; 0: do not wait
    backup_dir: Path | None = None  # the daily backup is off without it
    backup_keep: int = DEFAULT_BACKUP_KEEP
    health_port: int | None = None  # /healthz and /metrics are off without it
    health_listen: str = DEFAULT_HEALTH_LISTEN

    @property
    def zone(self) -> ZoneInfo:
        """The practice's time zone (checked when the settings were read)."""
        return ZoneInfo(self.timezone)

    @property
    def database_name(self) -> str:
        """The database as logs and messages name it: the file, or the URL without its
        password."""
        if self.database_url is None:
            return str(self.database_path)
        return redacted_url(self.database_url)

    @property
    def webhook_mode(self) -> bool:
        return self.webhook_url is not None

    @property
    def public_api_url(self) -> str:
        """The Bot API address as people may see it: never with the token."""
        return (self.api_base_url or TELEGRAM_API).replace("{token}", "")

    def texts(self) -> dict[str, str]:
        """The values the engine may put into flow texts (``{booking_url}`` ...)."""
        values = {
            "emergency_number": self.emergency_number,
            "urgent_advice": self.urgent_advice,
            "doctor": self.doctor_name,
        }
        per_language = {
            "urgent_advice": self.urgent_advice_by_language,
            "doctor": self.doctor_name_by_language,
        }
        for name, by_language in per_language.items():
            for language, text in by_language.items():
                values[f"{name}:{language}"] = text  # the engine prefers these
        if self.booking_url:
            values["booking_url"] = self.booking_url
        return values


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: str | Path | None = ".env",
    *,
    require_token: bool = True,
) -> Settings:
    """Read the settings; ``environ`` defaults to ``os.environ``, ``env_file`` may be absent.

    ``require_token=False`` is for commands that never talk to Telegram.
    """
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    read = _Reader(values)

    token = read.text("TELEGRAM_BOT_TOKEN")
    if token is None:
        if require_token:
            raise ConfigError("Set TELEGRAM_BOT_TOKEN in .env (see .env.example).")
        token = ""
    elif not _TOKEN.match(token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (BotFather gives one like "
            "123456789:AA... with about 35 letters, digits, _ or - after the colon)."
        )

    webhook_url = read.url("WEBHOOK_URL")
    secret = read.text("WEBHOOK_SECRET_TOKEN")
    if secret is not None and not _SECRET.match(secret):
        raise ConfigError(
            "WEBHOOK_SECRET_TOKEN may only use letters, digits, _ and - (1 to 256 of them)."
        )
    if webhook_url is not None and secret is None:
        raise ConfigError(
            "Set WEBHOOK_SECRET_TOKEN when WEBHOOK_URL is set, so that only Telegram can "
            "post updates to the bot."
        )

    username = read.text("BOT_USERNAME")
    if username is not None:
        username = username.removeprefix("@")
        if not _USERNAME.match(username):
            raise ConfigError(
                f"BOT_USERNAME must be the bot's Telegram username (5 to 32 letters, digits "
                f"or _), got {username!r}."
            )

    doctor_name = read.text("DOCTOR_NAME")
    log_level = (read.text("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}.")
    log_format = (read.text("LOG_FORMAT") or "text").lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be text or json, got {log_format!r}.")

    database_url, database_path, ignored = _database(read)
    notes = ["DATABASE_URL is set, so DATABASE_PATH is not used"] if ignored else []
    backup_dir = read.path("BACKUP_DIR")
    if backup_dir is not None and database_url is not None:
        # The container image sets BACKUP_DIR for its SQLite file: not a mistake to stop on.
        notes.append(
            "BACKUP_DIR is not used with PostgreSQL: back the database up with pg_dump "
            "(docs/deploy.md)"
        )
        backup_dir = None
    if backup_dir is not None and backup_dir.exists() and not backup_dir.is_dir():
        raise ConfigError(f"BACKUP_DIR must be a folder, but {backup_dir} is a file.")

    health_port = read.optional_whole("HEALTH_PORT", low=1, high=65535)
    health_listen = read.text("HEALTH_LISTEN") or DEFAULT_HEALTH_LISTEN
    webhook_port = read.whole("WEBHOOK_PORT", DEFAULT_WEBHOOK_PORT, low=1, high=65535)
    if webhook_url is not None and health_port == webhook_port:
        raise ConfigError(
            f"HEALTH_PORT must differ from WEBHOOK_PORT ({webhook_port}): the health server "
            "and the webhook listen separately."
        )

    return Settings(
        telegram_bot_token=token,
        api_base_url=read.url("TELEGRAM_API_BASE_URL"),
        database_path=database_path,
        database_url=database_url,
        notes=tuple(notes),
        booking_url=read.url("BOOKING_URL"),
        admin_chat_ids=read.people("ADMIN_CHAT_IDS"),
        flow_file=Path(read.text("FLOW_FILE") or DEFAULT_FLOW_FILE),
        emergency_number=read.text("EMERGENCY_NUMBER") or DEFAULT_EMERGENCY_NUMBER,
        urgent_advice=read.text("URGENT_ADVICE") or DEFAULT_URGENT_ADVICE,
        urgent_advice_by_language=_per_language(values, "URGENT_ADVICE"),
        doctor_name=doctor_name or DEFAULT_DOCTOR_NAME,
        doctor_name_by_language=_doctor_names(values, given=doctor_name is not None),
        log_level=log_level,
        log_format=log_format,
        retention_days=read.whole("RETENTION_DAYS", DEFAULT_RETENTION_DAYS, low=1),
        followup_days=read.whole(
            "FOLLOWUP_DAYS", DEFAULT_FOLLOWUP_DAYS, low=1, high=MAX_FOLLOWUP_DAYS
        ),
        timezone=read.zone("TIMEZONE"),
        bot_username=username,
        webhook_url=webhook_url,
        webhook_secret_token=secret,
        webhook_listen=read.text("WEBHOOK_LISTEN") or DEFAULT_WEBHOOK_LISTEN,
        webhook_port=webhook_port,
        start_network_wait=read.whole(
            "START_NETWORK_WAIT", DEFAULT_START_NETWORK_WAIT, low=0, high=86400
        ),
        backup_dir=backup_dir,
        backup_keep=read.whole("BACKUP_KEEP", DEFAULT_BACKUP_KEEP, low=1, high=1000),
        health_port=health_port,
        health_listen=health_listen,
    )


def _database(read: _Reader) -> tuple[str | None, Path, bool]:
    """DATABASE_URL and DATABASE_PATH: (the PostgreSQL URL or None, the SQLite file, whether
    DATABASE_PATH was set and is not used). ``sqlite:///data/triage.db`` is a relative file,
    ``sqlite:////var/lib/triage.db`` an absolute one; DATABASE_URL wins over DATABASE_PATH."""
    given_path = read.text("DATABASE_PATH")
    path = Path(given_path or DEFAULT_DATABASE_PATH)
    url = read.text("DATABASE_URL")
    if url is None:
        return None, path, False
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("postgresql", "postgres"):
        if not urlsplit(url).path.strip("/"):
            raise ConfigError(
                "DATABASE_URL must name the database, like "
                "postgresql://triage:PASSWORD@db:5432/triage."
            )
        return url, path, given_path is not None
    if scheme == "sqlite" and url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return None, Path(url.removeprefix("sqlite:///")), given_path is not None
    raise ConfigError(
        "DATABASE_URL must start with postgresql:// (PostgreSQL) or sqlite:/// (a SQLite "
        f"file), got one starting with {scheme + '://' if scheme else 'neither'}."
    )


class _Reader:
    """Typed access to the raw name -> text mapping, with one error sentence per kind."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def url(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"{name} must be a web address starting with https://, got {value!r}."
            )
        return value.rstrip("/")

    def path(self, name: str) -> Path | None:
        value = self.text(name)
        return Path(value).expanduser() if value is not None else None

    def optional_whole(self, name: str, *, low: int, high: int) -> int | None:
        """A whole number that switches something on; None when unset."""
        if self.text(name) is None:
            return None
        return self.whole(name, low, low=low, high=high)

    def whole(self, name: str, default: int, *, low: int, high: int | None = None) -> int:
        value = self.text(name)
        if value is None:
            return default
        upper = f" to {high}" if high is not None else " or more"
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or number < low or (high is not None and number > high):
            raise ConfigError(f"{name} must be a whole number from {low}{upper}, got {value!r}.")
        return number

    def zone(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            return DEFAULT_TIMEZONE
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{name} must be a time zone name such as Europe/London, Europe/Madrid or "
                f"America/New_York (the IANA names), got {value!r}."
            ) from None
        return value

    def people(self, name: str) -> frozenset[int]:
        """Telegram user ids, comma-separated. A group's or channel's id (zero or negative)
        is refused: whoever is listed reads leads and statistics, and in a group that would
        be every member."""
        value = self.text(name)
        if value is None:
            return frozenset()
        ids: set[int] = set()
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                number = int(part)
            except ValueError:
                raise ConfigError(
                    f"{name} must be Telegram user ids separated by commas (e.g. "
                    f"12345678,87654321), but {part!r} is not a whole number."
                ) from None
            if number <= 0:
                raise ConfigError(
                    f"{name} must list people (their Telegram user ids), but {part} is a group "
                    "or channel, whose every member would see leads and statistics."
                )
            ids.add(number)
        return frozenset(ids)


def _per_language(values: Mapping[str, str], name: str) -> dict[str, str]:
    """``NAME_ES=...`` -> ``{"es": ...}`` for every two-letter language code given."""
    found = {}
    for key, value in values.items():
        match = re.fullmatch(rf"{name}_([A-Z]{{2}})", key)
        if match and value.strip():
            found[match.group(1).lower()] = value.strip()
    return found


def _doctor_names(values: Mapping[str, str], *, given: bool) -> dict[str, str]:
    """``DOCTOR_NAME_<LANG>`` per language. Without DOCTOR_NAME the built-in names fill the
    languages not given, so that Spanish speakers read "médico de familia", not the English
    "GP"; a practice that sets DOCTOR_NAME has named its doctor for every language."""
    named = _per_language(values, "DOCTOR_NAME")
    return named if given else {**DEFAULT_DOCTOR_NAME_BY_LANGUAGE, **named}
