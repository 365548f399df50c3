"""A Redis lock store that issues tickets atomically, for several Rasa servers.

Rasa handles the messages of one conversation one at a time, in order, with a
ticket lock: each message takes a numbered ticket and waits until its number is
the lowest one left. Rasa 3.6's ``RedisLockStore`` keeps a conversation's tickets
as one JSON value and issues a ticket by reading it, appending to it and writing
it back. Two servers that receive messages of one conversation at the same
moment both read the same queue: they hand out the same number, or one write
drops the other's ticket, and a message then waits out the lock lifetime (60 s)
and fails.

Here every change to a queue is one Lua script, which Redis runs atomically.
A conversation has three keys (``<prefix>`` is ``ticketlock:``, or
``<key_prefix>:ticketlock:``):

- ``<prefix><conversation>:counter``, the last number issued (``INCR``);
- ``<prefix><conversation>:tickets``, the waiting tickets scored by number: the
  lowest is served, so the queue is first come, first served;
- ``<prefix><conversation>:deadlines``, the same tickets scored by when they
  expire, in Redis's own clock (``TIME``), so the servers' clocks need not agree.

Every script first drops the expired tickets. Both sets expire with their last
ticket, so a server that dies while holding one leaves nothing behind, and Redis
removes an empty set by itself: cleaning up after a message is removing its
ticket, with no separate "delete the lock if no one waits" step that could race
with a ticket being issued. The counter outlives the queue by
``COUNTER_GRACE_SECONDS``, so a number is never issued twice to requests that
may both still be polling. Needs Redis 5 or later (scripts that read the clock
and then write).

endpoints (``deploy/endpoints.scale.yml``), the same keys as Rasa's ``redis``
lock store plus ``poll_interval``::

    lock_store:
      type: rasa_server.stores.redis_lock_store.AtomicRedisLockStore
      url: redis.internal        # host
      port: 6379
      db: 1
      key_prefix: rasa           # alphanumeric, optional
      password: ...              # optional, also username, use_ssl, ssl_*
      socket_timeout: 10         # seconds
      poll_interval: 0.05        # seconds between checks while a message waits

Empty values (a ``${VARIABLE}`` set to "") mean the default.

It lives in ``rasa_server/stores/``, not with the NLU components: it is no part
of the trained model, and ``tools/model_fingerprint.py`` counts every file of those
as a training input.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Any

import redis  # type: ignore[import-untyped]  # redis 4.6 has no type hints
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import (
    DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    LOCK_LIFETIME,
    LockError,
    LockStore,
)
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

KEY_NAMESPACE = "ticketlock:"
DEFAULT_POLL_INTERVAL = 0.05
COUNTER_GRACE_SECONDS = 3600

# Shared start of every script: Redis's clock in ms, expired tickets dropped, and
# a helper that lets both sets expire together with their last ticket.
# KEYS[1] tickets (score: number), KEYS[2] deadlines (score: expiry in ms).
_PRELUDE = """
local tickets, deadlines = KEYS[1], KEYS[2]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function drop_expired()
  local expired = redis.call('ZRANGEBYSCORE', deadlines, '-inf', '(' .. now)
  for _, number in ipairs(expired) do
    redis.call('ZREM', tickets, number)
  end
  redis.call('ZREMRANGEBYSCORE', deadlines, '-inf', '(' .. now)
end
local function expire_with_last_ticket(counter, grace_ms)
  local last = redis.call('ZRANGE', deadlines, -1, -1, 'WITHSCORES')
  if #last > 0 then
    local ttl = tonumber(last[2]) - now + 1
    redis.call('PEXPIRE', tickets, ttl)
    redis.call('PEXPIRE', deadlines, ttl)
    if counter then
      redis.call('PEXPIRE', counter, ttl + grace_ms)
    end
  end
end
drop_expired()
"""

# KEYS[3] counter; ARGV[1] lifetime in ms, ARGV[2] the counter's grace in ms.
# Returns the new ticket's number.
_ISSUE = (
    _PRELUDE
    + """
local number = redis.call('INCR', KEYS[3])
redis.call('ZADD', tickets, number, number)
redis.call('ZADD', deadlines, now + tonumber(ARGV[1]), number)
expire_with_last_ticket(KEYS[3], tonumber(ARGV[2]))
return number
"""
)

# Returns {now, number, deadline, number, deadline, ...}, lowest number first.
_SNAPSHOT = (
    _PRELUDE
    + """
local result = {now}
for _, number in ipairs(redis.call('ZRANGE', tickets, 0, -1)) do
  table.insert(result, tonumber(number))
  table.insert(result, tonumber(redis.call('ZSCORE', deadlines, number)))
end
return result
"""
)

# ARGV[1] (optional) the number of a ticket to remove. Returns how many are left.
_SETTLE = (
    _PRELUDE
    + """
if ARGV[1] then
  redis.call('ZREM', tickets, ARGV[1])
  redis.call('ZREM', deadlines, ARGV[1])
end
expire_with_last_ticket(nil, 0)
return redis.call('ZCARD', tickets)
"""
)

# KEYS[3] counter; ARGV[1] the counter's grace in ms, then pairs of a ticket's
# number and its remaining lifetime in ms. Replaces the queue; the counter never
# goes back.
_REPLACE = (
    _PRELUDE
    + """
redis.call('DEL', tickets, deadlines)
local highest = 0
for i = 2, #ARGV, 2 do
  local number = tonumber(ARGV[i])
  redis.call('ZADD', tickets, number, number)
  redis.call('ZADD', deadlines, now + tonumber(ARGV[i + 1]), number)
  highest = math.max(highest, number)
end
drop_expired()
if highest > tonumber(redis.call('GET', KEYS[3]) or '0') then
  redis.call('SET', KEYS[3], highest)
end
expire_with_last_ticket(KEYS[3], tonumber(ARGV[1]))
return redis.call('ZCARD', tickets)
"""
)


@dataclass(frozen=True)
class RedisLockSettings:
    """The endpoint configuration of the lock store, checked and typed."""

    host: str = "localhost"
    port: int = 6379
    db: int = 1
    username: str | None = None
    password: str | None = None
    use_ssl: bool = False
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_ca_certs: str | None = None
    key_prefix: str | None = None
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT_IN_SECONDS
    poll_interval: float = DEFAULT_POLL_INTERVAL

    @classmethod
    def from_endpoint_config(cls, config: EndpointConfig | None) -> RedisLockSettings:
        if config is None:
            return cls()
        known = {f.name for f in fields(cls)} - {"host"}
        unknown = sorted(set(config.kwargs) - known)
        if unknown:
            raise ValueError(
                f"Unknown lock store setting(s) {', '.join(unknown)}; "
                f"known: url, {', '.join(sorted(known))}."
            )
        # ${VARIABLE}s left empty in the endpoints file mean "the default".
        given = {k: v for k, v in config.kwargs.items() if v not in (None, "")}
        settings: dict[str, Any] = {"host": config.url or cls.host}
        for name in ("port", "db"):
            if name in given:
                settings[name] = int(given[name])
        for name in ("socket_timeout", "poll_interval"):
            if name in given:
                settings[name] = float(given[name])
        if "use_ssl" in given:
            settings["use_ssl"] = _boolean(given["use_ssl"])
        for name in (
            "username",
            "password",
            "ssl_certfile",
            "ssl_keyfile",
            "ssl_ca_certs",
            "key_prefix",
        ):
            if name in given:
                settings[name] = str(given[name])
        prefix = settings.get("key_prefix")
        if prefix is not None and not prefix.isalnum():
            raise ValueError(f"key_prefix must be alphanumeric, not {prefix!r}.")
        if settings.get("poll_interval", cls.poll_interval) <= 0:
            raise ValueError("poll_interval must be a positive number of seconds.")
        return cls(**settings)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(f"use_ssl must be true or false, not {value!r}.")


class AtomicRedisLockStore(LockStore):
    """Ticket locks in Redis; each change to a queue is one atomic script."""

    def __init__(self, endpoint_config: EndpointConfig | None = None) -> None:
        """Rasa calls this with the ``lock_store`` section of the endpoints."""
        settings = RedisLockSettings.from_endpoint_config(endpoint_config)
        self.red = redis.Redis(
            host=settings.host,
            port=settings.port,
            db=settings.db,
            username=settings.username,
            password=settings.password,
            ssl=settings.use_ssl,
            ssl_certfile=settings.ssl_certfile,
            ssl_keyfile=settings.ssl_keyfile,
            ssl_ca_certs=settings.ssl_ca_certs,
            socket_timeout=settings.socket_timeout,
        )
        self.key_prefix = (
            f"{settings.key_prefix}:{KEY_NAMESPACE}"
            if settings.key_prefix
            else KEY_NAMESPACE
        )
        self.poll_interval = settings.poll_interval
        self._issue = self.red.register_script(_ISSUE)
        self._snapshot = self.red.register_script(_SNAPSHOT)
        self._settle = self.red.register_script(_SETTLE)
        self._replace = self.red.register_script(_REPLACE)
        super().__init__()

    def keys(self, conversation_id: str) -> list[str]:
        """The conversation's tickets, deadlines and counter keys."""
        base = self.key_prefix + conversation_id
        return [f"{base}:tickets", f"{base}:deadlines", f"{base}:counter"]

    def issue_ticket(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME
    ) -> int:
        """Issues the next ticket number, valid for ``lock_lifetime`` seconds."""
        try:
            number = int(
                self._issue(
                    keys=self.keys(conversation_id),
                    args=[_milliseconds(lock_lifetime), COUNTER_GRACE_SECONDS * 1000],
                )
            )
        except redis.RedisError as error:
            raise LockError(
                f"Could not issue a ticket for conversation '{conversation_id}': "
                f"{error}"
            ) from error
        logger.debug(f"Issued ticket {number} for conversation '{conversation_id}'.")
        return number

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """A snapshot of the conversation's queue, or None when it is empty.

        Expiry times are converted to this machine's clock, so the snapshot's
        own checks (``is_locked``, ``now_serving``) hold here.
        """
        now_ms, *flat = self._snapshot(keys=self.keys(conversation_id)[:2])
        if not flat:
            return None
        local_now = time.time()
        tickets = deque(
            Ticket(int(number), local_now + (int(deadline) - int(now_ms)) / 1000)
            for number, deadline in zip(flat[::2], flat[1::2], strict=True)
        )
        return TicketLock(conversation_id, tickets)

    def save_lock(self, lock: TicketLock) -> None:
        """Replaces the conversation's queue with ``lock``'s tickets, atomically.

        Rasa's own code paths do not need this here (issuing, finishing and
        cleaning up are single scripts); it keeps the ``LockStore`` contract.
        """
        local_now = time.time()
        args: list[int] = [COUNTER_GRACE_SECONDS * 1000]
        for ticket in lock.tickets:
            if not ticket.has_expired():
                args += [ticket.number, _milliseconds(ticket.expires - local_now)]
        self._replace(keys=self.keys(lock.conversation_id), args=args)

    def delete_lock(self, conversation_id: str) -> None:
        """Drops every ticket of the conversation (the counter stays)."""
        deleted = self.red.delete(*self.keys(conversation_id)[:2])
        self._log_deletion(conversation_id, deletion_successful=bool(deleted))

    def update_lock(self, conversation_id: str) -> None:
        """Drops the conversation's expired tickets."""
        self._settle(keys=self.keys(conversation_id)[:2], args=[])

    def is_someone_waiting(self, conversation_id: str) -> bool:
        """Whether the conversation has a ticket that has not expired."""
        return int(self._settle(keys=self.keys(conversation_id)[:2], args=[])) > 0

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Removes the ticket: the next one in line is served."""
        self._settle(keys=self.keys(conversation_id)[:2], args=[ticket_number])

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Removes the ticket; an empty queue disappears from Redis by itself."""
        self.finish_serving(conversation_id, ticket_number)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float | None = None,
    ) -> AsyncIterator[TicketLock]:
        """Rasa's ``lock``, checking every ``poll_interval`` unless told otherwise.

        Rasa calls ``lock(conversation_id)``, whose 1 s wait between checks would
        add up to a second to every message that finds another one in front.
        """
        wait = (
            self.poll_interval if wait_time_in_seconds is None else wait_time_in_seconds
        )
        async with super().lock(conversation_id, lock_lifetime, wait) as ticket_lock:
            yield ticket_lock

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if lock is None or all(t.number != ticket for t in lock.tickets):
                raise LockError(
                    f"Ticket {ticket} of conversation '{conversation_id}' expired "
                    f"before its turn."
                )
            if not lock.is_locked(ticket):
                logger.debug(
                    f"Acquired lock for conversation '{conversation_id}' "
                    f"(ticket {ticket})."
                )
                return lock
            await asyncio.sleep(wait_time_in_seconds)


def _milliseconds(seconds: float) -> int:
    """A lifetime in whole milliseconds, at least 1 (Redis expiries must be > 0)."""
    return max(1, round(seconds * 1000))
