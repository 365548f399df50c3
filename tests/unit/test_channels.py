"""Channel helpers and settings (the webhooks themselves: tests/system/test_channels.py)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from rasa_server.channels.base import (
    credential,
    numbered_options,
    plain_text,
    resolve_numbered_reply,
)
from rasa_server.channels.socketio import allowed_origins
from rasa_server.channels.telegram import TelegramChannel
from rasa_server.channels.twilio import TwilioSmsInput, TwilioWhatsAppInput

BUTTONS = [
    {"title": "What is clonazepam?", "payload": '/open_faq{"faq_topic": "what_is"}'},
    {"title": "Talk to admissions", "payload": "/admissions"},
]


@pytest.mark.parametrize(
    "markdown, text",
    [
        ("call (213) 555-0142 - [tap to call](tel:+12135550142).",
         "call (213) 555-0142 - tap to call (+12135550142)."),
        ("Text [988](sms:988) now", "Text 988 now"),
        ("see [our form](https://example.org/x)", "see our form (https://example.org/x)"),
        ("**Call 911** now", "Call 911 now"),
        ("no markup at all", "no markup at all"),
    ],
)  # fmt: skip
def test_plain_text_keeps_the_numbers_and_drops_the_markup(
    markdown: str, text: str
) -> None:
    assert plain_text(markdown) == text


def test_numbered_options_list_titles_not_payloads() -> None:
    text = numbered_options("Pick one:", BUTTONS)
    assert text == (
        "Pick one:\n\nReply with a number:\n1. What is clonazepam?\n2. Talk to admissions"
    )


def bot(buttons: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {"event": "bot", "text": "x", "data": {"buttons": buttons}}


@pytest.mark.parametrize(
    "reply, events, expected",
    [
        ("1", [bot(BUTTONS)], '/open_faq{"faq_topic": "what_is"}'),
        (" 2. ", [bot(BUTTONS)], "/admissions"),
        ("3", [bot(BUTTONS)], "3"),  # out of range: plain text
        ("0", [bot(BUTTONS)], "0"),
        ("2", [bot(BUTTONS), {"event": "user", "text": "hi"}], "2"),  # already answered
        ("2", [bot(None)], "2"),  # the last message had no buttons
        ("2", [], "2"),
        ("two", [bot(BUTTONS)], "two"),
        ("1", [bot(BUTTONS), {"event": "action", "name": "action_listen"}],
         '/open_faq{"faq_topic": "what_is"}'),
    ],
)  # fmt: skip
def test_a_number_answers_the_last_buttons_only(
    reply: str, events: list[dict[str, Any]], expected: str
) -> None:
    assert resolve_numbered_reply(reply, events) == expected


@pytest.mark.parametrize(
    "raw, origins",
    [
        (None, ["http://localhost:8080", "http://127.0.0.1:8080"]),
        ("https://www.example.org/, https://example.org", ["https://www.example.org", "https://example.org"]),
        ("*", "*"),
    ],
)  # fmt: skip
def test_socket_origins(raw: str | None, origins: Any) -> None:
    assert allowed_origins(raw) == origins


def test_empty_credentials_leave_a_channel_off() -> None:
    assert credential({"a": ""}, "a") is None
    assert credential({"a": "  "}, "a") is None
    assert credential(None, "a") is None
    sms = TwilioSmsInput.from_credentials(
        {"account_sid": "", "auth_token": "", "twilio_number": ""}
    )
    assert isinstance(sms, TwilioSmsInput)
    assert sms.missing == ["account_sid", "auth_token", "twilio_number"]
    telegram = TelegramChannel.from_credentials(
        {"access_token": "1:x", "secret_token": ""}
    )
    assert isinstance(telegram, TelegramChannel)
    assert telegram.missing == ["secret_token"]


def test_whatsapp_sends_from_the_whatsapp_address() -> None:
    channel = TwilioWhatsAppInput.from_credentials(
        {"account_sid": "AC1", "auth_token": "t", "whatsapp_number": "+12135550101"}
    )
    assert isinstance(channel, TwilioWhatsAppInput)
    assert channel.from_number == "whatsapp:+12135550101"
    assert channel.get_output_channel().twilio_number == "whatsapp:+12135550101"


def test_a_telegram_secret_with_bad_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="TELEGRAM_SECRET_TOKEN"):
        TelegramChannel.from_credentials({"access_token": "1:x", "secret_token": "a b"})


def test_env_example_lists_every_channel_key() -> None:
    root = Path(__file__).resolve().parents[2]
    needed = set(
        re.findall(r"\$\{([A-Z0-9_]+)\}", (root / "credentials.yml").read_text())
    )
    listed = set(
        re.findall(r"^([A-Z0-9_]+)=", (root / ".env.example").read_text(), re.M)
    )
    assert needed, "credentials.yml reads its keys from the environment"
    assert needed <= listed, sorted(needed - listed)


def test_credentials_hold_no_secret_values() -> None:
    root = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((root / "credentials.yml").read_text())
    for channel, settings in data.items():
        for key, value in (settings or {}).items():
            if isinstance(value, str) and key not in (
                "user_message_evt",
                "bot_message_evt",
            ):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+\}", value), (channel, key)
