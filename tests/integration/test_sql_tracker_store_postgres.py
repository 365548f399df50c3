"""LeanSQLTrackerStore (rasa_server/stores/sql_tracker_store.py) on the real PostgreSQL: the same rows and
trackers as Rasa's own SQLTrackerStore (its count() differs from SQLite's)."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from rasa_server.stores.sql_tracker_store import LeanSQLTrackerStore
from tests.unit.test_sql_tracker_store import DOMAIN, run

pytestmark = pytest.mark.integration

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def databases() -> Iterator[list[str]]:
    names = [f"lean_test_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield names
    with admin.connect() as connection:
        for name in names:
            connection.execute(
                sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )
    admin.dispose()


def store(
    database: str, kind: type[SQLTrackerStore] = SQLTrackerStore
) -> SQLTrackerStore:
    url = sa.engine.make_url(POSTGRES_URL)
    return kind(DOMAIN, dialect="postgresql", host=url.host, port=url.port,
                           db=database, username=url.username, password=url.password)  # fmt: skip


async def test_the_same_rows_and_trackers_as_rasa_s_store_on_postgresql(
    databases: list[str],
) -> None:
    rasa_store = store(databases[0])
    expected = await run(store=rasa_store)
    rasa_store.engine.dispose()
    lean_store = store(databases[1], LeanSQLTrackerStore)
    assert await run(store=lean_store) == expected
    lean_store.engine.dispose()
