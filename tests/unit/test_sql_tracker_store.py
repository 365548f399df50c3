"""LeanSQLTrackerStore (rasa_server/stores/sql_tracker_store.py) stores and reads
exactly what Rasa's own SQLTrackerStore does: the same rows, the same tracker, across sessions."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_server.stores.sql_tracker_store import LeanSQLTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, faq]
slots:
  callback_name:
    type: text
    mappings: [{type: custom}]
"""
)


def conversation() -> list[list[Any]]:
    """Three saves: a session, a second turn, then a new session."""
    return [
        [ActionExecuted("action_session_start", timestamp=1), SessionStarted(timestamp=1),
         ActionExecuted("action_listen", timestamp=1),
         UserUttered("hi", {"name": "greet", "confidence": 1.0}, timestamp=2),
         BotUttered("Hello", timestamp=3), ActionExecuted("action_listen", timestamp=3)],
        [UserUttered("what is klonopin", {"name": "faq", "confidence": 0.9}, timestamp=4),
         SlotSet("callback_name", "Sam", timestamp=4), BotUttered("It is ...", timestamp=5)],
        [ActionExecuted("action_session_start", timestamp=10), SessionStarted(timestamp=10),
         ActionExecuted("action_listen", timestamp=10),
         UserUttered("hello again", {"name": "greet", "confidence": 1.0}, timestamp=11)],
    ]  # fmt: skip


async def run(
    store: SQLTrackerStore,
) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]], Any]:
    """The conversation saved turn by turn, as Rasa does; the rows stored, the
    tracker read back after each save, and the full tracker's length."""
    tracker = DialogueStateTracker("visitor", DOMAIN.slots)
    seen = []
    for turn in conversation():
        # as Rasa does: read the stored tracker, add the turn's events, save
        tracker = await store.retrieve("visitor") or tracker
        for event in turn:
            tracker.update(event)
        await store.save(tracker)
        again = await store.retrieve("visitor")
        assert again is not None
        seen.append([e.as_dict() for e in again.events])
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
                "FROM events ORDER BY id"
            )
        ).fetchall()
    full = await store.retrieve_full_tracker("visitor")
    return [tuple(r) for r in rows], seen, full and len(full.events)


async def test_the_same_rows_and_trackers_as_rasa_s_store(tmp_path: Path) -> None:
    rasa_store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    rasa_rows, rasa_seen, rasa_full = await run(rasa_store)
    lean_store = LeanSQLTrackerStore(
        DOMAIN, dialect="sqlite", db=str(tmp_path / "l.db")
    )
    lean_rows, lean_seen, lean_full = await run(lean_store)
    assert lean_rows == rasa_rows
    assert lean_seen == rasa_seen
    assert lean_full == rasa_full
    assert len(rasa_rows) == 13  # every event stored once
    assert [json.loads(r[5])["event"] for r in rasa_rows][-3:] == [
        "session_started", "action", "user"
    ]  # fmt: skip
    # the last retrieve holds only the latest session
    assert [e["event"] for e in lean_seen[-1]][:2] == ["action", "session_started"]


async def test_an_unknown_conversation_is_none(tmp_path: Path) -> None:
    store = LeanSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
    assert await store.retrieve("nobody") is None
