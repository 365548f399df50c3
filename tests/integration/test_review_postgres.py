"""`make review` reads a PostgreSQL tracker store written by Rasa's own
SQLTrackerStore (a throw-away database, dropped afterwards; no skip)."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from tools import review

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def database() -> Iterator[str]:
    name = f"review_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # fails loudly when PostgreSQL is down
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def uttered(text: str, confidence: float, key: str, rs: float) -> UserUttered:
    parse = {
        "text": text,
        "intent": {"name": "faq", "confidence": confidence},
        "intent_ranking": [{"name": "faq", "confidence": confidence}],
        "entities": [],
        "response_selector": {
            "faq": {"response": {"intent_response_key": key, "confidence": rs}}
        },
    }
    return UserUttered(text, intent=parse["intent"], parse_data=parse)


async def test_review_reads_rasas_postgresql_tracker_store(
    database: str, tmp_path: Path
) -> None:
    url = sa.engine.make_url(POSTGRES_URL)
    store = SQLTrackerStore(
        Domain.load(str(ROOT / "domain.yml")), dialect="postgresql",
        host=url.host, port=url.port, db=database, username=url.username,
    )  # fmt: skip
    tracker = DialogueStateTracker.from_events(
        "pg-visitor",
        [
            ActionExecuted("action_listen"),
            uttered("what is klonopin", 0.99, "faq/what_is", 0.97),
            ActionExecuted("utter_faq"),
            ActionExecuted("action_listen"),
            uttered("do you take pets at the center", 0.5, "faq/about_center", 0.31),
            ActionExecuted("action_handoff_admissions"),
        ],
    )
    await store.save(tracker)
    store.engine.dispose()

    db = f"postgresql://{url.username}@{url.host}:{url.port}/{database}"
    out = tmp_path / "review"
    assert review.main(["--db", db, "--out", str(out)]) == 0
    items = yaml.safe_load((out / "review.yml").read_text())["items"]
    assert [(i["text"], i["guess"], i["confidence"]) for i in items] == [
        ("do you take pets at the center", "faq/about_center", 0.31)
    ]
    page = (out / "report.html").read_text()
    assert "faq/what_is" in page and "admissions: 1" in page
