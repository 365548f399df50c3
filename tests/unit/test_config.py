"""Configuration: contacts file + env overrides, validation, fictional defaults."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from actions import config, server
from actions.config import ConfigError, get_settings, load_settings

pytestmark = pytest.mark.usefixtures("isolated_config")

REAL_LOOKING = {
    "ADMISSIONS_PHONE": "+1 310 555 1000",
    "ADMISSIONS_SMS": "310-555-1001",
    "ADMISSIONS_EMAIL": "admissions@detox-center.test",
    "ADMISSIONS_WEB_FORM": "https://detox-center.test/admissions",
}


def test_defaults_come_from_contacts_file_and_are_fictional() -> None:
    settings = load_settings({})
    contacts = settings.contacts
    assert contacts.phone == "(213) 555-0142"
    assert contacts.tel_uri == "tel:+12135550142"
    assert contacts.sms == "(213) 555-0143"
    assert contacts.sms_uri == "sms:+12135550143"
    assert contacts.email == "admissions@example.org"
    assert contacts.web_form == "https://example.org/admissions"
    assert contacts.hours
    assert settings.contacts_file == config.DEFAULT_CONTACTS_FILE
    assert settings.uses_defaults() is True
    assert set(settings.fictional_keys) == set(REAL_LOOKING)


def test_default_database_is_sqlite_under_project_var() -> None:
    settings = load_settings({})
    assert (
        settings.db_url == f"sqlite:///{config.PROJECT_ROOT / 'var'}/handoffs.sqlite3"
    )
    assert settings.notify_channels == ()
    assert settings.action_port == 5055
    assert settings.notify_interval_seconds == 15


def test_environment_overrides_file_and_clears_fictional_flag() -> None:
    settings = load_settings({**REAL_LOOKING, "ADMISSIONS_HOURS": "Mon-Fri 8am-8pm"})
    assert settings.contacts.phone == "(310) 555-1000"
    assert settings.contacts.phone_e164 == "+13105551000"
    assert settings.contacts.sms_e164 == "+13105551001"
    assert settings.contacts.hours == "Mon-Fri 8am-8pm"
    assert settings.uses_defaults() is False


def test_only_the_fictional_keys_are_reported() -> None:
    settings = load_settings({"ADMISSIONS_PHONE": "+1 310 555 1000"})
    assert "ADMISSIONS_PHONE" not in settings.fictional_keys
    assert "ADMISSIONS_SMS" in settings.fictional_keys
    assert settings.uses_defaults() is True


def test_empty_environment_values_count_as_unset() -> None:
    settings = load_settings({"ADMISSIONS_PHONE": "  ", "HANDOFF_DB_URL": ""})
    assert settings.contacts.phone_e164 == "+12135550142"
    assert settings.db_url.startswith("sqlite:///")


def test_international_number_is_kept_in_international_format() -> None:
    settings = load_settings({"ADMISSIONS_PHONE": "+44 20 7946 0958"})
    assert settings.contacts.phone_e164 == "+442079460958"
    assert settings.contacts.phone.startswith("+44")


def test_channels_and_smtp_settings() -> None:
    settings = load_settings(
        {
            "NOTIFY_WEBHOOK_URL": "https://hooks.example.com/services/T/B/secret",
            "SMTP_HOST": "smtp.example.com",
            "SMTP_USER": "bot",
            "SMTP_PASSWORD": "hunter2",
            "NOTIFY_EMAIL_TO": "a@example.com, b@example.com",
            "NOTIFY_EMAIL_FROM": "bot@example.com",
        }
    )
    assert settings.notify_channels == ("webhook", "email")
    assert settings.smtp is not None
    assert settings.smtp.port == 587
    assert settings.smtp.email_to == ("a@example.com", "b@example.com")
    # Secrets never show up in the repr (which could end up in a log).
    text = repr(settings)
    assert "hunter2" not in text and "secret" not in text and "sqlite" not in text


def test_postgres_scheme_alias_is_normalised() -> None:
    settings = load_settings({"HANDOFF_DB_URL": "postgres://u@db:5432/x"})
    assert settings.db_url == "postgresql://u@db:5432/x"


@pytest.mark.parametrize(
    ("env", "key", "fragment"),
    [
        ({"ADMISSIONS_PHONE": "12345"}, "ADMISSIONS_PHONE", "not a valid phone"),
        ({"ADMISSIONS_PHONE": "911"}, "ADMISSIONS_PHONE", "not a valid phone"),
        ({"ADMISSIONS_PHONE": "call us"}, "ADMISSIONS_PHONE", "not a valid phone"),
        ({"ADMISSIONS_SMS": "555-0143"}, "ADMISSIONS_SMS", "not a valid phone"),
        ({"ADMISSIONS_EMAIL": "admissions"}, "ADMISSIONS_EMAIL", "e-mail"),
        ({"ADMISSIONS_EMAIL": "a@b"}, "ADMISSIONS_EMAIL", "e-mail"),
        ({"ADMISSIONS_WEB_FORM": "example.org/x"}, "ADMISSIONS_WEB_FORM", "URL"),
        ({"ADMISSIONS_WEB_FORM": "ftp://example.org"}, "ADMISSIONS_WEB_FORM", "URL"),
        ({"ADMISSIONS_HOURS": "x" * 121}, "ADMISSIONS_HOURS", "characters"),
        ({"HANDOFF_DB_URL": "mysql://u@h/db"}, "HANDOFF_DB_URL", "postgresql"),
        ({"HANDOFF_DB_URL": "not a url"}, "HANDOFF_DB_URL", "database URL"),
        ({"NOTIFY_WEBHOOK_URL": "hooks/secret"}, "NOTIFY_WEBHOOK_URL", "URL"),
        ({"SMTP_HOST": "smtp.x.org"}, "NOTIFY_EMAIL_TO", "required"),
        (
            {"SMTP_HOST": "h", "NOTIFY_EMAIL_TO": "a@x.org"},
            "NOTIFY_EMAIL_FROM",
            "required",
        ),
        ({"NOTIFY_EMAIL_TO": "a@x.org"}, "NOTIFY_EMAIL_TO", "SMTP_HOST"),
        (
            {
                "SMTP_HOST": "h",
                "NOTIFY_EMAIL_TO": "nope",
                "NOTIFY_EMAIL_FROM": "a@x.io",
            },
            "NOTIFY_EMAIL_TO",
            "e-mail",
        ),
        (
            {
                "SMTP_HOST": "h",
                "SMTP_PORT": "smtp",
                "NOTIFY_EMAIL_TO": "a@x.org",
                "NOTIFY_EMAIL_FROM": "b@x.org",
            },
            "SMTP_PORT",
            "whole number",
        ),
        ({"ACTION_PORT": "70000"}, "ACTION_PORT", "outside"),
        ({"NOTIFY_INTERVAL_SECONDS": "0"}, "NOTIFY_INTERVAL_SECONDS", "between"),
        ({"CONTACTS_FILE": "/nonexistent/contacts.yml"}, "CONTACTS_FILE", "exist"),
    ],
)
def test_invalid_values_raise_a_clear_error_naming_the_key(
    env: dict[str, str], key: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_settings(env)
    assert excinfo.value.key.startswith(key)
    assert str(excinfo.value).startswith(key)
    assert fragment in str(excinfo.value)


def test_secret_values_are_not_echoed_in_errors() -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_settings({"NOTIFY_WEBHOOK_URL": "hooks/T000/B000/very-secret-token"})
    assert "very-secret-token" not in str(excinfo.value)


def test_bad_value_in_contacts_file_names_env_key_and_file(tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.yml"
    contacts.write_text(
        "admissions:\n"
        "  phone: '555-0142'\n"
        "  sms: '(213) 555-0143'\n"
        "  hours: 'always'\n"
        "  email: 'a@example.org'\n"
        "  web_form: 'https://example.org/'\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as excinfo:
        load_settings({"CONTACTS_FILE": str(contacts)})
    assert excinfo.value.key.startswith("ADMISSIONS_PHONE")
    assert "contacts.yml" in str(excinfo.value)


def test_missing_value_in_contacts_file(tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.yml"
    contacts.write_text("admissions:\n  phone: '(213) 555-0142'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ADMISSIONS_SMS.*missing"):
        load_settings({"CONTACTS_FILE": str(contacts)})


def test_get_settings_is_lazy_and_cached(isolated_config: pytest.MonkeyPatch) -> None:
    first = config.get_settings()
    assert config.get_settings() is first
    isolated_config.setenv("ADMISSIONS_PHONE", "12")
    assert config.get_settings() is first  # cached: env read once
    config.clear_cache()
    with pytest.raises(ConfigError, match="ADMISSIONS_PHONE"):
        config.get_settings()


def test_uses_defaults_helper(isolated_config: pytest.MonkeyPatch) -> None:
    assert config.uses_defaults() is True
    for key, value in REAL_LOOKING.items():
        isolated_config.setenv(key, value)
    config.clear_cache()
    assert config.uses_defaults() is False


# -- the server's use of the configuration ----------------------------------- #


def test_server_refuses_to_start_on_invalid_config(
    isolated_config: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    isolated_config.setenv("ADMISSIONS_PHONE", "not-a-number")
    assert server.main(["--port", "5999"]) == 2
    err = capsys.readouterr().err
    assert "Invalid configuration" in err
    assert "ADMISSIONS_PHONE" in err


def test_server_warns_loudly_about_fictional_defaults(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="actions.server"):
        assert server.warn_about_defaults(load_settings({})) is True
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) >= 5
    assert "FICTIONAL" in caplog.text
    assert "ADMISSIONS_PHONE" in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="actions.server"):
        assert server.warn_about_defaults(load_settings(REAL_LOOKING)) is False
    assert caplog.records == []


def test_action_server_token_must_be_long_enough() -> None:
    assert load_settings({"ACTION_SERVER_TOKEN": "x" * 16}).action_token == "x" * 16
    assert load_settings({}).action_token is None
    with pytest.raises(ConfigError, match="ACTION_SERVER_TOKEN"):
        load_settings({"ACTION_SERVER_TOKEN": "short"})


def test_the_action_server_refuses_to_start_without_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
    get_settings.cache_clear()
    try:
        assert server.main(["--port", "1"]) == 2
    finally:
        get_settings.cache_clear()
    assert "ACTION_SERVER_TOKEN is not set" in capsys.readouterr().err


def test_endpoints_send_the_shared_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.utils import AvailableEndpoints

    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a-shared-secret-of-some-length")
    monkeypatch.setenv("TRACKER_DB", "var/tracker.sqlite3")
    monkeypatch.setenv("LOCK_DB", "var/locks.sqlite3")
    endpoints = AvailableEndpoints.read_endpoints(
        str(config.PROJECT_ROOT / "endpoints.yml")
    )
    assert endpoints.action is not None
    assert endpoints.action.headers == {
        "Authorization": "Bearer a-shared-secret-of-some-length"
    }
