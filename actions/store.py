"""Durable storage for handoffs, callback requests and the notification outbox.

SQLAlchemy Core; SQLite by default (``var/handoffs.sqlite3`` under the project
root), PostgreSQL when ``HANDOFF_DB_URL`` is a ``postgresql://`` URL. All methods
are synchronous: async callers run them with ``asyncio.to_thread``.

A handoff and the outbox rows that notify staff about it are written in ONE
transaction, so either both exist or neither does.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row, make_url
from sqlalchemy.exc import IntegrityError

from actions.config import get_settings

LEVELS = ("emergency", "crisis", "admissions")
CHANNELS = ("webhook", "email")
# Unambiguous letters only (no I, L, O), so a reference read over the phone is
# clear and never looks like a phone number in the logs.
_REF_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_reference() -> str:
    """A short, human-friendly handoff id such as ``KXMP-RTWA``."""
    chars = "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Any
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: datetime | None, dialect: Any
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _tables(metadata: sa.MetaData, prefix: str) -> dict[str, sa.Table]:
    handoffs = sa.Table(
        f"{prefix}handoffs",
        metadata,
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("callback_name", sa.String(60), nullable=True),
        sa.Column("callback_phone", sa.String(20), nullable=True),
        sa.Column("callback_time", sa.String(80), nullable=True),
        sa.Column("callback_consent", sa.Boolean(), nullable=True),
        sa.Column("callback_requested_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "level IN ('emergency', 'crisis', 'admissions')",
            name=f"{prefix}handoffs_level_ck",
        ),
        sa.Index(f"{prefix}ix_handoffs_conversation", "conversation_id", "created_at"),
    )
    outbox = sa.Table(
        f"{prefix}outbox",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "handoff_id",
            sa.String(16),
            sa.ForeignKey(handoffs.c.id, ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, default=0),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "channel IN ('webhook', 'email')", name=f"{prefix}outbox_channel_ck"
        ),
        sa.Index(f"{prefix}ix_outbox_due", "delivered_at", "next_attempt_at"),
    )
    return {"handoffs": handoffs, "outbox": outbox}


@dataclass(frozen=True)
class Notification:
    """One message to staff, to be queued in the outbox."""

    channel: str  # 'webhook' | 'email'
    payload: dict[str, Any]


@dataclass(frozen=True)
class Callback:
    name: str
    phone: str  # E.164
    time: str
    consent: bool


@dataclass(frozen=True)
class Handoff:
    id: str
    created_at: datetime
    level: str
    conversation_id: str
    callback: Callback | None = None
    callback_requested_at: datetime | None = None

    @property
    def reference(self) -> str:
        return self.id


@dataclass(frozen=True)
class OutboxRow:
    id: int
    handoff_id: str
    channel: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None


NotificationFactory = Callable[[Handoff], Sequence[Notification]]


class Store:
    """Handoff + outbox storage on one SQLAlchemy engine."""

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        table_prefix: str = "",
        create_tables: bool = True,
    ) -> None:
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"future": True}
        if self.backend == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = sa.create_engine(url, **kwargs)
        if self.backend == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.metadata = sa.MetaData(schema=schema)
        tables = _tables(self.metadata, table_prefix)
        self.handoffs = tables["handoffs"]
        self.outbox = tables["outbox"]
        if create_tables:
            self.create_tables()

    # -- schema ----------------------------------------------------------- #

    def create_tables(self) -> None:
        """Create missing tables and indexes; safe to call any number of times."""
        self.metadata.create_all(self.engine, checkfirst=True)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- handoffs --------------------------------------------------------- #

    def record_handoff(
        self,
        level: str,
        conversation_id: str,
        notifications: NotificationFactory | None = None,
        *,
        now: datetime | None = None,
    ) -> Handoff:
        """Insert a handoff and its outbox rows atomically; return the handoff."""
        if level not in LEVELS:
            raise ValueError(f"unknown handoff level {level!r}")
        now = now or utcnow()
        for attempt in range(3):
            handoff = Handoff(new_reference(), now, level, conversation_id)
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        self.handoffs.insert().values(
                            id=handoff.id,
                            created_at=now,
                            level=level,
                            conversation_id=conversation_id,
                        )
                    )
                    if notifications is not None:
                        self._enqueue(conn, handoff, notifications(handoff), now)
                return handoff
            except IntegrityError:
                if attempt == 2 or self._exists(handoff.id) is False:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def attach_callback(
        self,
        conversation_id: str,
        callback: Callback,
        notifications: NotificationFactory | None = None,
        *,
        now: datetime | None = None,
        max_age: timedelta = timedelta(hours=24),
    ) -> Handoff:
        """Store a callback request on the conversation's latest handoff.

        Uses the most recent handoff of the conversation that has no callback yet
        (and is younger than ``max_age``); creates an 'admissions' handoff when
        there is none. The update and the outbox rows are one transaction.
        """
        now = now or utcnow()
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(
                    self.handoffs.c.id,
                    self.handoffs.c.created_at,
                    self.handoffs.c.level,
                )
                .where(
                    self.handoffs.c.conversation_id == conversation_id,
                    self.handoffs.c.callback_phone.is_(None),
                    self.handoffs.c.created_at >= now - max_age,
                )
                .order_by(self.handoffs.c.created_at.desc())
                .limit(1)
            ).first()
            if row is None:
                handoff_id, created_at, level = new_reference(), now, "admissions"
                conn.execute(
                    self.handoffs.insert().values(
                        id=handoff_id,
                        created_at=now,
                        level=level,
                        conversation_id=conversation_id,
                    )
                )
            else:
                handoff_id, created_at, level = row.id, row.created_at, row.level
            conn.execute(
                self.handoffs.update()
                .where(self.handoffs.c.id == handoff_id)
                .values(
                    callback_name=callback.name,
                    callback_phone=callback.phone,
                    callback_time=callback.time,
                    callback_consent=callback.consent,
                    callback_requested_at=now,
                )
            )
            handoff = Handoff(
                handoff_id, created_at, level, conversation_id, callback, now
            )
            if notifications is not None:
                self._enqueue(conn, handoff, notifications(handoff), now)
        return handoff

    def get_handoff(self, handoff_id: str) -> Handoff | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(self.handoffs).where(self.handoffs.c.id == handoff_id)
            ).first()
        return None if row is None else _handoff(row)

    def handoffs_for(self, conversation_id: str) -> list[Handoff]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(self.handoffs)
                .where(self.handoffs.c.conversation_id == conversation_id)
                .order_by(self.handoffs.c.created_at)
            ).all()
        return [_handoff(r) for r in rows]

    def _exists(self, handoff_id: str) -> bool:
        return self.get_handoff(handoff_id) is not None

    # -- outbox ----------------------------------------------------------- #

    def _enqueue(
        self,
        conn: Connection,
        handoff: Handoff,
        notifications: Sequence[Notification],
        now: datetime,
    ) -> None:
        rows = [
            {
                "handoff_id": handoff.id,
                "channel": n.channel,
                "payload": n.payload,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
            for n in notifications
        ]
        if rows:
            conn.execute(self.outbox.insert(), rows)

    def outbox_for(self, handoff_id: str) -> list[OutboxRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(self.outbox)
                .where(self.outbox.c.handoff_id == handoff_id)
                .order_by(self.outbox.c.id)
            ).all()
        return [_outbox(r) for r in rows]

    def get_outbox(self, outbox_id: int) -> OutboxRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(self.outbox).where(self.outbox.c.id == outbox_id)
            ).first()
        return None if row is None else _outbox(row)

    def pending_count(self) -> int:
        """Rows not delivered yet (due now or later)."""
        with self.engine.connect() as conn:
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(self.outbox)
                .where(self.outbox.c.delivered_at.is_(None))
            ).scalar_one()
        return int(count)

    def claim_due(
        self,
        *,
        now: datetime | None = None,
        limit: int = 50,
        lease: timedelta = timedelta(minutes=2),
    ) -> list[OutboxRow]:
        """Claim undelivered rows that are due, so no other worker sends them.

        Claiming pushes ``next_attempt_at`` forward by ``lease`` with an optimistic
        compare-and-set, which works on SQLite and PostgreSQL alike. If the worker
        dies mid-delivery the row simply becomes due again when the lease ends.
        """
        now = now or utcnow()
        claimed: list[OutboxRow] = []
        with self.engine.begin() as conn:
            candidates = conn.execute(
                sa.select(self.outbox)
                .where(
                    self.outbox.c.delivered_at.is_(None),
                    self.outbox.c.next_attempt_at <= now,
                )
                .order_by(self.outbox.c.next_attempt_at, self.outbox.c.id)
                .limit(limit)
            ).all()
            for row in candidates:
                result = conn.execute(
                    self.outbox.update()
                    .where(
                        self.outbox.c.id == row.id,
                        self.outbox.c.delivered_at.is_(None),
                        self.outbox.c.next_attempt_at == row.next_attempt_at,
                    )
                    .values(next_attempt_at=now + lease)
                )
                if result.rowcount == 1:
                    claimed.append(_outbox(row))
        return claimed

    def mark_delivered(self, outbox_id: int, *, now: datetime | None = None) -> None:
        now = now or utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                self.outbox.update()
                .where(self.outbox.c.id == outbox_id)
                .values(
                    delivered_at=now,
                    attempts=self.outbox.c.attempts + 1,
                    last_error=None,
                )
            )

    def mark_failed(
        self, outbox_id: int, error: str, *, next_attempt_at: datetime
    ) -> None:
        """Record a failed attempt; the row stays queued until ``next_attempt_at``."""
        with self.engine.begin() as conn:
            conn.execute(
                self.outbox.update()
                .where(
                    self.outbox.c.id == outbox_id,
                    self.outbox.c.delivered_at.is_(None),
                )
                .values(
                    attempts=self.outbox.c.attempts + 1,
                    next_attempt_at=next_attempt_at,
                    last_error=error[:1000],
                )
            )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _handoff(row: Row) -> Handoff:
    callback = None
    if row.callback_phone is not None:
        callback = Callback(
            name=row.callback_name,
            phone=row.callback_phone,
            time=row.callback_time,
            consent=bool(row.callback_consent),
        )
    return Handoff(
        id=row.id,
        created_at=row.created_at,
        level=row.level,
        conversation_id=row.conversation_id,
        callback=callback,
        callback_requested_at=row.callback_requested_at,
    )


def _outbox(row: Row) -> OutboxRow:
    return OutboxRow(
        id=row.id,
        handoff_id=row.handoff_id,
        channel=row.channel,
        payload=dict(row.payload),
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        last_error=row.last_error,
    )


# --------------------------------------------------------------------------- #
# The process-wide store, created on first use
# --------------------------------------------------------------------------- #

_lock = threading.Lock()
_store: Store | None = None


def get_store() -> Store:
    """The shared store for ``HANDOFF_DB_URL`` (created, with tables, on first use)."""
    global _store
    with _lock:
        if _store is None:
            _store = Store(get_settings().db_url)
        return _store


def set_store(store: Store | None) -> Store | None:
    """Replace the shared store (tests, server start-up); returns the previous one."""
    global _store
    with _lock:
        previous, _store = _store, store
    return previous
