"""One running assistant for all system tests: deploy/run.sh exactly as `make run`
starts it, with every messaging channel configured against a local fake of the
platforms' send APIs (tests/system/fake_platforms.py)."""
from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest
from fake_platforms import start_fake
from harness import Bot, base_env, free_port, start

TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "twilio-test-auth-token"
TWILIO_SMS_URL = "https://bot.example.org/webhooks/twilio/webhook"
TWILIO_WA_URL = "https://bot.example.org/webhooks/twilio_whatsapp/webhook"
TELEGRAM_TOKEN = "123456:TEST-telegram-token"
TELEGRAM_SECRET = "telegram-test-secret_1"
FB_SECRET = "facebook-test-app-secret"
SLACK_SECRET = "slack-test-signing-secret"
VISITOR_PHONE = "+13105550123"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("stack")
    fake = start_fake(free_port())
    env = base_env(tmp)
    env.update(
        TWILIO_ACCOUNT_SID=TWILIO_SID,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_SMS_NUMBER="+12135550100",
        TWILIO_SMS_WEBHOOK_URL=TWILIO_SMS_URL,
        TWILIO_WHATSAPP_NUMBER="+12135550101",
        TWILIO_WHATSAPP_WEBHOOK_URL=TWILIO_WA_URL,
        TWILIO_API_URL=fake.base,
        TELEGRAM_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_BOT_NAME="detox_la_test_bot",
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/webhooks/telegram/webhook",
        TELEGRAM_SECRET_TOKEN=TELEGRAM_SECRET,
        TELEGRAM_API_URL=fake.base,
        FACEBOOK_VERIFY_TOKEN="fb-verify-me",
        FACEBOOK_APP_SECRET=FB_SECRET,
        FACEBOOK_PAGE_ACCESS_TOKEN="fb-page-token",
        FACEBOOK_GRAPH_URL=fake.base,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SLACK_SECRET,
        SLACK_API_URL=fake.base,
        # Each run's own logs, at DEBUG (Rasa then logs what visitors type):
        # test_channels.py checks they hold no phone number, e-mail or name.
        LOG_DIR=str(tmp / "logs"),
        LOG_LEVEL="DEBUG",
    )
    proc = start(env, ["deploy/run.sh"], "The assistant is running", tmp / "run.log")
    yield {
        "fake": fake,
        "rasa": f"http://127.0.0.1:{env['RASA_PORT']}",
        "bot": Bot(int(env["RASA_PORT"])),
        "web": f"http://localhost:{env['WEB_PORT']}/",
        "env": env,
        "tmp": tmp,
        "logs": tmp / "logs",
    }
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
