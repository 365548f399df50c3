"""Delete conversations and handoffs older than the retention period (``make purge``).

``python -m tools.purge [--days N] [--tracker-url URL] [--handoff-url URL] [--dry-run]``

- **Conversations** (the tracker store's ``events`` table): every event of a
  conversation whose *latest* event is older than the retention period, so a
  conversation still going on is never cut in half.
- **Handoffs** (the handoff store's ``handoffs`` and their ``outbox`` notices):
  rows created before the retention period, except a staff notice not yet
  delivered (and its handoff), which is kept until it is.

The period is ``RETENTION_DAYS`` (default 30; ``.env.example``). Safe while the
servers run: each conversation's rows go in their own short transaction (the
servers append to a conversation; a conversation older than the period gets no
new rows, and one that does in the meantime is skipped because its latest
event is checked again inside the delete), SQLite waits for a busy database,
and PostgreSQL's row locks do the rest. Run it on a schedule (a nightly cron
job or a Kubernetes CronJob).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DAYS = 30


@dataclass
class Purged:
    conversations: int = 0
    events: int = 0
    handoffs: int = 0
    notices: int = 0


def retention_days(env: dict[str, str] | os._Environ[str] = os.environ) -> int:
    raw = (env.get("RETENTION_DAYS") or "").strip() or str(DEFAULT_DAYS)
    days = int(raw)
    if days < 1:
        raise ValueError(f"RETENTION_DAYS must be 1 or more, not {days}")
    return days


def tracker_url(env: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """The tracker store: TRACKER_DB_URL, PostgreSQL from TRACKER_PG_* when
    ENDPOINTS is the scale-out file, else SQLite TRACKER_DB."""
    if env.get("TRACKER_DB_URL"):
        return env["TRACKER_DB_URL"]
    if "scale" in (env.get("ENDPOINTS") or "") and env.get("TRACKER_PG_HOST"):
        return str(
            sa.engine.URL.create(
                "postgresql",
                username=env.get("TRACKER_PG_USER") or None,
                password=env.get("TRACKER_PG_PASSWORD") or None,
                host=env["TRACKER_PG_HOST"],
                port=int(env.get("TRACKER_PG_PORT") or 5432),
                database=env.get("TRACKER_PG_DB") or "rasa",
            ).render_as_string(hide_password=False)
        )
    db = Path(env.get("TRACKER_DB") or "var/tracker.sqlite3")
    return f"sqlite:///{db if db.is_absolute() else ROOT / db}"


def handoff_url(env: dict[str, str] | os._Environ[str] = os.environ) -> str:
    return env.get("HANDOFF_DB_URL") or f"sqlite:///{ROOT / 'var/handoffs.sqlite3'}"


def _engine(url: str) -> sa.engine.Engine:
    if url.startswith("sqlite"):
        return sa.create_engine(url, future=True, connect_args={"timeout": 30})
    return sa.create_engine(url, future=True, pool_pre_ping=True)


def purge_conversations(url: str, cutoff: float, dry_run: bool = False) -> Purged:
    """Delete conversations whose latest event is before ``cutoff`` (epoch s)."""
    done = Purged()
    engine = _engine(url)
    try:
        if not sa.inspect(engine).has_table("events"):
            return done
        events = sa.Table("events", sa.MetaData(), autoload_with=engine)
        latest = sa.func.max(events.c.timestamp)
        with engine.connect() as conn:
            old = [
                sender
                for (sender,) in conn.execute(
                    sa.select(events.c.sender_id)
                    .group_by(events.c.sender_id)
                    .having(latest < cutoff)
                )
            ]
        for sender in old:
            with engine.begin() as conn:
                # checked again inside the transaction: a conversation that got
                # a message since is kept
                newest = conn.execute(
                    sa.select(latest).where(events.c.sender_id == sender)
                ).scalar()
                if newest is None or newest >= cutoff:
                    continue
                if dry_run:
                    count = conn.execute(
                        sa.select(sa.func.count())
                        .select_from(events)
                        .where(events.c.sender_id == sender)
                    ).scalar()
                else:
                    count = conn.execute(
                        events.delete().where(
                            events.c.sender_id == sender, events.c.timestamp < cutoff
                        )
                    ).rowcount
                done.conversations += 1
                done.events += int(count or 0)
    finally:
        engine.dispose()
    return done


def purge_handoffs(url: str, cutoff: datetime, dry_run: bool = False) -> Purged:
    """Delete handoffs created before ``cutoff`` and their delivered notices."""
    done = Purged()
    engine = _engine(url)
    try:
        inspector = sa.inspect(engine)
        if not inspector.has_table("handoffs"):
            return done
        meta = sa.MetaData()
        handoffs = sa.Table("handoffs", meta, autoload_with=engine)
        outbox = (
            sa.Table("outbox", meta, autoload_with=engine)
            if inspector.has_table("outbox")
            else None
        )
        cutoff = cutoff.astimezone(timezone.utc)
        if engine.dialect.name == "sqlite":  # stored as naive UTC (actions/store.py)
            cutoff = cutoff.replace(tzinfo=None)
        with engine.begin() as conn:
            old = sa.select(handoffs.c.id).where(handoffs.c.created_at < cutoff)
            if outbox is not None:
                undelivered = sa.select(outbox.c.handoff_id).where(
                    outbox.c.delivered_at.is_(None)
                )
                old = old.where(handoffs.c.id.not_in(undelivered))
            ids = [row for (row,) in conn.execute(old)]
            if not ids or dry_run:
                done.handoffs = len(ids)
                return done
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                if outbox is not None:
                    done.notices += (
                        conn.execute(
                            outbox.delete().where(outbox.c.handoff_id.in_(chunk))
                        ).rowcount
                        or 0
                    )
                done.handoffs += (
                    conn.execute(
                        handoffs.delete().where(handoffs.c.id.in_(chunk))
                    ).rowcount
                    or 0
                )
    finally:
        engine.dispose()
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--days", type=int, help="retention period (RETENTION_DAYS, default 30)"
    )
    parser.add_argument("--tracker-url", help="SQLAlchemy URL of the tracker store")
    parser.add_argument("--handoff-url", help="SQLAlchemy URL of the handoff store")
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    args = parser.parse_args(argv)
    try:
        days = args.days if args.days is not None else retention_days()
        if days < 1:
            raise ValueError("--days must be 1 or more")
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    now = datetime.now(timezone.utc)
    conversations = purge_conversations(
        args.tracker_url or tracker_url(), time.time() - days * 86400, args.dry_run
    )
    handoffs = purge_handoffs(
        args.handoff_url or handoff_url(), now - timedelta(days=days), args.dry_run
    )
    verb = "Would delete" if args.dry_run else "Deleted"
    print(
        f"{verb} {conversations.conversations} conversations ({conversations.events} "
        f"events) and {handoffs.handoffs} handoffs ({handoffs.notices} staff notices) "
        f"older than {days} days."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
