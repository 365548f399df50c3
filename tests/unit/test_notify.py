"""Notifier: webhook + e-mail delivery, retries with backoff, nothing dropped.

A fake Slack-compatible webhook runs on 127.0.0.1; SMTP is mocked.
"""

from __future__ import annotations

import json
import smtplib
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import pytest

from actions import notify
from actions.config import Settings, load_settings
from actions.handoff import handoff_notifications
from actions.notify import deliver_pending
from actions.store import Handoff, Store, utcnow

pytestmark = pytest.mark.usefixtures("isolated_config")

SMTP_ENV = {
    "SMTP_HOST": "smtp.example.com",
    "SMTP_USER": "bot",
    "SMTP_PASSWORD": "s3cret",
    "NOTIFY_EMAIL_TO": "staff@example.com",
    "NOTIFY_EMAIL_FROM": "bot@example.com",
}


class FakeWebhook:
    """A tiny HTTP server answering POSTs with scripted status codes."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0) -> None:
        self.statuses = list(statuses or [])
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.answered: list[int] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                fake.requests.append(body)
                status = fake.statuses.pop(0) if fake.statuses else 200
                time.sleep(fake.delay)
                fake.answered.append(status)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T/B/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeWebhook:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def http_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
        status: int = response.status
    return status


def queue_handoff(store: Store, settings: Settings, now: datetime) -> Handoff:
    return store.record_handoff(
        "emergency", "conv-n", lambda h: handoff_notifications(settings, h), now=now
    )


@pytest.fixture
def webhook() -> Iterator[FakeWebhook]:
    with FakeWebhook() as fake:
        yield fake


async def test_webhook_500_then_200_is_retried_and_delivered_once(
    handoff_store: Store, webhook: FakeWebhook
) -> None:
    webhook.statuses = [500, 200]
    settings = load_settings({"NOTIFY_WEBHOOK_URL": webhook.url})
    now = utcnow()
    handoff = queue_handoff(handoff_store, settings, now)

    first = await deliver_pending(handoff_store, settings, now=now)
    assert (first.claimed, first.delivered, first.failed, first.pending) == (1, 0, 1, 1)
    [row] = handoff_store.outbox_for(handoff.id)
    assert row.attempts == 1 and row.delivered_at is None
    assert row.last_error == "webhook answered HTTP 500"
    assert row.next_attempt_at == now + timedelta(seconds=notify.BASE_DELAY_SECONDS)

    # Not due yet: nothing is sent.
    early = await deliver_pending(
        handoff_store, settings, now=now + timedelta(seconds=5)
    )
    assert early.claimed == 0

    later = now + timedelta(seconds=notify.BASE_DELAY_SECONDS + 1)
    second = await deliver_pending(handoff_store, settings, now=later)
    assert (second.delivered, second.failed, second.pending) == (1, 0, 0)
    [row] = handoff_store.outbox_for(handoff.id)
    assert row.delivered_at is not None and row.attempts == 2

    third = await deliver_pending(
        handoff_store, settings, now=later + timedelta(days=1)
    )
    assert third.claimed == 0
    assert webhook.answered == [500, 200]  # delivered exactly once
    assert webhook.requests[0] == row.payload
    assert handoff.reference in webhook.requests[0]["text"]
    assert webhook.requests[0]["blocks"]


async def test_backoff_doubles_and_is_capped(
    handoff_store: Store, webhook: FakeWebhook
) -> None:
    webhook.statuses = [503] * 6
    settings = load_settings({"NOTIFY_WEBHOOK_URL": webhook.url})
    now = utcnow()
    handoff = queue_handoff(handoff_store, settings, now)
    delays = []
    for _ in range(6):
        await deliver_pending(
            handoff_store, settings, now=now, base_delay=10, max_delay=100
        )
        [row] = handoff_store.outbox_for(handoff.id)
        delays.append((row.next_attempt_at - now).total_seconds())
        now = row.next_attempt_at
    assert delays == [10, 20, 40, 80, 100, 100]
    assert row.attempts == 6 and row.delivered_at is None


async def test_notifier_down_keeps_the_row_and_counts_attempts(
    handoff_store: Store,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/services/T/B/token"
    settings = load_settings({"NOTIFY_WEBHOOK_URL": url})
    now = utcnow()
    handoff = queue_handoff(handoff_store, settings, now)

    for attempt in (1, 2, 3):
        report = await deliver_pending(handoff_store, settings, now=now, base_delay=0)
        assert (report.failed, report.pending) == (1, 1)
        [row] = handoff_store.outbox_for(handoff.id)
        assert row.attempts == attempt
        assert row.delivered_at is None
        assert row.last_error is not None and "unreachable" in row.last_error
        assert "token" not in row.last_error  # the secret URL is never stored


async def test_webhook_timeout_is_a_failed_attempt(handoff_store: Store) -> None:
    with FakeWebhook(delay=1.0) as slow:
        settings = load_settings({"NOTIFY_WEBHOOK_URL": slow.url})
        handoff = queue_handoff(handoff_store, settings, utcnow())
        report = await deliver_pending(handoff_store, settings, http_timeout=0.2)
    assert report.failed == 1
    [row] = handoff_store.outbox_for(handoff.id)
    assert row.last_error == "webhook timed out" and row.delivered_at is None


async def test_row_for_unconfigured_channel_is_kept(
    handoff_store: Store, webhook: FakeWebhook
) -> None:
    queued_with = load_settings({"NOTIFY_WEBHOOK_URL": webhook.url})
    handoff = queue_handoff(handoff_store, queued_with, utcnow())
    report = await deliver_pending(handoff_store, load_settings({}))
    assert report.failed == 1
    [row] = handoff_store.outbox_for(handoff.id)
    assert row.last_error is not None and "NOTIFY_WEBHOOK_URL" in row.last_error
    assert webhook.requests == []


async def test_nothing_pending(handoff_store: Store) -> None:
    report = await deliver_pending(handoff_store, load_settings({}))
    assert str(report) == "claimed=0 delivered=0 failed=0 pending=0"


# -- e-mail ------------------------------------------------------------------- #


def smtp_mock() -> mock.MagicMock:
    client = mock.MagicMock(spec=smtplib.SMTP)
    client.__enter__.return_value = client
    client.has_extn.return_value = True
    client.send_message.return_value = {}
    return mock.MagicMock(return_value=client)


async def test_email_is_sent_with_starttls_and_login(handoff_store: Store) -> None:
    settings = load_settings(SMTP_ENV)
    handoff = queue_handoff(handoff_store, settings, utcnow())
    factory = smtp_mock()
    with mock.patch.object(notify.smtplib, "SMTP", factory):
        report = await deliver_pending(handoff_store, settings)
    assert report.delivered == 1
    factory.assert_called_once_with("smtp.example.com", 587, timeout=mock.ANY)
    client = factory.return_value
    client.starttls.assert_called_once()
    client.login.assert_called_once_with("bot", "s3cret")
    [message] = client.send_message.call_args.args
    assert message["To"] == "staff@example.com"
    assert message["From"] == "bot@example.com"
    assert handoff.reference in message["Subject"]
    assert "911" in message.get_content()
    [row] = handoff_store.outbox_for(handoff.id)
    assert row.delivered_at is not None


@pytest.mark.parametrize(
    "failure",
    [
        {"send_message.side_effect": smtplib.SMTPServerDisconnected("gone")},
        {"login.side_effect": smtplib.SMTPAuthenticationError(535, b"no")},
        {"send_message.return_value": {"staff@example.com": (550, b"no such user")}},
    ],
)
async def test_email_failure_keeps_the_row(
    failure: dict[str, Any], handoff_store: Store
) -> None:
    settings = load_settings(SMTP_ENV)
    handoff = queue_handoff(handoff_store, settings, utcnow())
    factory = smtp_mock()
    factory.return_value.configure_mock(**failure)
    with mock.patch.object(notify.smtplib, "SMTP", factory):
        report = await deliver_pending(handoff_store, settings)
    assert (report.delivered, report.failed, report.pending) == (0, 1, 1)
    [row] = handoff_store.outbox_for(handoff.id)
    assert row.attempts == 1 and row.delivered_at is None and row.last_error


async def test_both_channels_are_delivered_independently(
    handoff_store: Store, webhook: FakeWebhook
) -> None:
    webhook.statuses = [500]
    settings = load_settings({**SMTP_ENV, "NOTIFY_WEBHOOK_URL": webhook.url})
    handoff = queue_handoff(handoff_store, settings, utcnow())
    with mock.patch.object(notify.smtplib, "SMTP", smtp_mock()):
        report = await deliver_pending(handoff_store, settings)
    assert (report.delivered, report.failed) == (1, 1)
    rows = {r.channel: r for r in handoff_store.outbox_for(handoff.id)}
    assert rows["email"].delivered_at is not None
    assert rows["webhook"].delivered_at is None and rows["webhook"].attempts == 1
