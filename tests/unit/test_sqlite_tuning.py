"""rasa_server/stores/sqlite.py: Rasa's SQL tracker store on a SQLite file gets a
connection pool and WAL mode; other databases are left alone."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import rasa.core.tracker_store as tracker_store
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from rasa_server.stores import sqlite


@pytest.mark.parametrize(
    "url",
    ["postgresql://u@localhost/db", "sqlite://", "sqlite:///:memory:"],
)
def test_only_sqlite_files_get_a_pool(url: str) -> None:
    assert sqlite.engine_kwargs(url) == {}


def test_a_sqlite_file_gets_a_pool(tmp_path: Path) -> None:
    kwargs = sqlite.engine_kwargs(f"sqlite:///{tmp_path / 'x.db'}")
    assert kwargs["poolclass"] is QueuePool
    assert kwargs["connect_args"] == {"check_same_thread": False}


@pytest.fixture
def tuned(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """sqlite.tune() for one test, undone afterwards."""
    monkeypatch.setattr(sqlite, "_tuned", False)
    monkeypatch.setattr(
        tracker_store, "create_engine_kwargs", tracker_store.create_engine_kwargs
    )
    sqlite.tune()
    sqlite.tune()  # twice is harmless
    yield
    event.remove(Engine, "connect", sqlite._on_connect)


@pytest.mark.usefixtures("tuned")
async def test_the_tracker_store_uses_the_pool_and_wal(tmp_path: Path) -> None:
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))
    assert isinstance(store.engine.pool, QueuePool)
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    tracker = DialogueStateTracker.from_events("visitor", [UserUttered("hi")])
    await store.save(tracker)
    again = await store.retrieve("visitor")
    assert again is not None
    assert again.latest_message is not None and again.latest_message.text == "hi"
