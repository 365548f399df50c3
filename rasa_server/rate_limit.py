"""Rate limits per conversation and per client address (REST and socket.io).

A token bucket per key: each conversation may send
``RATE_LIMIT_PER_CONVERSATION`` messages a minute (default 30), each client
address ``RATE_LIMIT_PER_ADDRESS`` (default 300: a clinic's or an office's
visitors may share one address); both at most that many at once, refilled
evenly over the minute. ``0`` turns a limit off. A message over a limit is not
handled: the REST channel answers ``429`` with ``Retry-After``, the widget gets
a message saying when to try again.

The counts live in each Rasa worker process (no I/O per message), so with
``SANIC_WORKERS`` workers or several servers a client may get up to that many
times the limit; a load balancer's own limit is the place for a hard cap
(docs/security.md). Behind a proxy, the client address is the proxy's unless
Sanic is told to trust its ``X-Forwarded-For`` (``SANIC_PROXIES_COUNT`` /
``SANIC_REAL_IP_HEADER``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

DEFAULT_PER_CONVERSATION = 30
DEFAULT_PER_ADDRESS = 300
MAX_KEYS = 100_000
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
    """Token buckets of ``per_minute`` messages, one per key, LRU-bounded."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / WINDOW_SECONDS
        self.clock, self.max_keys = clock, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when ``key`` may send now (one token taken); else seconds to wait."""
        if self.capacity <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1 - tokens) / self.rate
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait


class RateLimiter:
    """Both limits; :meth:`check` before a message is handled."""

    def __init__(
        self,
        per_conversation: int = DEFAULT_PER_CONVERSATION,
        per_address: int = DEFAULT_PER_ADDRESS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conversations = Buckets(per_conversation, clock)
        self.addresses = Buckets(per_address, clock)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RateLimiter:
        return cls(
            _limit(env, "RATE_LIMIT_PER_CONVERSATION", DEFAULT_PER_CONVERSATION),
            _limit(env, "RATE_LIMIT_PER_ADDRESS", DEFAULT_PER_ADDRESS),
        )

    def check(self, conversation: str, address: str) -> int:
        """0 when the message may be handled; else whole seconds to wait."""
        wait = max(self.addresses.take(address), self.conversations.take(conversation))
        return math.ceil(wait) if wait > 0 else 0


def check_settings(env: Mapping[str, str]) -> None:
    """Raise :class:`RateLimitError` for a bad setting (at start-up)."""
    RateLimiter.from_env(env)


def limit_text(seconds: int) -> str:
    return (
        "You're sending messages faster than I can answer. Please wait "
        f"{seconds} second{'s' if seconds != 1 else ''} and try again. If you "
        "need help right now, call 911, or call or text 988."
    )
