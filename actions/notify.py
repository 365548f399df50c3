"""Deliver queued staff notifications (the outbox) by webhook and/or e-mail.

Each pending row is claimed, sent, and then either marked delivered (HTTP 2xx /
SMTP accepted) or rescheduled with exponential backoff. Rows are never dropped:
a notifier that is down only delays them.

Run one pass from the command line::

    python -m actions.notify --once
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import smtplib
import ssl
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiohttp

from actions.config import ConfigError, Settings, SmtpSettings, get_settings
from actions.store import OutboxRow, Store, get_store, utcnow
from common import redact

logger = logging.getLogger(__name__)

BASE_DELAY_SECONDS = 30.0
MAX_DELAY_SECONDS = 15 * 60.0
HTTP_TIMEOUT_SECONDS = 10.0
SMTP_TIMEOUT_SECONDS = 20.0
LEASE = timedelta(minutes=2)


class DeliveryError(Exception):
    """A notification could not be delivered (message is safe to store)."""


@dataclass
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    pending: int = 0  # undelivered rows left after this pass (due now or later)

    def __str__(self) -> str:
        return (
            f"claimed={self.claimed} delivered={self.delivered} "
            f"failed={self.failed} pending={self.pending}"
        )


def backoff(attempts: int, base: float, maximum: float) -> float:
    """Seconds to wait after the ``attempts``-th failure: base, 2x, 4x ... capped."""
    return min(maximum, base * (2 ** max(0, attempts - 1)))


async def send_webhook(
    session: aiohttp.ClientSession, url: str, payload: dict[str, Any]
) -> None:
    try:
        async with session.post(url, json=payload) as response:
            await response.read()
            if not 200 <= response.status < 300:
                raise DeliveryError(f"webhook answered HTTP {response.status}")
    except DeliveryError:
        raise
    except asyncio.TimeoutError:
        raise DeliveryError("webhook timed out") from None
    except aiohttp.ClientError as exc:
        # aiohttp messages may contain the URL, which is a secret: keep the type.
        raise DeliveryError(f"webhook unreachable ({type(exc).__name__})") from None


def build_email(smtp: SmtpSettings, payload: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = str(payload.get("subject", "Chatbot handoff"))
    message["From"] = smtp.email_from
    message["To"] = ", ".join(smtp.email_to)
    message.set_content(str(payload.get("body", "")))
    return message


def send_email_sync(smtp: SmtpSettings, message: EmailMessage, timeout: float) -> None:
    """Blocking SMTP send (run in a thread). STARTTLS when offered, SSL on 465."""
    try:
        client: smtplib.SMTP
        if smtp.port == 465:
            client = smtplib.SMTP_SSL(
                smtp.host,
                smtp.port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with client:
            client.ehlo()
            if smtp.port != 465 and client.has_extn("starttls"):
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if smtp.user:
                client.login(smtp.user, smtp.password or "")
            refused = client.send_message(message)
            if refused:
                raise DeliveryError(f"SMTP refused {len(refused)} recipient(s)")
    except DeliveryError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"e-mail failed ({type(exc).__name__})") from None


async def _deliver_one(
    row: OutboxRow,
    settings: Settings,
    session: aiohttp.ClientSession,
    smtp_timeout: float,
) -> None:
    if row.channel == "webhook":
        if not settings.webhook_url:
            raise DeliveryError("NOTIFY_WEBHOOK_URL is not configured")
        await send_webhook(session, settings.webhook_url, row.payload)
    elif row.channel == "email":
        if settings.smtp is None:
            raise DeliveryError("SMTP_HOST is not configured")
        message = build_email(settings.smtp, row.payload)
        await asyncio.to_thread(send_email_sync, settings.smtp, message, smtp_timeout)
    else:
        raise DeliveryError(f"unknown channel {row.channel!r}")


async def deliver_pending(
    store: Store,
    settings: Settings | None = None,
    *,
    now: datetime | None = None,
    limit: int = 50,
    base_delay: float = BASE_DELAY_SECONDS,
    max_delay: float = MAX_DELAY_SECONDS,
    http_timeout: float = HTTP_TIMEOUT_SECONDS,
    smtp_timeout: float = SMTP_TIMEOUT_SECONDS,
) -> DeliveryReport:
    """Try every due outbox row once; return what happened."""
    settings = settings or get_settings()
    now = now or utcnow()
    report = DeliveryReport()
    rows: list[OutboxRow] = await asyncio.to_thread(
        store.claim_due, now=now, limit=limit, lease=LEASE
    )
    report.claimed = len(rows)
    if rows:
        timeout = aiohttp.ClientTimeout(total=http_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for row in rows:
                try:
                    await _deliver_one(row, settings, session, smtp_timeout)
                except Exception as exc:
                    error = (
                        str(exc)
                        if isinstance(exc, DeliveryError)
                        else (f"unexpected {type(exc).__name__}")
                    )
                    attempts = row.attempts + 1
                    delay = backoff(attempts, base_delay, max_delay)
                    await asyncio.to_thread(
                        store.mark_failed,
                        row.id,
                        error,
                        next_attempt_at=now + timedelta(seconds=delay),
                    )
                    report.failed += 1
                    log = logger.error if attempts >= 5 else logger.warning
                    log(
                        "Outbox row %s (%s, handoff %s) attempt %s failed: %s; "
                        "retrying in %ss",
                        row.id,
                        row.channel,
                        row.handoff_id,
                        attempts,
                        error,
                        int(delay),
                        exc_info=not isinstance(exc, DeliveryError),
                    )
                else:
                    await asyncio.to_thread(store.mark_delivered, row.id)
                    report.delivered += 1
                    logger.info(
                        "Outbox row %s (%s, handoff %s) delivered",
                        row.id,
                        row.channel,
                        row.handoff_id,
                    )
    report.pending = await asyncio.to_thread(store.pending_count)
    return report


async def run_forever(
    store: Store, settings: Settings, interval: float, stop: asyncio.Event
) -> None:
    """Call :func:`deliver_pending` every ``interval`` seconds until ``stop``."""
    while not stop.is_set():
        try:
            report = await deliver_pending(store, settings)
            if report.claimed:
                logger.info("Notifier pass: %s", report)
        except Exception:
            logger.exception("Notifier pass failed; will retry")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m actions.notify",
        description="Deliver queued handoff notifications to staff.",
    )
    parser.add_argument(
        "--once", action="store_true", help="one delivery pass, print counts, exit"
    )
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    redact.install()
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"Invalid configuration: {exc}", file=sys.stderr)
        return 2
    if not settings.notify_channels:
        logger.warning(
            "No notification channel configured (NOTIFY_WEBHOOK_URL or SMTP_HOST); "
            "queued rows will stay pending"
        )
    store = get_store()
    try:
        if args.once:
            report = asyncio.run(deliver_pending(store, settings))
            print(report)
            return 1 if report.failed else 0

        async def loop() -> None:
            stop = asyncio.Event()
            running = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                running.add_signal_handler(sig, stop.set)
            await run_forever(store, settings, settings.notify_interval_seconds, stop)

        asyncio.run(loop())
        return 0
    finally:
        store.dispose()


if __name__ == "__main__":
    sys.exit(main())
