"""rasa_server/stores/redis_lock_store.py against the REAL Redis (127.0.0.1:6379, or
TEST_REDIS_HOST / TEST_REDIS_PORT / TEST_REDIS_DB).

Every test uses its own key prefix, and its keys are deleted afterwards. There
is deliberately no skip: if Redis is unreachable these tests FAIL.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest
import redis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LockError, LockStore
from rasa.core.utils import AvailableEndpoints, number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from rasa_server.stores.redis_lock_store import (
    COUNTER_GRACE_SECONDS,
    DEFAULT_POLL_INTERVAL,
    AtomicRedisLockStore,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = os.environ.get("TEST_REDIS_PORT", "6379")
REDIS_DB = os.environ.get("TEST_REDIS_DB", "1")

StoreFactory = Callable[[], AtomicRedisLockStore]


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; every key under it is deleted after."""
    name = f"locktest{uuid.uuid4().hex[:12]}"
    client = redis.Redis(host=REDIS_HOST, port=int(REDIS_PORT), db=int(REDIS_DB))
    client.ping()  # fails loudly when Redis is down
    yield name
    keys = list(client.scan_iter(match=f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def make_store(prefix: str) -> StoreFactory:
    """A new store (its own connection pool), as each Rasa server has."""

    def make() -> AtomicRedisLockStore:
        config = EndpointConfig(
            url=REDIS_HOST,
            type="rasa_server.stores.redis_lock_store.AtomicRedisLockStore",
            port=REDIS_PORT,
            db=REDIS_DB,
            key_prefix=prefix,
        )
        store = LockStore.create(config)
        assert isinstance(store, AtomicRedisLockStore)
        return store

    return make


def numbers(lock: TicketLock | None) -> list[int]:
    return [] if lock is None else [ticket.number for ticket in lock.tickets]


def test_rasa_loads_it_from_the_scale_endpoints(
    monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    for key, value in {
        "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook",
        "ACTION_SERVER_TOKEN": "integration-test-secret",
        "TRACKER_PG_HOST": "127.0.0.1",
        "TRACKER_PG_PORT": "5432",
        "TRACKER_PG_DB": "unused",
        "TRACKER_PG_USER": "postgres",
        "TRACKER_PG_PASSWORD": "",
        "LOCK_REDIS_HOST": REDIS_HOST,
        "LOCK_REDIS_PORT": REDIS_PORT,
        "LOCK_REDIS_DB": REDIS_DB,
        "LOCK_REDIS_PREFIX": prefix,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SANIC_WORKERS", "2")
    endpoints = AvailableEndpoints.read_endpoints(
        str(ROOT / "deploy/endpoints.scale.yml")
    )

    store = LockStore.create(endpoints.lock_store)

    assert isinstance(store, AtomicRedisLockStore)
    assert store.key_prefix == f"{prefix}:ticketlock:"
    assert store.poll_interval == DEFAULT_POLL_INTERVAL
    assert store.issue_ticket("loaded") == 1
    assert store.red.exists(f"{prefix}:ticketlock:loaded:tickets")
    # Rasa lets several Sanic workers share it, as with its own Redis store.
    assert number_of_sanic_workers(endpoints.lock_store) == 2


def test_empty_settings_mean_the_defaults_and_typos_are_refused() -> None:
    defaults = AtomicRedisLockStore(
        EndpointConfig(url="", port="", db="", key_prefix="", poll_interval="")
    )
    connection = defaults.red.connection_pool.connection_kwargs
    assert (connection["host"], connection["port"], connection["db"]) == (
        "localhost",
        6379,
        1,
    )
    assert defaults.key_prefix == "ticketlock:"
    with pytest.raises(ValueError, match="Unknown lock store setting.*prot"):
        AtomicRedisLockStore(EndpointConfig(url="localhost", prot="6379"))
    with pytest.raises(ValueError, match="alphanumeric"):
        AtomicRedisLockStore(EndpointConfig(url="localhost", key_prefix="a:b"))


def test_tickets_from_many_threads_are_unique_and_consecutive(
    make_store: StoreFactory,
) -> None:
    threads, per_thread = 8, 25
    stores = [make_store() for _ in range(threads)]
    start = threading.Barrier(threads)
    issued: list[int] = []
    guard = threading.Lock()

    def issue(store: AtomicRedisLockStore) -> None:
        start.wait()
        for _ in range(per_thread):
            number = store.issue_ticket("crowd", lock_lifetime=30)
            with guard:
                issued.append(number)

    workers = [threading.Thread(target=issue, args=(s,)) for s in stores]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    # Rasa 3.6's RedisLockStore, in the same trial: 200 issued, 100 distinct.
    assert sorted(issued) == list(range(1, threads * per_thread + 1))
    assert numbers(stores[0].get_lock("crowd")) == sorted(issued)


def _serve_messages(
    host: str, port: str, db: str, prefix: str, messages: int, go: Event
) -> None:
    """One "Rasa server": handles `messages` concurrent messages of one conversation.

    Inside the lock it records its ticket and checks that no one else is inside.
    """
    store = AtomicRedisLockStore(
        EndpointConfig(url=host, port=port, db=db, key_prefix=prefix)
    )
    tally = redis.Redis(host=host, port=int(port), db=int(db))

    async def handle() -> None:
        async with store.lock("busy", lock_lifetime=30) as lock:
            ticket = lock.now_serving
            inside = tally.incr(f"{prefix}:test:inside")
            await asyncio.sleep(0.02)
            tally.rpush(f"{prefix}:test:served", f"{ticket}:{inside}")
            tally.decr(f"{prefix}:test:inside")

    async def main() -> None:
        await asyncio.gather(*(handle() for _ in range(messages)))

    go.wait(timeout=30)
    asyncio.run(main())


def test_simultaneous_messages_on_several_servers_go_one_at_a_time_in_order(
    make_store: StoreFactory, prefix: str
) -> None:
    servers, per_server = 4, 6
    context = multiprocessing.get_context("fork")
    go = context.Event()
    processes = [
        context.Process(
            target=_serve_messages,
            args=(REDIS_HOST, REDIS_PORT, REDIS_DB, prefix, per_server, go),
        )
        for _ in range(servers)
    ]
    for process in processes:
        process.start()
    started = time.monotonic()
    go.set()
    for process in processes:
        process.join(timeout=60)
    elapsed = time.monotonic() - started
    assert [p.exitcode for p in processes] == [0] * servers

    store = make_store()
    served = [
        entry.decode().split(":")
        for entry in store.red.lrange(f"{prefix}:test:served", 0, -1)
    ]
    tickets = [int(ticket) for ticket, _ in served]
    assert tickets == list(range(1, servers * per_server + 1))  # each once, in order
    assert {inside for _, inside in served} == {"1"}  # never two inside at once
    assert store.get_lock("busy") is None  # every ticket cleaned up
    # 24 messages of 20 ms each: the next one starts within a poll interval.
    assert elapsed < servers * per_server * (0.02 + 2 * DEFAULT_POLL_INTERVAL) + 2


def test_first_come_first_served_whatever_order_they_finish_in(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    first, second, third = (store.issue_ticket("fifo") for _ in range(3))
    assert (first, second, third) == (1, 2, 3)
    lock = store.get_lock("fifo")
    assert lock is not None and lock.now_serving == first
    assert lock.is_locked(second) and store.is_someone_waiting("fifo")

    store.finish_serving("fifo", third)  # a later one gives up: no change in turn
    assert numbers(store.get_lock("fifo")) == [first, second]
    store.cleanup("fifo", first)
    assert numbers(store.get_lock("fifo")) == [second]
    store.cleanup("fifo", second)

    assert store.get_lock("fifo") is None
    assert not store.is_someone_waiting("fifo")
    tickets, deadlines, counter = store.keys("fifo")
    assert store.red.exists(tickets, deadlines) == 0  # the empty queue is gone
    # The counter stays a while, so a number is not handed out twice.
    assert 0 < store.red.ttl(counter) <= COUNTER_GRACE_SECONDS + 60
    assert store.issue_ticket("fifo") == 4


async def test_messages_wait_their_turn_and_the_lock_is_released_on_errors(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    order: list[str] = []

    async def message(name: str, fail: bool = False) -> None:
        async with store.lock("turns", lock_lifetime=10):
            order.append(name)
            await asyncio.sleep(0.05)
            if fail:
                raise RuntimeError("the message's processing failed")

    tasks = []
    for name in ("a", "b", "c"):
        tasks.append(asyncio.create_task(message(name, fail=name == "a")))
        await asyncio.sleep(0.01)  # each takes its ticket before the next
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert order == ["a", "b", "c"]
    assert isinstance(results[0], RuntimeError) and results[1:] == [None, None]
    assert store.get_lock("turns") is None


async def test_expired_tickets_are_cleaned_up_and_a_dead_holder_blocks_no_one(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    tickets, deadlines, _ = store.keys("crash")
    # A server takes a ticket for 0.3 s and dies without cleaning up.
    store.issue_ticket("crash", lock_lifetime=0.3)
    # ... and its keys expire with the ticket (the lifetime plus 1 ms).
    assert 0 < store.red.pttl(tickets) <= 301 and 0 < store.red.pttl(deadlines) <= 301

    started = time.monotonic()
    async with store.lock("crash", lock_lifetime=10) as lock:
        waited = time.monotonic() - started
        assert lock.now_serving == 2
    assert 0.2 < waited < 1.0  # the dead ticket's lifetime, not Rasa's 60 s

    store.issue_ticket("crash", lock_lifetime=0.1)
    await asyncio.sleep(0.2)
    assert not store.is_someone_waiting("crash")
    assert store.get_lock("crash") is None
    assert store.red.exists(tickets, deadlines) == 0


async def test_a_message_whose_ticket_expires_while_waiting_gets_a_lock_error(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    holder = store.issue_ticket("slow", lock_lifetime=10)
    with pytest.raises(LockError, match="expired before its turn"):
        async with store.lock("slow", lock_lifetime=0.2):
            pytest.fail("served while another message held the lock")
    assert numbers(store.get_lock("slow")) == [holder]


def test_save_lock_and_delete_lock_keep_the_lock_store_contract(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    now = time.time()
    saved = TicketLock(
        "saved",
        deque([Ticket(7, now + 30), Ticket(8, now + 30), Ticket(9, now - 1)]),
    )
    store.save_lock(saved)

    loaded = store.get_lock("saved")
    assert numbers(loaded) == [7, 8]  # the expired one is not stored
    assert loaded is not None
    assert all(abs(t.expires - (now + 30)) < 1 for t in loaded.tickets)
    assert store.issue_ticket("saved") == 9  # the counter never goes back

    store.delete_lock("saved")
    assert store.get_lock("saved") is None
    assert store.issue_ticket("saved") == 10


def test_two_prefixes_do_not_share_queues(
    make_store: StoreFactory, prefix: str
) -> None:
    ours = make_store()
    other_prefix = f"{prefix}x"
    theirs = AtomicRedisLockStore(
        EndpointConfig(
            url=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, key_prefix=other_prefix
        )
    )
    try:
        assert ours.issue_ticket("shared-id") == 1
        assert theirs.issue_ticket("shared-id") == 1
        assert numbers(ours.get_lock("shared-id")) == [1]
    finally:
        keys = list(theirs.red.scan_iter(match=f"{other_prefix}:*"))
        theirs.red.delete(*keys)
