"""The SQLite store: schema, atomic handoff + outbox writes, callbacks, claiming."""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from actions.store import (
    Callback,
    Handoff,
    Notification,
    Store,
    get_store,
    set_store,
    utcnow,
)

pytestmark = pytest.mark.usefixtures("isolated_config")

CALLBACK = Callback(name="Ana", phone="+12135550143", time="mornings", consent=True)


def one_webhook(handoff: Handoff) -> list[Notification]:
    return [Notification("webhook", {"text": f"handoff {handoff.reference}"})]


def test_database_directory_is_created_on_first_use(tmp_path: Path) -> None:
    db_file = tmp_path / "nested" / "var" / "handoffs.sqlite3"
    assert not db_file.parent.exists()
    store = Store(f"sqlite:///{db_file}")
    try:
        assert db_file.exists()
    finally:
        store.dispose()


def test_create_tables_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    first = Store(url)
    handoff = first.record_handoff("crisis", "conv-1")
    first.create_tables()
    first.dispose()
    second = Store(url)  # tables exist already: no error, data kept
    try:
        assert second.get_handoff(handoff.id) == handoff
    finally:
        second.dispose()


def test_record_handoff_round_trip(handoff_store: Store) -> None:
    handoff = handoff_store.record_handoff("emergency", "conv-1", one_webhook)
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", handoff.reference)
    assert handoff.created_at.tzinfo is not None
    stored = handoff_store.get_handoff(handoff.id)
    assert stored == handoff
    assert stored is not None and stored.created_at.utcoffset() == timedelta(0)
    assert stored.callback is None

    [row] = handoff_store.outbox_for(handoff.id)
    assert row.channel == "webhook"
    assert row.payload == {"text": f"handoff {handoff.reference}"}
    assert row.attempts == 0
    assert row.delivered_at is None and row.last_error is None
    assert row.next_attempt_at == handoff.created_at


def test_unknown_level_is_rejected(handoff_store: Store) -> None:
    with pytest.raises(ValueError, match="level"):
        handoff_store.record_handoff("panic", "conv-1")


def test_handoff_and_outbox_are_one_transaction(handoff_store: Store) -> None:
    def bad_channel(handoff: Handoff) -> list[Notification]:
        return [Notification("webhook", {}), Notification("pager", {})]

    with pytest.raises(Exception):  # noqa: B017 - the CHECK constraint fires
        handoff_store.record_handoff("crisis", "conv-tx", bad_channel)
    assert handoff_store.handoffs_for("conv-tx") == []
    assert handoff_store.pending_count() == 0

    def exploding(handoff: Handoff) -> list[Notification]:
        raise RuntimeError("renderer failed")

    with pytest.raises(RuntimeError):
        handoff_store.record_handoff("crisis", "conv-tx", exploding)
    assert handoff_store.handoffs_for("conv-tx") == []


def test_attach_callback_updates_the_latest_open_handoff(handoff_store: Store) -> None:
    older = handoff_store.record_handoff("crisis", "conv-1")
    latest = handoff_store.record_handoff(
        "admissions", "conv-1", now=older.created_at + timedelta(seconds=5)
    )
    handoff_store.record_handoff("admissions", "someone-else")

    updated = handoff_store.attach_callback("conv-1", CALLBACK, one_webhook)
    assert updated.id == latest.id
    assert updated.level == "admissions"
    stored = handoff_store.get_handoff(latest.id)
    assert stored is not None and stored.callback == CALLBACK
    assert stored.callback_requested_at is not None
    assert handoff_store.get_handoff(older.id).callback is None  # type: ignore[union-attr]
    assert len(handoff_store.outbox_for(latest.id)) == 1


def test_attach_callback_without_open_handoff_creates_one(handoff_store: Store) -> None:
    first = handoff_store.attach_callback("conv-2", CALLBACK)
    assert first.level == "admissions" and first.callback == CALLBACK
    # The only handoff already has a callback: a second request gets its own.
    second = handoff_store.attach_callback("conv-2", CALLBACK)
    assert second.id != first.id
    assert len(handoff_store.handoffs_for("conv-2")) == 2


def test_attach_callback_ignores_stale_handoffs(handoff_store: Store) -> None:
    stale = handoff_store.record_handoff(
        "admissions", "conv-3", now=utcnow() - timedelta(days=2)
    )
    fresh = handoff_store.attach_callback("conv-3", CALLBACK)
    assert fresh.id != stale.id


def test_attach_callback_is_atomic(handoff_store: Store) -> None:
    handoff = handoff_store.record_handoff("admissions", "conv-4")

    def exploding(h: Handoff) -> list[Notification]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        handoff_store.attach_callback("conv-4", CALLBACK, exploding)
    assert handoff_store.get_handoff(handoff.id).callback is None  # type: ignore[union-attr]


def test_claim_mark_failed_and_delivered(handoff_store: Store) -> None:
    now = utcnow()
    handoff = handoff_store.record_handoff("emergency", "conv-5", one_webhook, now=now)
    [claimed] = handoff_store.claim_due(now=now)
    assert claimed.handoff_id == handoff.id
    # Leased: a second worker does not get it.
    assert handoff_store.claim_due(now=now) == []

    handoff_store.mark_failed(
        claimed.id, "HTTP 500", next_attempt_at=now + timedelta(seconds=30)
    )
    row = handoff_store.get_outbox(claimed.id)
    assert row is not None
    assert (row.attempts, row.last_error, row.delivered_at) == (1, "HTTP 500", None)
    assert handoff_store.claim_due(now=now + timedelta(seconds=10)) == []
    [again] = handoff_store.claim_due(now=now + timedelta(seconds=31))
    assert again.attempts == 1

    handoff_store.mark_delivered(again.id)
    row = handoff_store.get_outbox(again.id)
    assert row is not None and row.delivered_at is not None
    assert row.delivered_at.tzinfo == timezone.utc
    assert row.attempts == 2 and row.last_error is None
    assert handoff_store.pending_count() == 0
    assert handoff_store.claim_due(now=now + timedelta(days=1)) == []


def test_claim_expired_lease_makes_row_due_again(handoff_store: Store) -> None:
    now = utcnow()
    handoff_store.record_handoff("crisis", "conv-6", one_webhook, now=now)
    assert len(handoff_store.claim_due(now=now, lease=timedelta(minutes=2))) == 1
    assert handoff_store.claim_due(now=now + timedelta(minutes=1)) == []
    assert len(handoff_store.claim_due(now=now + timedelta(minutes=3))) == 1


def test_naive_datetimes_are_refused(handoff_store: Store) -> None:
    with pytest.raises(Exception, match="naive"):
        handoff_store.record_handoff(
            "crisis", "conv-7", now=utcnow().replace(tzinfo=None)
        )


def test_shared_store_uses_configured_url(
    tmp_path: Path, isolated_config: pytest.MonkeyPatch
) -> None:
    db_file = tmp_path / "shared" / "h.sqlite3"
    isolated_config.setenv("HANDOFF_DB_URL", f"sqlite:///{db_file}")
    previous = set_store(None)
    try:
        store = get_store()
        assert get_store() is store
        assert db_file.exists()
        store.dispose()
    finally:
        set_store(previous)
