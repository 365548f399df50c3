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


async def test_the_callback_form_is_stored_masked_on_postgresql(
    databases: list[str],
) -> None:
    from tests.unit.test_form_privacy import DOMAIN as FORM_DOMAIN
    from tests.unit.test_form_privacy import check_form_privacy

    url = sa.engine.make_url(POSTGRES_URL)
    lean = LeanSQLTrackerStore(FORM_DOMAIN, dialect="postgresql", host=url.host,
                               port=url.port, db=databases[0], username=url.username,
                               password=url.password)  # fmt: skip
    await check_form_privacy(lean)
    lean.engine.dispose()


async def test_purge_on_postgresql(databases: list[str]) -> None:
    import time

    from tests.unit.test_purge import save
    from tools import purge

    url = sa.engine.make_url(POSTGRES_URL)
    lean = store(databases[0], LeanSQLTrackerStore)
    assert isinstance(lean, LeanSQLTrackerStore)
    now = time.time()
    await save(lean, "rest:old", now - 40 * 86400)
    await save(lean, "rest:new", now)
    lean.engine.dispose()
    database_url = url.set(database=databases[0]).render_as_string(hide_password=False)
    done = purge.purge_conversations(database_url, now - 30 * 86400)
    assert done.conversations == 1
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        left = {
            s for (s,) in conn.execute(sa.text("SELECT DISTINCT sender_id FROM events"))
        }
    engine.dispose()
    assert left == {"rest:new"}
