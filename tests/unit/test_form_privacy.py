"""The callback form's answers are masked in the conversation store
(rasa_server/stores/form_privacy.py via LeanSQLTrackerStore), while the running
form still reads its slots from the stored conversation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_server.stores.sql_tracker_store import LeanSQLTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [request_callback, inform, affirm]
slots:
  callback_name: {type: text, mappings: [{type: custom}]}
  callback_phone: {type: text, mappings: [{type: custom}]}
  callback_time: {type: text, mappings: [{type: custom}]}
  callback_consent: {type: bool, mappings: [{type: custom}]}
forms:
  callback_form:
    required_slots: [callback_name, callback_phone, callback_time, callback_consent]
"""
)
NAME, PHONE, WHEN = "Zelda Quimby", "+12135550166", "tuesdays around noonish"
LONG = "x" * 3990 + " Quimby"


def user(text: str) -> UserUttered:
    return UserUttered(text, {"name": "inform", "confidence": 1.0},
                       parse_data={"text": text, "intent": {"name": "inform"}, "entities": []})  # fmt: skip


def turns() -> list[list[Any]]:
    return [
        [ActionExecuted("action_session_start"), SessionStarted(),
         ActionExecuted("action_listen"), user("can someone call me back"),
         ActiveLoop("callback_form"), SlotSet("requested_slot", "callback_name"),
         BotUttered("What name should we use?")],
        [user(f"my name is {NAME} {LONG}"),
         SlotSet("callback_name", f"my name is {NAME} {LONG}"),  # extracted, raw
         SlotSet("callback_name", NAME),  # the validator's value
         SlotSet("requested_slot", "callback_phone"), BotUttered("Your phone?")],
        [user("(213) 555-0166"), SlotSet("callback_phone", PHONE),
         SlotSet("requested_slot", "callback_time"), BotUttered("Best time?")],
        [user(WHEN), SlotSet("callback_time", WHEN),
         SlotSet("requested_slot", "callback_consent"), BotUttered("Permission?")],
        [user("yes"), SlotSet("callback_consent", True), ActiveLoop(None),
         SlotSet("requested_slot", None),
         BotUttered(f"Thank you, {NAME}. We'll call you at (213) 555-0166 (best time: {WHEN})."),
         SlotSet("callback_name", None), SlotSet("callback_phone", None),
         SlotSet("callback_time", None)],
    ]  # fmt: skip


async def test_answers_are_masked_and_the_running_form_keeps_its_slots(
    tmp_path: Path,
) -> None:
    store = LeanSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
    await check_form_privacy(store)


async def check_form_privacy(store: LeanSQLTrackerStore) -> None:
    """The callback form turn by turn through ``store``, then what it holds
    (also run on PostgreSQL by tests/integration)."""
    tracker = DialogueStateTracker("rest:v", DOMAIN.slots)
    for number, turn in enumerate(turns()):
        tracker = await store.retrieve("rest:v") or tracker
        if number == 4:  # the submit step reads the slots from the stored conversation
            assert tracker.get_slot("callback_name") == NAME
            assert tracker.get_slot("callback_phone") == PHONE
            assert tracker.get_slot("callback_time") == WHEN
        for event in turn:
            tracker.update(event)
        await store.save(tracker)
    with store.session_scope() as session:
        stored = "\n".join(data for (data,) in session.query(store.SQLEvent.data))
    for secret in (NAME, "Zelda", "Quimby", PHONE, "555-0166", WHEN, "x" * 100):
        assert secret not in stored, secret
    assert "[name]" in stored and "[phone]" in stored and "[callback answer]" in stored
    assert "can someone call me back" in stored  # not an answer: kept
    tracker = await store.retrieve("rest:v")
    # the latest session, from SessionStarted on (as Rasa's store reads it)
    assert tracker is not None and len(tracker.events) == sum(map(len, turns())) - 1
