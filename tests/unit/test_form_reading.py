"""The callback form reads each answer as the answer to its question (issue 13).

Every answer below goes through the real ``validate_callback_form`` (a fresh
CollectingDispatcher, the real domain), with the tracker Rasa sends while the
form waits for that slot, and with a classifier that guessed wrong on purpose
(an FAQ for names, an emergency for times, as the trained model did). None may
be sent anywhere else. ``tools/evaluate_conversation.py`` checks the same
answers against the trained model.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.callback import ActionAskCallbackConsent, ValidateCallbackForm
from actions.form_reading import (
    ANSWER,
    CRISIS,
    EMERGENCY,
    QUESTION,
    STOP,
    correction,
    read_turn,
)
from tests.form_answers import NAMES, PHONES, TIMES

pytestmark = pytest.mark.usefixtures("isolated_config")


def form_tracker(
    slot: str,
    text: str,
    intent: str = "faq",
    confidence: float = 0.9,
    slots: dict[str, Any] | None = None,
    safety_net: dict[str, Any] | None = None,
    extracted: bool = True,
) -> Tracker:
    """The tracker Rasa sends the validator: message, extracted slot, form marker."""
    parse: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": [],
    }
    if safety_net:
        parse["safety_net"] = safety_net
    values = {**(slots or {}), "requested_slot": slot}
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": parse},
        {"event": "action", "name": "action_extract_slots"},
        {"event": "slot", "name": "requested_slot", "value": slot},
        {"event": "action", "name": "callback_form"},
    ]
    if extracted:
        values[slot] = text
        events.append({"event": "slot", "name": slot, "value": text})
    return Tracker(
        sender_id="form-test",
        slots=values,
        latest_message=parse,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": "callback_form"},
        latest_action_name="callback_form",
    )


def run_form(tracker: Tracker, domain: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateCallbackForm().run(dispatcher, tracker, domain))
    return events, dispatcher.messages


def set_slots(events: list[Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def rejected(events: list[Any]) -> bool:
    return any(e.get("event") == "action_execution_rejected" for e in events)


def test_enough_answers() -> None:
    assert len(NAMES) + len(PHONES) + len(TIMES) >= 150
    assert len({origin for _, _, origin in NAMES}) >= 10
    assert len({fmt for _, _, fmt in PHONES}) >= 10
    assert len(TIMES) >= 40


@pytest.mark.parametrize(("text", "expected", "origin"), NAMES)
def test_names_are_read_as_names(
    text: str, expected: str, origin: str, domain: dict[str, Any]
) -> None:
    for intent, confidence in (("faq", 0.9), ("nlu_fallback", 0.45), ("thank", 0.6)):
        events, messages = run_form(
            form_tracker("callback_name", text, intent, confidence), domain
        )
        assert not rejected(events), (text, intent)
        assert messages == [], (text, messages)
        assert set_slots(events)["callback_name"] == expected


@pytest.mark.parametrize(("text", "expected", "fmt"), PHONES)
def test_phone_numbers_are_read_as_phone_numbers(
    text: str, expected: str, fmt: str, domain: dict[str, Any]
) -> None:
    events, messages = run_form(
        form_tracker("callback_phone", text, "emergency", 0.9), domain
    )
    assert not rejected(events)
    assert messages == []
    assert set_slots(events)["callback_phone"] == expected


@pytest.mark.parametrize("text", TIMES)
def test_times_are_read_as_times(text: str, domain: dict[str, Any]) -> None:
    # the model said "emergency" (0.967) to "after 6pm on weekdays please"
    events, messages = run_form(
        form_tracker("callback_time", text, "emergency", 0.97), domain
    )
    assert not rejected(events), text
    assert messages == []
    assert set_slots(events)["callback_time"]


@pytest.mark.parametrize(
    "text", ["12345", "call me maybe", "555-0199", "my number", "+1 (213) 555-01"]
)
def test_a_bad_phone_number_gets_a_clear_error(
    text: str, domain: dict[str, Any]
) -> None:
    events, messages = run_form(
        form_tracker("callback_phone", text, "nlu_fallback", 0.4), domain
    )
    assert not rejected(events)
    assert set_slots(events)["callback_phone"] is None
    assert "213-555-0199" in messages[0]["text"]


# -- interruptions ------------------------------------------------------------ #


@pytest.mark.parametrize("slot", ["callback_name", "callback_phone", "callback_time"])
def test_a_crisis_in_the_middle_goes_to_988(slot: str, domain: dict[str, Any]) -> None:
    net = {"level": "crisis", "matched": "want_to_die", "overrode": "faq"}
    events, messages = run_form(
        form_tracker(
            slot, "honestly i just want to die", "crisis", 1.0, safety_net=net
        ),
        domain,
    )
    assert rejected(events)  # the form steps aside; the crisis rule sends 988
    assert set_slots(events)[slot] is None
    assert messages == []


def test_an_emergency_in_the_middle_goes_to_911(domain: dict[str, Any]) -> None:
    net = {"level": "emergency", "matched": "unresponsive", "overrode": None}
    events, _ = run_form(
        form_tracker(
            "callback_time", "my son wont wake up", "emergency", 1.0, safety_net=net
        ),
        domain,
    )
    assert rejected(events)


@pytest.mark.parametrize(
    ("slot", "text"),
    [
        ("callback_name", "is klonopin addictive?"),
        ("callback_name", "what are the withdrawal symptoms"),
        ("callback_phone", "can i detox at home?"),
        ("callback_time", "how long does withdrawal last?"),
    ],
)
def test_a_question_in_the_middle_is_answered_then_the_form_resumes(
    slot: str, text: str, domain: dict[str, Any]
) -> None:
    events, messages = run_form(form_tracker(slot, text, "faq", 0.95), domain)
    assert rejected(events)  # the in-form FAQ rule answers, then the form asks again
    assert messages == []


def test_stop_in_the_middle(domain: dict[str, Any]) -> None:
    events, _ = run_form(form_tracker("callback_phone", "stop", "stop", 0.99), domain)
    assert rejected(events)  # the cancel rule runs
    events, messages = run_form(
        form_tracker("callback_time", "forget it", "deny", 0.7), domain
    )
    assert not rejected(events)
    assert set_slots(events)["requested_slot"] is None
    assert all(v is None for v in set_slots(events).values())
    assert messages[0]["response"] == "utter_callback_cancelled"


def test_a_field_is_corrected_at_the_consent_question(domain: dict[str, Any]) -> None:
    have = {
        "callback_name": "Ana",
        "callback_phone": "+12135550143",
        "callback_time": "after 6pm",
    }
    tracker = form_tracker(
        "callback_consent", "no, my number is 310 555 0123", "deny", 0.9, slots=have
    )
    events, messages = run_form(tracker, domain)
    slots = set_slots(events)
    assert slots["callback_phone"] == "+13105550123"
    assert slots["callback_consent"] is None  # asked again, with the new number
    assert "(310) 555-0123" in messages[0]["text"] or "310" in messages[0]["text"]


def test_a_field_is_corrected_while_another_is_asked(domain: dict[str, Any]) -> None:
    tracker = form_tracker(
        "callback_time",
        "sorry my name is Zebulon",
        "faq",
        0.5,
        slots={"callback_name": "Zeb", "callback_phone": "+12135550143"},
    )
    events, _ = run_form(tracker, domain)
    assert set_slots(events)["callback_name"] == "Zebulon"
    assert set_slots(events)["callback_time"] is None


def test_the_consent_question_says_what_the_form_has(domain: dict[str, Any]) -> None:
    tracker = form_tracker(
        "callback_consent",
        "",
        extracted=False,
        slots={
            "callback_name": "J. Okonkwo-Reyes",
            "callback_phone": "+12135550143",
            "callback_time": "after 6pm on weekdays",
        },
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskCallbackConsent().run(dispatcher, tracker, domain))
    text = dispatcher.messages[0]["text"]
    assert "J. Okonkwo-Reyes" in text and "after 6pm on weekdays" in text
    assert "555-0143" in text


def test_resuming_after_an_answer_does_not_reject_again(domain: dict[str, Any]) -> None:
    tracker = form_tracker(
        "callback_name", "is it addictive?", "faq", 0.95, extracted=False
    )
    tracker.events.insert(-1, {"event": "action", "name": "utter_faq"})
    events, _ = run_form(tracker, domain)
    assert not rejected(events)


@pytest.mark.parametrize(
    ("slot", "text", "intent", "expected"),
    [
        ("callback_name", "Zebulon Quartermaine", "faq", ANSWER),
        ("callback_name", "Hope", "crisis", ANSWER),
        ("callback_time", "after 6pm on weekdays please", "emergency", ANSWER),
        ("callback_name", "what is klonopin", "faq", QUESTION),
        ("callback_name", "cancel", "stop", STOP),
        ("callback_phone", "he took 30 pills", "emergency", EMERGENCY),
        ("callback_phone", "i want to kill myself", "faq", CRISIS),
    ],
)
def test_read_turn(slot: str, text: str, intent: str, expected: str) -> None:
    from rasa_server.safety_net.rules import assess

    found = assess(text)
    parse = {"intent": {"name": intent, "confidence": 0.97}}
    if found:
        parse["safety_net"] = {"level": found.level}
    assert read_turn(slot, text, parse) == expected


def test_corrections() -> None:
    assert correction("no, my number is 213 555 0199") == (
        "callback_phone",
        "213 555 0199",
    )
    assert correction("actually my name is Ana") == ("callback_name", "Ana")
    assert correction("change the time to after 5") == ("callback_time", "after 5")
    assert correction("after 6pm") is None
