"""Shared fixtures: the trio every action test uses (tracker, dispatcher, domain)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain, as the action server receives it (FAQ responses merged in)."""
    with open(PROJECT_ROOT / "domain.yml", encoding="utf-8") as f:
        dom: dict[str, Any] = yaml.safe_load(f)
    responses_file = PROJECT_ROOT / "data" / "responses" / "faq.yml"
    if responses_file.exists():
        with open(responses_file, encoding="utf-8") as f:
            dom["responses"].update(yaml.safe_load(f).get("responses", {}))
    return dom


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


TrackerFactory = Callable[..., Tracker]


@pytest.fixture
def make_tracker() -> TrackerFactory:
    """Build a tracker the way Rasa would send it to the action server."""

    def _make(
        text: str = "",
        intent: str = "",
        confidence: float = 1.0,
        slots: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        events: list[dict[str, Any]] | None = None,
        active_loop: dict[str, Any] | None = None,
        response_selector: dict[str, Any] | None = None,
        intent_ranking: list[dict[str, Any]] | None = None,
        sender_id: str = "test-sender",
    ) -> Tracker:
        latest_message: dict[str, Any] = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
            "intent_ranking": intent_ranking
            or [{"name": intent, "confidence": confidence}],
        }
        if response_selector is not None:
            latest_message["response_selector"] = response_selector
        return Tracker(
            sender_id=sender_id,
            slots=slots or {},
            latest_message=latest_message,
            events=events or [],
            paused=False,
            followup_action=None,
            active_loop=active_loop or {},
            latest_action_name="action_listen",
        )

    return _make


# --------------------------------------------------------------------------- #
# Fixtures for the handoff / callback / notifier tests
# --------------------------------------------------------------------------- #


@pytest.fixture
def isolated_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No configuration from the developer's environment; settings cache reset."""
    from actions import config

    for key in config.ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    config.clear_cache()
    yield monkeypatch
    config.clear_cache()


@pytest.fixture
def handoff_store(tmp_path: Path, isolated_config: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh SQLite store in a temp dir, installed as the process-wide store."""
    from actions import store as store_module

    db_url = f"sqlite:///{tmp_path / 'handoffs.sqlite3'}"
    isolated_config.setenv("HANDOFF_DB_URL", db_url)
    store = store_module.Store(db_url)
    previous = store_module.set_store(store)
    yield store
    store_module.set_store(previous)
    store.dispose()
