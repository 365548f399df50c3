"""SQLite settings for the embedded conversation store and lock store.

SQLite's defaults (a rollback journal, a full fsync on every commit) made each
message's commit one of the costliest steps of a reply. In WAL mode with
``synchronous=NORMAL`` a commit is an append to the write-ahead log; readers do
not block the writer, so several Rasa workers can share one file. A crash of the
server loses nothing; a power cut or an operating-system crash can lose the last
commits (https://www.sqlite.org/wal.html). ``busy_timeout`` lets a writer wait for
another process's write instead of failing with "database is locked".

SQLAlchemy 1.4 gives file-based SQLite databases no connection pool: Rasa's
tracker store opened and closed a connection for every read and write, and
closing the last connection to a WAL database checkpoints it. Here the tracker
store's SQLite engine keeps a small pool of open connections instead.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool

BUSY_TIMEOUT_MS = 10_000
POOL_SIZE = 5
_tuned = False


def apply(connection: sqlite3.Connection) -> None:
    """The pragmas, on one DB-API connection."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        apply(dbapi_connection)


def engine_kwargs(url: Any) -> dict[str, Any]:
    """`create_engine` arguments for a SQLite file: a pool of open connections
    (used by one request at a time, so they may move between threads)."""
    parsed = make_url(str(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (
        None,
        "",
        ":memory:",
    ):
        return {}
    return {
        "poolclass": QueuePool,
        "pool_size": POOL_SIZE,
        "max_overflow": 0,
        "pool_timeout": BUSY_TIMEOUT_MS / 1000,
        "connect_args": {"check_same_thread": False},
    }


def tune() -> None:
    """Apply the pragmas to every SQLite connection SQLAlchemy opens from now on,
    and give Rasa's SQL tracker store a pool for a SQLite file. Other databases
    are left alone."""
    global _tuned
    if _tuned:
        return
    import rasa.core.tracker_store as tracker_store

    event.listen(Engine, "connect", _on_connect)
    rasa_kwargs = tracker_store.create_engine_kwargs

    def create_engine_kwargs(url: Any) -> dict[str, Any]:
        return {**rasa_kwargs(url), **engine_kwargs(url)}

    tracker_store.create_engine_kwargs = create_engine_kwargs
    _tuned = True
