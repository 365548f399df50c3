"""One answer per message, however often the platform delivers it.

Twilio, Telegram, Messenger and Slack deliver a webhook again when they do not
get a quick 200 (and the REST channel's clients may retry). Each channel passes
the platform's id of the message (Twilio's ``MessageSid``, Telegram's
``update_id``, Messenger's ``mid``, Slack's ``event_id``, the REST body's
``message_id``) as ``UserMessage(message_id=...)``, so it is stored in the
``UserUttered`` event, and hands the message over with :func:`deliver`. A
redelivery is dropped, answered 200 by the channel and not answered to the
visitor, when

- this process handled the same (channel, message id) within about 24 hours
  (:data:`RECENT`, no I/O), or has it in hand: then the redelivery waits for
  the first attempt's outcome and is handled if that attempt failed, or
- the conversation already holds a user event with that id: checked by
  :func:`install_guard`'s hook in Rasa's message processor, on the tracker Rasa
  loads anyway, inside the conversation lock - so it also holds when the
  redelivery reaches another server sharing the tracker and lock stores. It
  raises :class:`DuplicateMessage` before anything is stored or sent.

``rasa_server/__main__.py`` installs the guard.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import UserMessage

from rasa_server.identity import namespace_message

logger = logging.getLogger(__name__)

RECENT_SECONDS = 24 * 3600.0  # platforms retry for hours (Twilio, Messenger)
RECENT_MAX = 100_000
MAX_ID_CHARS = 128


class DuplicateMessage(Exception):
    """The conversation already has this message; nothing was stored or sent."""


class RecentMessages:
    """Messages this process is handling or handled within ``ttl`` seconds."""

    def __init__(
        self,
        ttl: float = RECENT_SECONDS,
        max_size: int = RECENT_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl, self.max_size, self.clock = ttl, max_size, clock
        self._seen: OrderedDict[tuple[str, ...], float] = OrderedDict()
        self._lock = threading.Lock()
        self._in_flight: dict[tuple[str, ...], asyncio.Future[bool]] = {}

    def claim(self, key: tuple[str, ...]) -> bool:
        """True for the first delivery of ``key``; False while it is recent."""
        now = self.clock()
        with self._lock:
            while self._seen:
                oldest, seen_at = next(iter(self._seen.items()))
                if now - seen_at < self.ttl and len(self._seen) < self.max_size:
                    break
                del self._seen[oldest]
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def release(self, key: tuple[str, ...]) -> None:
        """Forget ``key`` (its handling failed: a redelivery must be handled)."""
        with self._lock:
            self._seen.pop(key, None)

    # A delivery in hand: a redelivery that arrives meanwhile waits for its
    # outcome (handled: dropped; failed: handled itself) instead of being
    # dropped at once and lost if the first attempt fails.
    def in_flight(self, key: tuple[str, ...]) -> asyncio.Future[bool] | None:
        return self._in_flight.get(key)

    def start(self, key: tuple[str, ...]) -> asyncio.Future[bool]:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        return future

    def finish(
        self, key: tuple[str, ...], future: asyncio.Future[bool], ok: bool
    ) -> None:
        if self._in_flight.get(key) is future:
            del self._in_flight[key]
        if not future.done():
            future.set_result(ok)


RECENT = RecentMessages()


def message_key(message: UserMessage) -> tuple[str, ...]:
    return (str(message.input_channel), str(message.sender_id), message.message_id)


async def deliver(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    message: UserMessage,
    platform_id: bool = True,
    recent: RecentMessages = RECENT,
) -> bool:
    """Hand ``message`` to Rasa unless it is a redelivery; True if handled now.

    ``platform_id``: the message's id came from the platform or client (without
    one, Rasa made up a random id and there is nothing to compare). Exceptions
    other than a duplicate propagate (the channel answers 500, and the
    platform's redelivery is then handled).
    """
    namespace_message(message)  # each channel's own conversations (identity.py)
    if not platform_id:
        await on_new_message(message)
        return True
    key = message_key(message)
    while (first := recent.in_flight(key)) is not None:
        if await asyncio.shield(first):
            logger.info(
                "Dropped a redelivered %s message (id %s): handled meanwhile",
                message.input_channel,
                message.message_id,
            )
            return False
        # the first attempt failed (and released the id): this one is handled
    if not recent.claim(key):
        logger.info(
            "Dropped a redelivered %s message (id %s): it was handled",
            message.input_channel,
            message.message_id,
        )
        return False
    attempt = recent.start(key)
    try:
        await on_new_message(message)
    except DuplicateMessage:
        logger.info(
            "Dropped a redelivered %s message (id %s): the conversation has it",
            message.input_channel,
            message.message_id,
        )
        recent.finish(key, attempt, True)
        return False
    except BaseException:
        recent.release(key)
        recent.finish(key, attempt, False)
        raise
    recent.finish(key, attempt, True)
    return True


def has_message(
    events: Iterable[Any], message_id: str | None, channel: str | None = None
) -> bool:
    """Whether a user event among ``events`` carries ``message_id`` (from
    ``channel``, when given: the key is the channel and the message id)."""
    from rasa.shared.core.events import UserUttered

    if not message_id:
        return False
    return any(
        isinstance(event, UserUttered)
        and event.message_id == message_id
        and (channel is None or event.input_channel in (None, channel))
        for event in events
    )


def install_guard() -> None:
    """Make Rasa's processor refuse a message its conversation already holds.

    Wraps ``MessageProcessor._handle_message_with_tracker`` (Rasa 3.6), which
    ``handle_message`` calls under the conversation lock with the loaded
    tracker, before parsing the message or storing anything. Idempotent.
    """
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor._handle_message_with_tracker
    if getattr(original, "_duplicate_guard", False):
        return

    @functools.wraps(original)
    async def guarded(self: Any, message: UserMessage, tracker: Any) -> None:
        if has_message(tracker.events, message.message_id, message.input_channel):
            raise DuplicateMessage(message.message_id)
        await original(self, message, tracker)

    guarded._duplicate_guard = True  # type: ignore[attr-defined]
    MessageProcessor._handle_message_with_tracker = guarded
