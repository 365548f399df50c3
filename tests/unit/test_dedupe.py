"""A redelivered message is handled once (rasa_server/dedupe.py); the webhooks
themselves: tests/system/test_channels.py."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_server import dedupe


def message(
    message_id: str | None = "SM1", sender: str = "+13105550123"
) -> UserMessage:
    return UserMessage(
        "hi", CollectingOutputChannel(), sender, input_channel="twilio",
        message_id=message_id,
    )  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_message_is_claimed_once_until_it_is_old() -> None:
    clock = Clock()
    recent = dedupe.RecentMessages(ttl=60, clock=clock)
    assert recent.claim(("twilio", "a", "SM1")) is True
    assert recent.claim(("twilio", "a", "SM1")) is False
    assert recent.claim(("twilio", "b", "SM1")) is True, "another conversation"
    assert recent.claim(("telegram", "a", "SM1")) is True, "another channel"
    clock.now += 61
    assert recent.claim(("twilio", "a", "SM1")) is True, "forgotten after the ttl"


def test_released_messages_can_be_claimed_again_and_the_set_is_bounded() -> None:
    recent = dedupe.RecentMessages(ttl=60, max_size=3, clock=Clock())
    assert recent.claim(("c", "s", "1"))
    recent.release(("c", "s", "1"))
    assert recent.claim(("c", "s", "1")), "a failed delivery is handled again"
    for n in range(2, 6):
        assert recent.claim(("c", "s", str(n)))
    assert len(recent._seen) <= 3
    assert recent.claim(("c", "s", "1")), "the oldest was dropped to stay bounded"


@pytest.fixture
def recent() -> dedupe.RecentMessages:
    return dedupe.RecentMessages(ttl=60, clock=Clock())


async def test_deliver_hands_over_the_first_delivery_only(
    recent: dedupe.RecentMessages,
) -> None:
    handled: list[str] = []

    async def on_new_message(m: UserMessage) -> None:
        handled.append(m.message_id)

    assert await dedupe.deliver(on_new_message, message("SM1"), recent=recent)
    assert not await dedupe.deliver(on_new_message, message("SM1"), recent=recent)
    assert await dedupe.deliver(on_new_message, message("SM2"), recent=recent)
    assert handled == ["SM1", "SM2"]


async def test_without_a_platform_id_every_message_is_handled(
    recent: dedupe.RecentMessages,
) -> None:
    handled: list[UserMessage] = []

    async def on_new_message(m: UserMessage) -> None:
        handled.append(m)

    same = message(None)
    assert await dedupe.deliver(on_new_message, same, False, recent)
    assert await dedupe.deliver(on_new_message, same, False, recent)
    assert len(handled) == 2 and recent._seen == {}


async def test_a_failed_delivery_is_handled_when_it_comes_again(
    recent: dedupe.RecentMessages,
) -> None:
    calls: list[str] = []

    async def failing(m: UserMessage) -> None:
        calls.append("failing")
        raise RuntimeError("tracker store down")

    async def working(m: UserMessage) -> None:
        calls.append("working")

    with pytest.raises(RuntimeError):
        await dedupe.deliver(failing, message("SM9"), recent=recent)
    assert await dedupe.deliver(working, message("SM9"), recent=recent)
    assert calls == ["failing", "working"]


async def test_a_duplicate_found_in_the_conversation_is_dropped_quietly(
    recent: dedupe.RecentMessages,
) -> None:
    async def stored_before(m: UserMessage) -> None:
        raise dedupe.DuplicateMessage(m.message_id)

    assert not await dedupe.deliver(stored_before, message("SM3"), recent=recent)


def tracker(*events: Any) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "+13105550123",
        [ActionExecuted("action_session_start"), SessionStarted(), *events],
    )


def test_has_message_looks_at_user_events_only() -> None:
    events = tracker(UserUttered("hi", message_id="SM1")).events
    assert dedupe.has_message(events, "SM1")
    assert not dedupe.has_message(events, "SM2")
    assert not dedupe.has_message(events, None)
    assert not dedupe.has_message(tracker(ActionExecuted("action_listen")).events, "")


class FakeProcessor:
    """What ``_handle_message_with_tracker`` needs of the processor."""

    domain = Domain.empty()

    def _log_slots(self, tracker: DialogueStateTracker) -> None:
        return None


@pytest.fixture
def guard() -> Iterator[None]:
    original = MessageProcessor._handle_message_with_tracker
    dedupe.install_guard()
    dedupe.install_guard()  # idempotent: one wrapper
    assert MessageProcessor._handle_message_with_tracker.__wrapped__ is original
    yield
    MessageProcessor._handle_message_with_tracker = original


@pytest.mark.usefixtures("guard")
async def test_the_processor_refuses_a_message_its_conversation_holds() -> None:
    parse = {
        "intent": {"name": "greet", "confidence": 1.0},
        "entities": [],
        "text": "hi",
    }
    conversation = tracker()
    first = message("SM7")
    first.parse_data = parse
    await MessageProcessor._handle_message_with_tracker(
        FakeProcessor(), first, conversation
    )
    assert [
        e.message_id for e in conversation.events if isinstance(e, UserUttered)
    ] == ["SM7"]

    again = message("SM7")
    again.parse_data = parse
    before = list(conversation.events)
    with pytest.raises(dedupe.DuplicateMessage):
        await MessageProcessor._handle_message_with_tracker(
            FakeProcessor(), again, conversation
        )
    assert list(conversation.events) == before, "nothing added for the duplicate"


async def test_an_in_flight_redelivery_waits_and_is_handled_if_the_first_fails(
    recent: dedupe.RecentMessages,
) -> None:
    import asyncio

    started, release = asyncio.Event(), asyncio.Event()
    calls: list[str] = []

    async def slow_then_failing(m: UserMessage) -> None:
        calls.append("first")
        started.set()
        await release.wait()
        raise RuntimeError("the store went away")

    async def working(m: UserMessage) -> None:
        calls.append("retry")

    first = asyncio.create_task(
        dedupe.deliver(slow_then_failing, message("SM7"), recent=recent)
    )
    await started.wait()
    retry = asyncio.create_task(dedupe.deliver(working, message("SM7"), recent=recent))
    await asyncio.sleep(0.05)
    assert not retry.done(), "the redelivery waits for the first attempt"
    release.set()
    with pytest.raises(RuntimeError):
        await first
    assert await retry is True
    assert calls == ["first", "retry"]


async def test_an_in_flight_redelivery_is_dropped_when_the_first_succeeds(
    recent: dedupe.RecentMessages,
) -> None:
    import asyncio

    release = asyncio.Event()
    calls: list[str] = []

    async def slow(m: UserMessage) -> None:
        calls.append(m.message_id)
        await release.wait()

    first = asyncio.create_task(dedupe.deliver(slow, message("SM8"), recent=recent))
    await asyncio.sleep(0.01)
    retry = asyncio.create_task(dedupe.deliver(slow, message("SM8"), recent=recent))
    await asyncio.sleep(0.01)
    release.set()
    assert await first is True and await retry is False
    assert calls == ["SM8"]


def test_seen_ids_are_kept_about_a_day_and_compared_with_their_channel() -> None:
    assert 20 * 3600 <= dedupe.RECENT_SECONDS <= 48 * 3600
    events = tracker(UserUttered("hi", message_id="M1", input_channel="rest")).events
    assert dedupe.has_message(events, "M1", "rest")
    assert not dedupe.has_message(events, "M1", "telegram")
