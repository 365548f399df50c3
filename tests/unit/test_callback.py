"""Callback form: validation, consent, submit/cancel, and PII-free logs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.callback import (
    CALLBACK_SLOTS,
    ActionCancelCallback,
    ActionSubmitCallback,
    ValidateCallbackForm,
)
from actions.store import Store
from common import redact

TrackerFactory = Callable[..., Tracker]

pytestmark = pytest.mark.usefixtures("isolated_config")

FORM = {"name": "callback_form"}
CLEARED = [SlotSet(slot, None) for slot in CALLBACK_SLOTS]
GOOD_SLOTS = {
    "callback_name": "Ana",
    "callback_phone": "+12135550143",
    "callback_time": "weekday mornings",
    "callback_consent": True,
}


def validate(
    slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    method = getattr(ValidateCallbackForm(), f"validate_{slot}")
    result: dict[str, Any] = method(value, dispatcher, tracker, {})
    return result


def test_form_asks_for_exactly_four_things(domain: dict[str, Any]) -> None:
    required = domain["forms"]["callback_form"]["required_slots"]
    assert required == list(CALLBACK_SLOTS)
    assert ValidateCallbackForm().name() in domain["actions"]
    assert ActionSubmitCallback().name() in domain["actions"]
    assert ActionCancelCallback().name() in domain["actions"]


# -- name --------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ana", "Ana"),
        ("  maria   lopez ", "maria lopez"),
        ("A.J.", "A.J."),
        ("J", "J"),
        ("Mary-Jane O'Brien", "Mary-Jane O'Brien"),
        ("Mary-Jane O\u2019Brien", "Mary-Jane O'Brien"),
        ("José Núñez", "José Núñez"),
        ("my name is Ana", "Ana"),
        ("It's Sam.", "Sam."),
        ("x" * 60, "x" * 60),
    ],
)
def test_valid_names(
    value: str,
    expected: str,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
) -> None:
    assert validate("callback_name", value, dispatcher, make_tracker()) == {
        "callback_name": expected
    }
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("213-555-0143", "phone number"),
        ("(213) 555 0143", "phone number"),
        ("ana@example.org", "e-mail"),
        ("R2D2", "letters"),
        ("", "letters"),
        ("!!!", "letters"),
        ("x" * 61, "letters"),
        ("Ana; DROP TABLE handoffs", "letters"),
    ],
)
def test_invalid_names_are_rejected_with_a_reason(
    value: str,
    hint: str,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
) -> None:
    assert validate("callback_name", value, dispatcher, make_tracker()) == {
        "callback_name": None
    }
    [message] = dispatcher.messages
    assert hint in message["text"]


# -- phone -------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("value", "e164"),
    [
        ("213-555-0143", "+12135550143"),
        ("(213) 555 0143", "+12135550143"),
        ("2135550143", "+12135550143"),
        ("+1 213.555.0143", "+12135550143"),
        ("1 213 555 0143", "+12135550143"),
        ("call me at 213 555 0143 please", "+12135550143"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_is_normalised_to_e164(
    value: str,
    e164: str,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
) -> None:
    assert validate("callback_phone", value, dispatcher, make_tracker()) == {
        "callback_phone": e164
    }
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "value",
    [
        "12345",
        "911",
        "988",
        "555-0143",
        "my number",
        "",
        "213-555-0143 or 213-555-0144",
    ],
)
def test_invalid_phone_gets_a_friendly_reask(
    value: str, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    assert validate("callback_phone", value, dispatcher, make_tracker()) == {
        "callback_phone": None
    }
    [message] = dispatcher.messages
    assert "area code" in message["text"]
    assert "213-555-0199" in message["text"]  # an example of the format


# -- time --------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("value", "expected"),
    [("after 6pm", "after 6pm"), ("  weekday   mornings ", "weekday mornings")],
)
def test_valid_times(
    value: str,
    expected: str,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
) -> None:
    assert validate("callback_time", value, dispatcher, make_tracker()) == {
        "callback_time": expected
    }


@pytest.mark.parametrize("value", ["", "x", "y" * 81])
def test_invalid_times(
    value: str, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    assert validate("callback_time", value, dispatcher, make_tracker()) == {
        "callback_time": None
    }
    assert "80 characters" in dispatcher.messages[0]["text"]


# -- consent ------------------------------------------------------------------ #


def test_consent_yes(
    dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    assert validate("callback_consent", True, dispatcher, make_tracker()) == {
        "callback_consent": True
    }
    assert dispatcher.messages == []


def test_consent_no_ends_the_form_politely_and_keeps_nothing(
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
) -> None:
    result = validate("callback_consent", False, dispatcher, make_tracker())
    assert result == {
        "callback_name": None,
        "callback_phone": None,
        "callback_time": None,
        "callback_consent": None,
        "requested_slot": None,  # terminates the form
    }
    [message] = dispatcher.messages
    assert "won't call" in message["text"]
    assert "haven't kept" in message["text"]
    assert "(213) 555-0142" in message["text"]
    assert "tel:+12135550142" in message["text"]
    assert handoff_store.handoffs_for("test-sender") == []


async def test_form_run_validates_the_slot_filled_this_turn(
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="(213) 555-0143",
        slots={"callback_name": "Ana", "requested_slot": "callback_phone"},
        active_loop=FORM,
        events=[
            {"event": "user", "text": "(213) 555-0143"},
            {"event": "slot", "name": "callback_phone", "value": "(213) 555-0143"},
        ],
    )
    events = await ValidateCallbackForm().run(dispatcher, tracker, domain)
    assert events == [SlotSet("callback_phone", "+12135550143")]


async def test_form_run_decline_terminates_the_loop(
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        intent="deny",
        slots={**GOOD_SLOTS, "callback_consent": False},
        active_loop=FORM,
        events=[
            {"event": "user", "text": "no"},
            {"event": "slot", "name": "callback_consent", "value": False},
        ],
    )
    events = await ValidateCallbackForm().run(dispatcher, tracker, domain)
    assert SlotSet("requested_slot", None) in events
    assert SlotSet("callback_phone", None) in events
    assert SlotSet("callback_name", None) in events


# -- submit ------------------------------------------------------------------- #


async def test_submit_stores_callback_on_the_handoff_then_confirms(
    isolated_config: pytest.MonkeyPatch,
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    isolated_config.setenv("NOTIFY_WEBHOOK_URL", "https://hooks.example.com/x")
    admissions = handoff_store.record_handoff("admissions", "conv-7")

    tracker = make_tracker(slots=GOOD_SLOTS, sender_id="conv-7")
    events = await ActionSubmitCallback().run(dispatcher, tracker, domain)

    assert events == CLEARED
    stored = handoff_store.get_handoff(admissions.id)
    assert stored is not None and stored.callback is not None
    assert stored.callback.name == "Ana"
    assert stored.callback.phone == "+12135550143"
    assert stored.callback.time == "weekday mornings"
    assert stored.callback.consent is True
    [row] = handoff_store.outbox_for(admissions.id)
    assert row.channel == "webhook"
    assert "+12135550143" in row.payload["text"]
    assert admissions.reference in row.payload["text"]

    [message] = dispatcher.messages
    assert "received" in message["text"]
    assert admissions.reference in message["text"]
    assert "24 hours a day, 7 days a week" in message["text"]
    assert "(213) 555-0143" in message["text"]


async def test_submit_without_earlier_handoff_creates_one(
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(slots=GOOD_SLOTS, sender_id="conv-8")
    await ActionSubmitCallback().run(dispatcher, tracker, domain)
    [stored] = handoff_store.handoffs_for("conv-8")
    assert stored.level == "admissions"
    assert stored.callback is not None
    assert stored.reference in dispatcher.messages[0]["text"]


@pytest.mark.parametrize("consent", [None, False])
async def test_submit_without_consent_stores_nothing(
    consent: Any,
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        slots={**GOOD_SLOTS, "callback_consent": consent}, sender_id="conv-9"
    )
    events = await ActionSubmitCallback().run(dispatcher, tracker, domain)
    assert events == CLEARED
    assert handoff_store.handoffs_for("conv-9") == []
    assert handoff_store.pending_count() == 0
    if consent is False:
        assert "won't call" in dispatcher.messages[0]["text"]
    else:  # after the validator already said so, stay quiet
        assert dispatcher.messages == []


async def test_submit_storage_failure_apologises_and_gives_the_number(
    handoff_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(handoff_store, "attach_callback", broken)
    tracker = make_tracker(slots=GOOD_SLOTS, sender_id="conv-10")
    events = await ActionSubmitCallback().run(dispatcher, tracker, domain)
    assert events == CLEARED
    [message] = dispatcher.messages
    assert "received" not in message["text"]
    assert "nothing was kept" in message["text"]
    assert "(213) 555-0142" in message["text"]
    assert "disk full" not in message["text"]


async def test_cancel_clears_the_form_and_stores_nothing(
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        intent="stop",
        slots={**GOOD_SLOTS, "requested_slot": "callback_consent"},
        active_loop=FORM,
        sender_id="conv-11",
    )
    events = await ActionCancelCallback().run(dispatcher, tracker, domain)
    assert events == CLEARED  # the rule deactivates the loop and says so
    assert handoff_store.handoffs_for("conv-11") == []
    assert dispatcher.messages == []


# -- PII never reaches the logs ------------------------------------------------ #


@pytest.fixture
def pii_filter() -> Iterator[None]:
    redact.install()
    yield
    redact.uninstall()
    redact.forget_names()


@pytest.mark.usefixtures("pii_filter")
async def test_phone_and_name_never_appear_in_logs(
    handoff_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    name, phone = "Zelda Quimby", "(213) 555-0177"
    tracker = make_tracker(sender_id="conv-12")
    form = ValidateCallbackForm()
    assert form.validate_callback_name(name, dispatcher, tracker, domain)
    e164 = form.validate_callback_phone(phone, dispatcher, tracker, domain)[
        "callback_phone"
    ]

    def broken(*args: Any, **kwargs: Any) -> Any:
        # Like a driver error that echoes the statement's parameters.
        raise RuntimeError(f"insert failed [parameters: ('{name}', '{e164}')]")

    monkeypatch.setattr(handoff_store, "attach_callback", broken)
    slots = {**GOOD_SLOTS, "callback_name": name, "callback_phone": e164}
    with caplog.at_level(logging.DEBUG):
        await ActionSubmitCallback().run(
            dispatcher, make_tracker(slots=slots, sender_id="conv-12"), domain
        )
        # Even a careless log line elsewhere is masked.
        logging.getLogger("some.library").warning(
            "user %s at %s / %s", name, phone, "2135550177"
        )

    assert "Could not store a callback request" in caplog.text
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for secret in ["Zelda", "Quimby", "555-0177", "5550177", "0177"]:
        assert secret not in logged
    assert redact.PHONE_MASK in logged and redact.NAME_MASK in logged


def test_redact_masks_phone_formats_and_keeps_ordinary_text() -> None:
    text = redact.redact(
        "call +1 (213) 555-0142 or 213.555.0143 or 2135550144; row 42, port 5055"
    )
    assert "555" not in text
    assert text.count(redact.PHONE_MASK) == 3
    assert "row 42, port 5055" in text
