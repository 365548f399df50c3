"""Issue 14's channel findings: a non-ASCII Messenger signature is a 403, not a
500; Twilio without its public webhook URL says so at start-up."""

from __future__ import annotations

import hashlib
import hmac
import logging
from types import SimpleNamespace

import pytest

from rasa_server.channels.facebook import MessengerInput
from rasa_server.channels.twilio import TwilioSmsInput

SECRET = "facebook-test-app-secret"


def messenger() -> MessengerInput:
    channel = MessengerInput.from_credentials(
        {"verify": "v", "secret": SECRET, "page-access-token": "p"}
    )
    assert isinstance(channel, MessengerInput)
    return channel


@pytest.mark.parametrize(
    "header", ["sha256=é", "sha256=\u202e" + "a" * 63, "sha256=日本"]
)
def test_a_non_ascii_messenger_signature_is_refused_not_a_crash(header: str) -> None:
    request = SimpleNamespace(headers={"X-Hub-Signature-256": header}, body=b"{}")
    assert messenger().is_signed(request) is False  # was a TypeError (500)


def test_a_valid_messenger_signature_still_passes() -> None:
    body = b'{"object": "page"}'
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = SimpleNamespace(
        headers={"X-Hub-Signature-256": f"sha256={digest}"}, body=body
    )
    assert messenger().is_signed(request) is True


def test_twilio_without_its_webhook_url_warns_at_start_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    credentials = {
        "account_sid": "AC1",
        "auth_token": "t",
        "twilio_number": "+12135550100",
    }
    with caplog.at_level(logging.WARNING):
        TwilioSmsInput.from_credentials(credentials).blueprint(lambda m: None)  # type: ignore[arg-type,return-value]
    assert "TWILIO_SMS_WEBHOOK_URL" in caplog.text and "403" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        TwilioSmsInput.from_credentials(
            {
                **credentials,
                "webhook_url": "https://bot.example.org/webhooks/twilio/webhook",
            }
        ).blueprint(
            lambda m: None
        )  # type: ignore[arg-type,return-value]
    assert "webhook_url" not in caplog.text
