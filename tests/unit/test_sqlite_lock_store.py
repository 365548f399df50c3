"""rasa_server/stores/sqlite_lock_store.py: tickets are unique across processes, a
conversation's messages are served one at a time in ticket order, expired
tickets do not block, and Rasa builds the store from endpoints.yml."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from rasa_server.stores.sqlite_lock_store import SQLiteLockStore


@pytest.fixture
def store(tmp_path: Path) -> SQLiteLockStore:
    return SQLiteLockStore(db=str(tmp_path / "locks.sqlite3"), poll_interval=0.005)


async def test_one_conversation_is_served_one_at_a_time_in_order(
    store: SQLiteLockStore,
) -> None:
    inside = 0
    most_inside = 0
    order: list[int] = []

    async def message(number: int) -> None:
        nonlocal inside, most_inside
        async with store.lock("visitor"):
            inside += 1
            most_inside = max(most_inside, inside)
            order.append(number)
            await asyncio.sleep(0.01)
            inside -= 1

    # each message takes its ticket before the next one starts
    tasks = []
    for number in range(6):
        tasks.append(asyncio.create_task(message(number)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == list(range(6))
    assert most_inside == 1
    assert store.get_lock("visitor") is None  # nothing left behind


async def test_other_conversations_do_not_wait(store: SQLiteLockStore) -> None:
    async with store.lock("a"):
        started = time.monotonic()
        async with store.lock("b"):
            pass
        assert time.monotonic() - started < 0.5


async def test_an_expired_ticket_no_longer_blocks(store: SQLiteLockStore) -> None:
    store.issue_ticket("visitor", lock_lifetime=0.05)  # a worker that died
    started = time.monotonic()
    async with store.lock("visitor"):
        waited = time.monotonic() - started
    assert 0.03 < waited < 2


async def test_a_ticket_that_expires_while_waiting_is_an_error(
    store: SQLiteLockStore,
) -> None:
    store.issue_ticket("visitor", lock_lifetime=30)  # someone else, served first
    with pytest.raises(LockError, match="expired"):
        async with store.lock("visitor", lock_lifetime=0.05):
            pass


def test_get_and_save_lock_round_trip(store: SQLiteLockStore) -> None:
    first = store.issue_ticket("visitor")
    second = store.issue_ticket("visitor")
    lock = store.get_lock("visitor")
    assert lock is not None
    assert [t.number for t in lock.tickets] == [first, second]
    assert lock.now_serving == first
    lock.remove_ticket_for(first)
    store.save_lock(lock)
    saved = store.get_lock("visitor")
    assert saved is not None and saved.now_serving == second
    store.delete_lock("visitor")
    assert store.get_lock("visitor") is None


def test_rasa_builds_it_from_the_endpoint_config(tmp_path: Path) -> None:
    config = EndpointConfig(
        type="rasa_server.stores.sqlite_lock_store.SQLiteLockStore",
        db=str(tmp_path / "locks.sqlite3"),
        poll_interval="0.01",
    )
    store = LockStore.create(config)
    assert isinstance(store, SQLiteLockStore)
    assert store.poll_interval == 0.01


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"db": ""}, "needs `db`"), ({"db": "x.sqlite3", "poll_interval": "9"}, "poll_interval")],
)  # fmt: skip
def test_bad_settings_are_clear_errors(
    tmp_path: Path, settings: dict[str, str], message: str
) -> None:
    settings = {
        k: (str(tmp_path / v) if k == "db" and v else v) for k, v in settings.items()
    }
    with pytest.raises(ValueError, match=message):
        SQLiteLockStore(EndpointConfig(type="x", **settings))


def test_a_file_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LOCK_DB; its folder must exist"):
        SQLiteLockStore(db=str(tmp_path / "missing" / "locks.sqlite3"))
