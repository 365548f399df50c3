"""The store against the REAL PostgreSQL (trust auth, running here and in CI).

Everything happens in a throw-away schema that is dropped afterwards. There is
deliberately no skip: if PostgreSQL is unreachable these tests FAIL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from actions.config import load_settings
from actions.handoff import callback_notifications, handoff_notifications
from actions.store import Callback, Handoff, Notification, Store, utcnow

pytestmark = pytest.mark.integration

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def pg_store() -> Iterator[Store]:
    schema = f"handoff_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, future=True)
    with admin.begin() as conn:  # fails loudly when PostgreSQL is down
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    store = Store(POSTGRES_URL, schema=schema)
    try:
        yield store
    finally:
        store.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_postgres_is_the_backend(pg_store: Store) -> None:
    assert pg_store.backend == "postgresql"
    with pg_store.engine.connect() as conn:
        tables = set(
            conn.execute(
                sa.text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = :schema"
                ),
                {"schema": pg_store.metadata.schema},
            ).scalars()
        )
    assert tables == {"handoffs", "outbox"}
    pg_store.create_tables()  # idempotent on PostgreSQL too


def test_handoff_callback_and_outbox_round_trip(pg_store: Store) -> None:
    settings = load_settings(
        {
            "NOTIFY_WEBHOOK_URL": "https://hooks.example.com/services/x",
            "SMTP_HOST": "smtp.example.com",
            "NOTIFY_EMAIL_TO": "staff@example.com",
            "NOTIFY_EMAIL_FROM": "bot@example.com",
        }
    )
    now = utcnow()
    handoff = pg_store.record_handoff(
        "admissions", "conv-pg", lambda h: handoff_notifications(settings, h), now=now
    )
    stored = pg_store.get_handoff(handoff.id)
    assert stored == handoff
    assert stored is not None and stored.created_at.utcoffset() == timedelta(0)

    callback = Callback(name="Ana", phone="+12135550143", time="mornings", consent=True)
    updated = pg_store.attach_callback(
        "conv-pg", callback, lambda h: callback_notifications(settings, h)
    )
    assert updated.id == handoff.id
    stored = pg_store.get_handoff(handoff.id)
    assert stored is not None and stored.callback == callback

    rows = pg_store.outbox_for(handoff.id)
    assert sorted(r.channel for r in rows) == ["email", "email", "webhook", "webhook"]
    webhook_rows = [r for r in rows if r.channel == "webhook"]
    assert "blocks" in webhook_rows[0].payload  # JSON round trip
    assert "+12135550143" in webhook_rows[1].payload["text"]
    assert pg_store.pending_count() == 4

    # Claim / fail / deliver cycle, with leases honoured.
    claimed = pg_store.claim_due(now=now + timedelta(seconds=1))
    assert len(claimed) == 4
    assert pg_store.claim_due(now=now + timedelta(seconds=1)) == []
    first, *rest = claimed
    pg_store.mark_failed(
        first.id, "HTTP 500", next_attempt_at=now + timedelta(seconds=30)
    )
    for row in rest:
        pg_store.mark_delivered(row.id)
    failed = pg_store.get_outbox(first.id)
    assert failed is not None
    assert (failed.attempts, failed.last_error, failed.delivered_at) == (
        1,
        "HTTP 500",
        None,
    )
    assert pg_store.pending_count() == 1
    [again] = pg_store.claim_due(now=now + timedelta(seconds=31))
    pg_store.mark_delivered(again.id)
    assert pg_store.pending_count() == 0


def test_handoff_and_outbox_roll_back_together(pg_store: Store) -> None:
    def bad(handoff: Handoff) -> list[Notification]:
        return [Notification("webhook", {"text": "ok"}), Notification("fax", {})]

    with pytest.raises(sa.exc.IntegrityError):
        pg_store.record_handoff("crisis", "conv-rollback", bad)
    assert pg_store.handoffs_for("conv-rollback") == []
    assert pg_store.pending_count() == 0
