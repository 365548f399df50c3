"""A lock store in a SQLite file, for several Rasa processes on one machine.

Rasa handles the messages of one conversation one at a time, in order: each
message takes a numbered ticket and waits until its ticket is the lowest one
left. Rasa's in-memory lock store only works inside one process, so with it
Rasa refuses to start more than one Sanic worker (`SANIC_WORKERS`); its Redis
lock store needs a Redis server. This one keeps the tickets in a SQLite file
(`LOCK_DB`, next to the conversation store), so `make run`'s Rasa servers
(`RASA_SERVERS`) can use both cores of a small machine with no server to install.

Every change is one SQLite transaction, so issuing a ticket is atomic across
processes: a ticket is a row, its number the row's AUTOINCREMENT id, which
SQLite never hands out twice. The lowest live ticket of a conversation is
served, so the queue is first come, first served. A ticket expires after the
lock lifetime (Rasa's 60 s): a worker that dies while holding one blocks its
conversation for at most that long. All workers run on one machine, so they
share one clock.

endpoints.yml::

    lock_store:
      type: rasa_server.stores.sqlite_lock_store.SQLiteLockStore
      db: var/locks.sqlite3        # a file; its folder must exist
      poll_interval: 0.02          # seconds between checks while a message waits
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from rasa_server.stores import sqlite

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 0.02

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_by_conversation
    ON tickets (conversation_id, number);
"""


class SQLiteLockStore(LockStore):
    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        db: str | None = None,
        poll_interval: float | None = None,
    ) -> None:
        settings: dict[str, Any] = (
            dict(endpoint_config.kwargs) if endpoint_config else {}
        )
        path = db or settings.get("db") or ""
        if not str(path).strip():
            raise ValueError("the SQLite lock store needs `db`, the path of its file")
        self.path = str(path)
        interval = poll_interval or settings.get("poll_interval")
        self.poll_interval = float(interval) if interval else DEFAULT_POLL_INTERVAL
        if not 0 < self.poll_interval <= 5:
            raise ValueError(
                f"poll_interval must be between 0 and 5 seconds, not {interval}"
            )
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._guard = threading.Lock()
        try:  # fails at start-up, not at the first message, on a bad path
            with self._guard:
                self._connect().executescript(_SCHEMA)
        except sqlite3.Error as error:
            raise ValueError(
                f"cannot open the lock store's SQLite file {self.path!r} "
                f"(LOCK_DB; its folder must exist): {error}"
            ) from error

    def _connect(self) -> sqlite3.Connection:
        # One connection per process, opened after a fork (Sanic's workers).
        if self._connection is None or self._pid != os.getpid():
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False
            )
            sqlite.apply(connection)
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    class _Transaction:
        def __init__(self, store: SQLiteLockStore, write: bool) -> None:
            self.store = store
            self.begin = "BEGIN IMMEDIATE" if write else "BEGIN"

        def __enter__(self) -> sqlite3.Connection:
            self.store._guard.acquire()
            try:
                self.connection = self.store._connect()
                self.connection.execute(self.begin)
            except BaseException:
                self.store._guard.release()
                raise
            return self.connection

        def __exit__(self, kind: Any, *_: Any) -> None:
            try:
                self.connection.execute("ROLLBACK" if kind else "COMMIT")
            finally:
                self.store._guard.release()

    def _transaction(self, write: bool = True) -> SQLiteLockStore._Transaction:
        """A write transaction takes SQLite's write lock at once; a read-only
        one never waits for a writer (WAL mode)."""
        return SQLiteLockStore._Transaction(self, write)

    @staticmethod
    def _drop_expired(connection: sqlite3.Connection, conversation_id: str) -> None:
        connection.execute(
            "DELETE FROM tickets WHERE conversation_id = ? AND expires < ?",
            (conversation_id, time.time()),
        )

    # The storage interface of Rasa's LockStore.

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        with self._transaction(write=False) as connection:
            rows = connection.execute(
                "SELECT number, expires FROM tickets WHERE conversation_id = ? "
                "AND expires >= ? ORDER BY number",
                (conversation_id, time.time()),
            ).fetchall()
        if not rows:
            return None
        return TicketLock(conversation_id, deque(Ticket(n, e) for n, e in rows))

    def save_lock(self, lock: TicketLock) -> None:
        with self._transaction() as connection:
            connection.execute(
                "DELETE FROM tickets WHERE conversation_id = ?", (lock.conversation_id,)
            )
            connection.executemany(
                "INSERT INTO tickets (number, conversation_id, expires) VALUES (?, ?, ?)",
                [(t.number, lock.conversation_id, t.expires) for t in lock.tickets],
            )

    def delete_lock(self, conversation_id: str) -> None:
        with self._transaction() as connection:
            connection.execute(
                "DELETE FROM tickets WHERE conversation_id = ?", (conversation_id,)
            )

    # Atomic versions of LockStore's read-modify-write steps.

    def issue_ticket(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME
    ) -> int:
        try:
            with self._transaction() as connection:
                self._drop_expired(connection, conversation_id)
                cursor = connection.execute(
                    "INSERT INTO tickets (conversation_id, expires) VALUES (?, ?)",
                    (conversation_id, time.time() + lock_lifetime),
                )
                return int(cursor.lastrowid or 0)
        except sqlite3.Error as error:
            raise LockError(f"Could not issue a ticket: {error}") from error

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._transaction() as connection:
            connection.execute(
                "DELETE FROM tickets WHERE number = ? AND conversation_id = ?",
                (ticket_number, conversation_id),
            )

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # Removing the ticket is the whole cleanup: a conversation's lock is
        # its live tickets, so there is no lock object left to delete.
        self.finish_serving(conversation_id, ticket_number)

    def _serving(self, conversation_id: str, ticket: int) -> bool | None:
        """True if ``ticket`` is first in line, False if it must wait, None if
        it has expired."""
        with self._transaction(write=False) as connection:
            row = connection.execute(
                "SELECT min(number), sum(number = ?) FROM tickets "
                "WHERE conversation_id = ? AND expires >= ?",
                (ticket, conversation_id, time.time()),
            ).fetchone()
        first, mine = row
        if not mine:
            return None
        return bool(first == ticket)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Like Rasa's, but waits `poll_interval` between checks (Rasa's own
        lock waits a whole second whenever a message is queued)."""
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            while True:
                serving = self._serving(conversation_id, ticket)
                if serving is None:
                    raise LockError(
                        f"Could not acquire lock for conversation_id "
                        f"'{conversation_id}': its ticket expired while waiting."
                    )
                if serving:
                    break
                await asyncio.sleep(self.poll_interval)
            yield TicketLock(
                conversation_id, deque([Ticket(ticket, time.time() + lock_lifetime)])
            )
        finally:
            self.cleanup(conversation_id, ticket)
