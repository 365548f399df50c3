"""Rate limits per conversation and per client address (REST and socket.io).

A token bucket per key: each conversation may send
``RATE_LIMIT_PER_CONVERSATION`` messages a minute (default 30), each client
address ``RATE_LIMIT_PER_ADDRESS`` (default 300: a clinic's or an office's
visitors may share one address); both at most that many at once, refilled
evenly over the minute. ``0`` turns a limit off. A message over a limit is not
handled: the REST channel answers ``429`` with ``Retry-After``, the widget gets
a message saying when to try again.

The counts live in memory shared by every Rasa server of the machine: a file
mapped into each (``RATE_LIMIT_STATE``: ``deploy/run.sh`` sets it, so a
conversation whose messages the load balancer hands to different servers is
counted once), or, unset, an anonymous map shared by one server's forked
worker processes (``SANIC_WORKERS``). No I/O per message either way. Servers
on different machines count on their own, and the balancer's own limit is the
place for a hard cap (docs/security.md). Behind a proxy, the client address is the proxy's unless
Sanic is told to trust its ``X-Forwarded-For`` (``SANIC_PROXIES_COUNT`` /
``SANIC_REAL_IP_HEADER``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import mmap
import multiprocessing
import os
import struct
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

DEFAULT_PER_CONVERSATION = 30
DEFAULT_PER_ADDRESS = 300
SLOTS = 65_536  # buckets per limit (1.5 MiB each)
WINDOW_SECONDS = 60.0


class RateLimitError(ValueError):
    """A limit setting that is not a whole number of messages a minute."""


def _limit(env: Mapping[str, str], key: str, default: int) -> int:
    raw = (env.get(key) or "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise RateLimitError(
            f"{key} must be a whole number of messages a minute (0 = off), not {raw!r}"
        ) from None
    if value < 0:
        raise RateLimitError(f"{key} must be 0 (off) or more, not {value}")
    return value


class Buckets:
    """Token buckets of ``per_minute`` messages, one per key.

    With ``path``, the buckets live in that file, mapped into memory: every
    process that maps the same file counts against the same buckets, under a
    lock on the file (``flock``). Without, they live in an anonymous shared map
    created before Sanic forks its worker processes (``SANIC_WORKERS``), so
    every worker of one server counts against the same buckets. A fixed table of ``slots`` entries indexed
    by a hash of the key: a key that lands on a slot held by another key takes
    it over (the other key starts afresh), so memory stays fixed whatever the
    number of clients.
    """

    _SLOT = struct.Struct("<Qdd")  # key hash, tokens, last refill (monotonic s)

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        slots: int = SLOTS,
        path: Path | None = None,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / WINDOW_SECONDS
        self.clock, self.slots = clock, slots
        size = self._SLOT.size * slots
        self._fd: int | None = None
        if path is None:
            self._memory = mmap.mmap(-1, size)  # shared on fork
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(self._fd).st_size != size:
                with self._file_lock():
                    if os.fstat(self._fd).st_size != size:
                        os.ftruncate(self._fd, size)  # zeros: every slot free
            self._memory = mmap.mmap(self._fd, size)
        self._lock = multiprocessing.get_context("fork").Lock()

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self._fd is None:
            yield
            return
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def take(self, key: str) -> float:
        """0 when ``key`` may send now (one token taken); else seconds to wait."""
        if self.capacity <= 0:
            return 0.0
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        tag = int.from_bytes(digest, "little") | 1  # 0 marks a free slot
        offset = (tag % self.slots) * self._SLOT.size
        now = self.clock()
        with self._lock, self._file_lock():
            held, tokens, last = self._SLOT.unpack_from(self._memory, offset)
            if held != tag or last > now:  # another key's slot, or a past boot's
                tokens, last = self.capacity, now
            tokens = min(self.capacity, tokens + max(0.0, now - last) * self.rate)
            if tokens >= 1:
                tokens, wait = tokens - 1, 0.0
            else:
                wait = (1 - tokens) / self.rate
            self._SLOT.pack_into(self._memory, offset, tag, tokens, now)
        return wait


class RateLimiter:
    """Both limits; :meth:`check` before a message is handled."""

    def __init__(
        self,
        per_conversation: int = DEFAULT_PER_CONVERSATION,
        per_address: int = DEFAULT_PER_ADDRESS,
        clock: Callable[[], float] = time.monotonic,
        state: Path | None = None,
    ) -> None:
        """``state``: where the servers of this machine share the counts
        (``<state>.conversations`` and ``<state>.addresses``); None: in memory."""
        self.conversations = Buckets(
            per_conversation, clock, path=_state_file(state, "conversations")
        )
        self.addresses = Buckets(
            per_address, clock, path=_state_file(state, "addresses")
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RateLimiter:
        state = (env.get("RATE_LIMIT_STATE") or "").strip()
        return cls(
            _limit(env, "RATE_LIMIT_PER_CONVERSATION", DEFAULT_PER_CONVERSATION),
            _limit(env, "RATE_LIMIT_PER_ADDRESS", DEFAULT_PER_ADDRESS),
            state=Path(state) if state else None,
        )

    def check(self, conversation: str, address: str) -> int:
        """0 when the message may be handled; else whole seconds to wait."""
        wait = max(self.addresses.take(address), self.conversations.take(conversation))
        return math.ceil(wait) if wait > 0 else 0


def _state_file(state: Path | None, kind: str) -> Path | None:
    return None if state is None else state.with_name(f"{state.name}.{kind}")


def check_settings(env: Mapping[str, str]) -> None:
    """Raise :class:`RateLimitError` for a bad setting (at start-up)."""
    try:
        RateLimiter.from_env(env)
    except OSError as error:
        raise RateLimitError(
            f"RATE_LIMIT_STATE: cannot keep the rate limits in "
            f"{error.filename or env.get('RATE_LIMIT_STATE')}: {error.strerror}"
        ) from None


def limit_text(seconds: int) -> str:
    return (
        "You're sending messages faster than I can answer. Please wait "
        f"{seconds} second{'s' if seconds != 1 else ''} and try again. If you "
        "need help right now, call 911, or call or text 988."
    )
