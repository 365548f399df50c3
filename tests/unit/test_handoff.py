"""Handoff actions: what the visitor gets, what is stored, and failure behaviour."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff as handoff_module
from actions.handoff import (
    ActionHandoffAdmissions,
    ActionHandoffCrisis,
    ActionHandoffEmergency,
)
from actions.store import Store

TrackerFactory = Callable[..., Tracker]

pytestmark = pytest.mark.usefixtures("isolated_config")

PHONE, TEL = "(213) 555-0142", "tel:+12135550142"

CASES = [
    pytest.param(
        ActionHandoffEmergency,
        "emergency",
        ["911", "1-800-222-1222"],
        ["tel:911", "tel:+18002221222"],
        id="emergency",
    ),
    pytest.param(
        ActionHandoffCrisis,
        "crisis",
        ["988", "911"],
        ["tel:988", "tel:911"],
        id="crisis",
    ),
    pytest.param(
        ActionHandoffAdmissions,
        "admissions",
        ["911"],
        ["tel:911", "tel:+18006624357"],
        id="admissions",
    ),
]


async def run(
    action: Action,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
    **kwargs: Any,
) -> list[dict[str, Any]]:
    tracker = make_tracker(sender_id="conv-42", **kwargs)
    return await action.run(dispatcher, tracker, domain)


def custom_payload(dispatcher: CollectingDispatcher) -> dict[str, Any]:
    customs = [m["custom"] for m in dispatcher.messages if m["custom"]]
    assert len(customs) == 1
    handoff: dict[str, Any] = customs[0]["handoff"]
    return handoff


@pytest.mark.parametrize(("action_cls", "level", "texts", "tels"), CASES)
async def test_handoff_reply_payload_and_slot(
    action_cls: type[Action],
    level: str,
    texts: list[str],
    tels: list[str],
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    action = action_cls()
    assert action.name() == f"action_handoff_{level}"
    assert action.name() in domain["actions"]

    events = await run(action, dispatcher, make_tracker, domain, intent=level)

    assert events == [SlotSet("handoff_level", level)]
    text = dispatcher.messages[0]["text"]
    # The crisis reply carries no admissions line (no sales line, issue 12).
    admissions = [] if level == "crisis" else [PHONE, TEL, "24 hours a day"]
    for fragment in [*texts, *admissions]:
        assert fragment in text
    payload = custom_payload(dispatcher)
    assert payload["level"] == level
    assert payload["phone"] == PHONE
    assert payload["tel"] == TEL
    assert payload["sms"] == "sms:+12135550143"
    assert payload["email"] == "admissions@example.org"
    assert payload["web_form"] == "https://example.org/admissions"
    assert payload["hours"] == "24 hours a day, 7 days a week"
    resource_tels = [r.get("tel") for r in payload["resources"]]
    for tel in tels:
        assert tel in resource_tels
    for resource in payload["resources"]:
        assert resource["name"]
        assert resource.get("tel") or resource.get("sms")

    # Stored durably, and the visitor was given the reference.
    [stored] = handoff_store.handoffs_for("conv-42")
    assert stored.level == level
    assert payload["reference"] == stored.reference


async def test_emergency_resources_are_911_and_poison_help(
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    await run(ActionHandoffEmergency(), dispatcher, make_tracker, domain)
    resources = custom_payload(dispatcher)["resources"]
    assert {"name": "911", "phone": "911", "tel": "tel:911"} in resources
    assert {
        "name": "Poison Help",
        "phone": "1-800-222-1222",
        "tel": "tel:+18002221222",
    } in resources


async def test_crisis_resources_call_and_text_988(
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    await run(ActionHandoffCrisis(), dispatcher, make_tracker, domain)
    resources = custom_payload(dispatcher)["resources"]
    assert any(r.get("tel") == "tel:988" for r in resources)
    assert any(r.get("sms") == "sms:988" for r in resources)
    assert any(r.get("tel") == "tel:911" for r in resources)


async def test_admissions_offers_callback_with_buttons(
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    await run(ActionHandoffAdmissions(), dispatcher, make_tracker, domain)
    first = dispatcher.messages[0]
    assert first["buttons"] == [
        {"title": "Yes, call me back", "payload": "/request_callback"},
        {"title": "No thanks", "payload": "/deny"},
    ]
    assert "call you back" in first["text"]
    assert "(213) 555-0143" in first["text"]  # the SMS number
    resources = custom_payload(dispatcher)["resources"]
    assert {
        "name": "SAMHSA National Helpline",
        "phone": "1-800-662-4357",
        "tel": "tel:+18006624357",
    } in resources
    # The intents behind the buttons exist in the domain.
    names = {next(iter(i)) if isinstance(i, dict) else i for i in domain["intents"]}
    assert {"request_callback", "deny"} <= names


@pytest.mark.parametrize("level_cls", [ActionHandoffEmergency, ActionHandoffCrisis])
async def test_no_callback_buttons_for_urgent_levels(
    level_cls: type[Action],
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    await run(level_cls(), dispatcher, make_tracker, domain)
    assert all(m["buttons"] == [] for m in dispatcher.messages)


async def test_staff_notification_is_queued_per_channel(
    isolated_config: pytest.MonkeyPatch,
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    isolated_config.setenv("NOTIFY_WEBHOOK_URL", "https://hooks.example.com/x")
    isolated_config.setenv("SMTP_HOST", "smtp.example.com")
    isolated_config.setenv("NOTIFY_EMAIL_TO", "staff@example.com")
    isolated_config.setenv("NOTIFY_EMAIL_FROM", "bot@example.com")
    await run(ActionHandoffEmergency(), dispatcher, make_tracker, domain)
    [stored] = handoff_store.handoffs_for("conv-42")
    rows = handoff_store.outbox_for(stored.id)
    assert sorted(r.channel for r in rows) == ["email", "webhook"]
    webhook = next(r for r in rows if r.channel == "webhook")
    assert "EMERGENCY" in webhook.payload["text"]
    assert stored.reference in webhook.payload["text"]
    assert webhook.payload["blocks"]
    email = next(r for r in rows if r.channel == "email")
    assert stored.reference in email.payload["subject"]


async def test_no_channel_configured_stores_handoff_without_outbox(
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    await run(ActionHandoffCrisis(), dispatcher, make_tracker, domain)
    [stored] = handoff_store.handoffs_for("conv-42")
    assert handoff_store.outbox_for(stored.id) == []


@pytest.mark.parametrize(("action_cls", "level", "texts", "tels"), CASES)
async def test_storage_failure_still_gives_phone_numbers(
    action_cls: type[Action],
    level: str,
    texts: list[str],
    tels: list[str],
    handoff_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database is on fire")

    monkeypatch.setattr(handoff_store, "record_handoff", broken)
    with caplog.at_level(logging.ERROR, logger="actions.handoff"):
        events = await run(action_cls(), dispatcher, make_tracker, domain)

    assert events == [SlotSet("handoff_level", level)]
    text = dispatcher.messages[0]["text"]
    admissions = [] if level == "crisis" else [PHONE, TEL]
    for fragment in [*texts, *admissions]:
        assert fragment in text
    assert "fire" not in str(dispatcher.messages)  # never a raw error
    payload = custom_payload(dispatcher)
    assert payload["reference"] is None
    assert payload["tel"] == TEL
    assert f"Could not store a {level} handoff" in caplog.text


async def test_database_unreachable_still_gives_phone_numbers(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    def unreachable() -> Store:
        raise ConnectionError("could not connect to server")

    monkeypatch.setattr(handoff_module, "get_store", unreachable)
    with caplog.at_level(logging.ERROR, logger="actions.handoff"):
        await run(ActionHandoffEmergency(), dispatcher, make_tracker, domain)
    assert "911" in dispatcher.messages[0]["text"]
    assert custom_payload(dispatcher)["reference"] is None
    assert "Could not store" in caplog.text


def test_static_safety_responses_do_not_need_the_action_server(
    domain: dict[str, Any],
) -> None:
    """The contract the rules rely on: 911/988 are in static domain responses."""
    variants = domain["responses"]["utter_emergency"]
    # the variant sent when no urgent_context is known: the bystander text
    [default] = [v["text"] for v in variants if not v.get("condition")]
    crisis = domain["responses"]["utter_crisis"][0]["text"]
    assert "911" in default and "1-800-222-1222" in default
    assert all("911" in v["text"] for v in variants)
    assert "988" in crisis and "911" in crisis
    assert domain["slots"]["handoff_level"]["mappings"] == [{"type": "custom"}]


@pytest.mark.parametrize("action_cls", [ActionHandoffEmergency, ActionHandoffCrisis])
async def test_handoff_mid_form_drops_half_given_callback_answers(
    action_cls: type[Action],
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    slots = {"callback_name": "Ana", "callback_phone": "+12135550143"}
    events = await run(action_cls(), dispatcher, make_tracker, domain, slots=slots)
    assert events[1:] == [
        SlotSet("callback_name", None),
        SlotSet("callback_phone", None),
    ]
    assert "911" in dispatcher.messages[0]["text"]


async def test_crisis_text_has_988_chat_and_no_admissions_line(
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    await run(ActionHandoffCrisis(), dispatcher, make_tracker, domain)
    text = dispatcher.messages[0]["text"]
    assert "988lifeline.org" in text and "911" in text
    for sales in (PHONE, TEL, "admissions", "treatment"):
        assert sales not in text


@pytest.mark.parametrize("context", ["self_suicidal", "other_suicidal"])
async def test_suicidal_emergency_text_gives_911_then_988(
    context: str,
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    await run(
        ActionHandoffEmergency(),
        dispatcher,
        make_tracker,
        domain,
        slots={"urgent_context": context},
    )
    text = dispatcher.messages[0]["text"]
    assert text.index("911") < text.index("988")
    assert "988lifeline.org" in text
    assert PHONE not in text and "admissions" not in text
    payload = custom_payload(dispatcher)
    assert payload["level"] == "emergency"
    tels = [r.get("tel") for r in payload["resources"]]
    assert tels.index("tel:911") < tels.index("tel:988")
    assert any(r.get("sms") == "sms:988" for r in payload["resources"])


@pytest.mark.parametrize("context", [None, "self", "other"])
async def test_emergency_text_without_suicidal_words_keeps_poison_help(
    context: str | None,
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    slots = {"urgent_context": context} if context else None
    await run(ActionHandoffEmergency(), dispatcher, make_tracker, domain, slots=slots)
    text = dispatcher.messages[0]["text"]
    assert "911" in text and "1-800-222-1222" in text and PHONE in text
    assert "988" not in text


async def test_running_out_emergency_text_offers_admissions_and_911(
    handoff_store: Store,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    domain: dict[str, Any],
) -> None:
    slots = {"urgent_context": "running_out"}
    await run(ActionHandoffEmergency(), dispatcher, make_tracker, domain, slots=slots)
    text = dispatcher.messages[0]["text"]
    assert PHONE in text and TEL in text and "911" in text
    assert "988" not in text
