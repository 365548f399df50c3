"""The one module that reads configuration.

Non-secret contact details come from ``config/contacts.yml`` (or the file named by
``CONTACTS_FILE``); every value can be overridden by an environment variable.
Secrets (database URL, webhook URL, SMTP credentials) come only from the
environment. Nothing is read at import time: call :func:`get_settings`, which loads
and validates once and caches the result.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
import yaml
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTACTS_FILE = PROJECT_ROOT / "config" / "contacts.yml"
DEFAULT_DB_PATH = PROJECT_ROOT / "var" / "handoffs.sqlite3"
DEFAULT_REGION = "US"

# Environment keys, for reference (.env.example documents every one of them).
CONTACT_ENV_KEYS: dict[str, str] = {
    "phone": "ADMISSIONS_PHONE",
    "sms": "ADMISSIONS_SMS",
    "hours": "ADMISSIONS_HOURS",
    "email": "ADMISSIONS_EMAIL",
    "web_form": "ADMISSIONS_WEB_FORM",
}
ENV_KEYS: tuple[str, ...] = (
    *CONTACT_ENV_KEYS.values(),
    "CONTACTS_FILE",
    "HANDOFF_DB_URL",
    "NOTIFY_WEBHOOK_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "NOTIFY_EMAIL_TO",
    "NOTIFY_EMAIL_FROM",
    "NOTIFY_INTERVAL_SECONDS",
    "ACTION_PORT",
    "SANIC_HOST",
    "ACTION_SERVER_TOKEN",
)

# 555-0100 .. 555-0199 are reserved for fictional use in North America.
_FICTIONAL_NATIONAL = re.compile(r"\d{3}55501\d{2}")
_FICTIONAL_DOMAIN = re.compile(r"(^|\.)example\.(org|com|net)$|(^|\.)example$", re.I)
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


class ConfigError(ValueError):
    """A configuration value is missing or invalid. ``key`` names the culprit."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class Contacts:
    """Admissions contact details, validated and pre-formatted."""

    phone: str  # for display, e.g. "(213) 555-0142"
    phone_e164: str  # "+12135550142"
    sms: str
    sms_e164: str
    hours: str
    email: str
    web_form: str

    @property
    def tel_uri(self) -> str:
        return f"tel:{self.phone_e164}"

    @property
    def sms_uri(self) -> str:
        return f"sms:{self.sms_e164}"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None = field(repr=False)
    email_to: tuple[str, ...]
    email_from: str


@dataclass(frozen=True)
class Settings:
    contacts: Contacts
    db_url: str = field(repr=False)
    webhook_url: str | None = field(repr=False)
    smtp: SmtpSettings | None
    action_host: str
    action_port: int
    action_token: str | None = field(repr=False)
    notify_interval_seconds: float
    contacts_file: Path
    fictional_keys: tuple[str, ...]

    @property
    def notify_channels(self) -> tuple[str, ...]:
        """Outbox channels that are configured ('webhook', 'email')."""
        channels = []
        if self.webhook_url:
            channels.append("webhook")
        if self.smtp is not None:
            channels.append("email")
        return tuple(channels)

    def uses_defaults(self) -> bool:
        return bool(self.fictional_keys)


# --------------------------------------------------------------------------- #
# Validators (each raises ConfigError naming the key)
# --------------------------------------------------------------------------- #


def parse_phone(value: str, region: str = DEFAULT_REGION) -> phonenumbers.PhoneNumber:
    """Parse ``value`` as a valid phone number or raise ``ValueError``."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return number


def format_phone(number: phonenumbers.PhoneNumber) -> tuple[str, str]:
    """Return (display, E.164): national format for US numbers, else international."""
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.region_code_for_number(number) == DEFAULT_REGION:
        display = phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.NATIONAL
        )
    else:
        display = phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    return display, e164


def is_fictional_phone(number: phonenumbers.PhoneNumber) -> bool:
    return number.country_code == 1 and bool(
        _FICTIONAL_NATIONAL.fullmatch(str(number.national_number))
    )


def _phone(key: str, value: str) -> tuple[str, str, bool]:
    try:
        number = parse_phone(value)
    except ValueError:
        raise ConfigError(
            key,
            f"{value!r} is not a valid phone number (expected a US number such as "
            "(213) 555-0142, or an international number starting with +)",
        ) from None
    display, e164 = format_phone(number)
    return display, e164, is_fictional_phone(number)


def is_email(value: str) -> bool:
    return len(value) <= 254 and bool(_EMAIL.fullmatch(value))


def _email(key: str, value: str) -> tuple[str, bool]:
    if not is_email(value):
        raise ConfigError(key, f"{value!r} is not a valid e-mail address")
    domain = value.rsplit("@", 1)[1]
    return value, bool(_FICTIONAL_DOMAIN.search(domain))


def _url(key: str, value: str, *, show: bool = True) -> tuple[str, bool]:
    shown = repr(value) if show else "the value"
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ConfigError(key, f"{shown} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ConfigError(
            key, f"{shown} is not a valid http(s) URL (e.g. https://example.org/x)"
        )
    return value, bool(_FICTIONAL_DOMAIN.search(parts.hostname))


def _text(key: str, value: str, max_len: int) -> str:
    value = " ".join(value.split())
    if not value or len(value) > max_len:
        raise ConfigError(key, f"must be 1-{max_len} characters of text")
    return value


def _int(key: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(key, f"{value!r} is not a whole number") from None
    if not low <= number <= high:
        raise ConfigError(key, f"{number} is outside {low}..{high}")
    return number


def _db_url(key: str, value: str) -> str:
    if value.startswith("postgres://"):
        value = "postgresql://" + value[len("postgres://") :]
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(key, "is not a valid database URL") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            key, "must be a sqlite:/// or postgresql:// URL (got another backend)"
        )
    if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg2":
        raise ConfigError(key, "PostgreSQL URLs must use the psycopg2 driver")
    return value


# --------------------------------------------------------------------------- #
# Loading
# --------------------------------------------------------------------------- #


def _clean_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Environment values, with empty strings treated as unset."""
    return {k: v.strip() for k, v in environ.items() if k in ENV_KEYS and v.strip()}


def _read_contacts_file(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except FileNotFoundError:
        raise ConfigError("CONTACTS_FILE", f"{str(path)!r} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            "CONTACTS_FILE", f"{str(path)!r} is not valid YAML: {exc}"
        ) from None
    section = data.get("admissions") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(
            "CONTACTS_FILE", f"{str(path)!r} needs an 'admissions:' mapping"
        )
    return section


def _token(key: str, value: str | None) -> str | None:
    """A shared secret: 16+ printable characters, or None when unset."""
    if value is None:
        return None
    if len(value) < 16 or not value.isprintable() or " " in value:
        raise ConfigError(key, "must be at least 16 characters, without spaces")
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate configuration. Raises :class:`ConfigError`."""
    env = _clean_env(os.environ if environ is None else environ)

    contacts_file = Path(env.get("CONTACTS_FILE", str(DEFAULT_CONTACTS_FILE)))
    if not contacts_file.is_absolute():
        contacts_file = PROJECT_ROOT / contacts_file
    from_file = _read_contacts_file(contacts_file)

    raw: dict[str, str] = {}
    names: dict[str, str] = {}  # field -> key name used in error messages
    for fld, env_key in CONTACT_ENV_KEYS.items():
        if env_key in env:
            raw[fld], names[fld] = env[env_key], env_key
        else:
            value = from_file.get(fld)
            names[fld] = f"{env_key} (admissions.{fld} in {contacts_file.name})"
            if value is None or not str(value).strip():
                raise ConfigError(names[fld], "is missing")
            raw[fld] = str(value).strip()

    fictional = []
    phone, phone_e164, fake = _phone(names["phone"], raw["phone"])
    if fake:
        fictional.append(CONTACT_ENV_KEYS["phone"])
    sms, sms_e164, fake = _phone(names["sms"], raw["sms"])
    if fake:
        fictional.append(CONTACT_ENV_KEYS["sms"])
    email, fake = _email(names["email"], raw["email"])
    if fake:
        fictional.append(CONTACT_ENV_KEYS["email"])
    web_form, fake = _url(names["web_form"], raw["web_form"])
    if fake:
        fictional.append(CONTACT_ENV_KEYS["web_form"])
    contacts = Contacts(
        phone=phone,
        phone_e164=phone_e164,
        sms=sms,
        sms_e164=sms_e164,
        hours=_text(names["hours"], raw["hours"], 120),
        email=email,
        web_form=web_form,
    )

    db_url = _db_url(
        "HANDOFF_DB_URL", env.get("HANDOFF_DB_URL", f"sqlite:///{DEFAULT_DB_PATH}")
    )
    webhook_url = None
    if "NOTIFY_WEBHOOK_URL" in env:
        webhook_url, _ = _url(
            "NOTIFY_WEBHOOK_URL", env["NOTIFY_WEBHOOK_URL"], show=False
        )

    return Settings(
        contacts=contacts,
        db_url=db_url,
        webhook_url=webhook_url,
        smtp=_smtp(env),
        # All interfaces by default, like rasa_sdk (the server runs in a container).
        action_host=env.get("SANIC_HOST", "127.0.0.1"),
        action_port=_int("ACTION_PORT", env.get("ACTION_PORT", "5055"), 1, 65535),
        action_token=_token("ACTION_SERVER_TOKEN", env.get("ACTION_SERVER_TOKEN")),
        notify_interval_seconds=_interval(env.get("NOTIFY_INTERVAL_SECONDS", "15")),
        contacts_file=contacts_file,
        fictional_keys=tuple(fictional),
    )


def _interval(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(
            "NOTIFY_INTERVAL_SECONDS", f"{value!r} is not a number"
        ) from None
    if not 1 <= seconds <= 3600:
        raise ConfigError("NOTIFY_INTERVAL_SECONDS", "must be between 1 and 3600")
    return seconds


def _smtp(env: Mapping[str, str]) -> SmtpSettings | None:
    host = env.get("SMTP_HOST")
    if host is None:
        for key in ("NOTIFY_EMAIL_TO", "SMTP_USER", "SMTP_PASSWORD"):
            if key in env:
                raise ConfigError(key, "is set but SMTP_HOST is not")
        return None
    if "NOTIFY_EMAIL_TO" not in env:
        raise ConfigError("NOTIFY_EMAIL_TO", "is required when SMTP_HOST is set")
    if "NOTIFY_EMAIL_FROM" not in env:
        raise ConfigError("NOTIFY_EMAIL_FROM", "is required when SMTP_HOST is set")
    if "SMTP_PASSWORD" in env and "SMTP_USER" not in env:
        raise ConfigError("SMTP_USER", "is required when SMTP_PASSWORD is set")
    recipients = tuple(
        a.strip() for a in env["NOTIFY_EMAIL_TO"].split(",") if a.strip()
    )
    if not recipients:
        raise ConfigError("NOTIFY_EMAIL_TO", "needs at least one address")
    for address in recipients:
        _email("NOTIFY_EMAIL_TO", address)
    return SmtpSettings(
        host=host,
        port=_int("SMTP_PORT", env.get("SMTP_PORT", "587"), 1, 65535),
        user=env.get("SMTP_USER"),
        password=env.get("SMTP_PASSWORD"),
        email_to=recipients,
        email_from=_email("NOTIFY_EMAIL_FROM", env["NOTIFY_EMAIL_FROM"])[0],
    )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Load settings from the environment once, then reuse them."""
    return load_settings()


def clear_cache() -> None:
    """Forget cached settings (tests, or after changing the environment)."""
    get_settings.cache_clear()


def uses_defaults(settings: Settings | None = None) -> bool:
    """True while any fictional default (555-01xx, example.org) is in use."""
    return (settings or get_settings()).uses_defaults()
