"""``make purge`` (tools/purge.py): conversations and handoffs older than the
retention period go, newer ones and undelivered staff notices stay, and it
runs while a server keeps writing."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions.store import Notification, Store, utcnow
from rasa_server.stores.sql_tracker_store import LeanSQLTrackerStore
from tools import purge

DOMAIN = Domain.from_yaml('version: "3.1"\nintents: [greet]\n')
DAY = 86400.0


async def save(store: LeanSQLTrackerStore, sender: str, at: float, n: int = 3) -> None:
    tracker = await store.retrieve(sender) or DialogueStateTracker(sender, DOMAIN.slots)
    if not tracker.events:
        tracker.update(ActionExecuted("action_session_start", timestamp=at))
        tracker.update(SessionStarted(timestamp=at))
    for i in range(n):
        tracker.update(UserUttered(f"hi {i}", {"name": "greet"}, timestamp=at + i))
    await store.save(tracker)


def senders(url: str) -> set[str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = {
            s for (s,) in conn.execute(sa.text("SELECT DISTINCT sender_id FROM events"))
        }
    engine.dispose()
    return found


async def test_old_conversations_go_and_a_live_one_is_kept_while_written(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = LeanSQLTrackerStore(
        DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db")
    )
    now = time.time()
    for number in range(20):
        await save(store, f"rest:old-{number}", now - 40 * DAY)
    await save(store, "rest:recent", now - 5 * DAY)
    await save(store, "rest:old-but-back", now - 40 * DAY)
    await save(store, "rest:old-but-back", now)  # came back today: kept whole

    errors: list[BaseException] = []
    stop = threading.Event()

    def server() -> None:  # another connection keeps writing, as Rasa does
        import asyncio

        writer = LeanSQLTrackerStore(
            DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db")
        )
        try:
            while not stop.is_set():
                asyncio.run(save(writer, "rest:live", time.time(), 1))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    thread = threading.Thread(target=server)
    thread.start()
    try:
        done = purge.purge_conversations(url, now - 30 * DAY)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert done.conversations == 20 and done.events == 20 * 5
    assert senders(url) == {"rest:recent", "rest:old-but-back", "rest:live"}
    tracker = await store.retrieve("rest:old-but-back")
    assert tracker is not None and len(tracker.events) >= 4


def test_old_handoffs_go_with_their_delivered_notices(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'handoffs.db'}"
    store = Store(url)
    old = utcnow() - timedelta(days=40)
    gone = store.record_handoff("crisis", "rest:a", now=old)
    pending = store.record_handoff(
        "admissions", "rest:b",
        lambda h: [Notification("webhook", {"text": "call back"})], now=old,
    )  # fmt: skip
    kept = store.record_handoff("crisis", "rest:c")
    done = purge.purge_handoffs(url, utcnow() - timedelta(days=30))
    assert done.handoffs == 1
    assert store.get_handoff(gone.id) is None
    assert store.get_handoff(pending.id) is not None  # its notice is not delivered yet
    assert store.get_handoff(kept.id) is not None
    (row,) = store.outbox_for(pending.id)
    store.mark_delivered(row.id)
    assert purge.purge_handoffs(url, utcnow() - timedelta(days=30)).handoffs == 1
    assert store.get_handoff(pending.id) is None
    store.dispose()


def test_the_period_comes_from_the_environment_and_defaults_to_30_days() -> None:
    assert purge.retention_days({}) == 30
    assert purge.retention_days({"RETENTION_DAYS": "7"}) == 7
    env_example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    assert "\nRETENTION_DAYS=" in env_example
    assert purge.main(["--days", "0"]) == 2
