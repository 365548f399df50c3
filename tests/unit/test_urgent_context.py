"""Who an emergency is about, and the 911 reply each visitor gets (issue 12).

* ``urgent_context`` alone: first person vs bystander, suicidal words.
* ``UrgentContext.process`` on Rasa messages: the entity, only for emergencies.
* Rasa itself, without the action server: the entity fills the slot
  (ActionExtractSlots), and the slot picks the variant of the static
  ``utter_emergency`` (TemplatedNaturalLanguageGenerator, response conditions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from rasa_server.safety_net.urgent_context import (
    RUNNING_OUT,
    URGENT_CONTEXT,
    UrgentContext,
    is_first_person,
    urgent_context,
)
from tests.unit.test_safety_net import ON_PURPOSE_FILE, load_examples

PROJECT_ROOT = Path(__file__).resolve().parents[2]

FIRST_PERSON = [
    "i just swallowed all my klonopin",
    "I TOOK 20 KLONOPIN",
    "i think im overdosing on benzos",
    "cant brethe took to many klonopins",
    "i mixed my klonopin with vodka and cant stay awake",
    "i took my mom's klonopin, like 10 of them",
    "im od ing rn",
]
BYSTANDER = [
    "my friend took a bunch of kpins and wont wake up",
    "i think my mom overdosed",
    "help me my boyfriend overdosed",
    "his lips are turning blue",
    "not breathin",
    "ambulance",
    "we cant wake him up he took a lot of pins",
    "someone overdosed at my house",
]


@pytest.mark.parametrize("text", FIRST_PERSON)
def test_first_person(text: str) -> None:
    assert is_first_person(text)
    assert urgent_context(text) == "self"


@pytest.mark.parametrize("text", BYSTANDER)
def test_bystander(text: str) -> None:
    assert not is_first_person(text)
    assert urgent_context(text) == "other"


@pytest.mark.parametrize("text", [text for _, text in load_examples(ON_PURPOSE_FILE)])
def test_overdose_on_purpose_is_suicidal(text: str) -> None:
    assert urgent_context(text).endswith("_suicidal")


def test_suicidal_by_person() -> None:
    assert urgent_context("i took all my pills because i want to die") == (
        "self_suicidal"
    )
    assert urgent_context("my son took his whole prescription on purpose") == (
        "other_suicidal"
    )


# ---------------------------------------------------------------------------- component


def _message(text: str, intent: str) -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": 1.0}, add_to_output=True)
    return message


@pytest.fixture
def component(tmp_path: Path) -> UrgentContext:
    return UrgentContext.create(
        UrgentContext.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("urgent_context"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def test_component_tags_emergencies_only(component: UrgentContext) -> None:
    text = "i just swallowed all my klonopin"
    emergency = _message(text, "emergency")
    faq = _message("is it ok to drink on klonopin", "faq")
    crisis = _message("i want it all to stop", "crisis")
    component.process([emergency, faq, crisis])
    assert emergency.get(ENTITIES) == [
        {
            "entity": URGENT_CONTEXT,
            "value": "self",
            "start": 0,
            "end": len(text),
            "extractor": "UrgentContext",
        }
    ]
    assert not faq.get(ENTITIES)
    assert not crisis.get(ENTITIES)


def test_component_replaces_a_stale_entity(component: UrgentContext) -> None:
    message = _message("my friend is not breathing", "emergency")
    message.set(ENTITIES, [{"entity": URGENT_CONTEXT, "value": "self"}])
    component.process([message])
    assert [e["value"] for e in message.get(ENTITIES)] == ["other"]


# ------------------------------------------------------- Rasa: slot and reply variant


@pytest.fixture(scope="module")
def rasa_domain() -> Domain:
    return Domain.load(
        [
            str(PROJECT_ROOT / "domain.yml"),
            str(PROJECT_ROOT / "data" / "responses" / "faq.yml"),
        ]
    )


def _tracker(domain: Domain, context: str | None) -> DialogueStateTracker:
    tracker = DialogueStateTracker("test", domain.slots)
    if context is not None:
        tracker.update(SlotSet(URGENT_CONTEXT, context))
    return tracker


async def _emergency_reply(domain: Domain, context: str | None) -> str:
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    reply: dict[str, Any] | None = await nlg.generate(
        "utter_emergency", _tracker(domain, context), "rest"
    )
    assert reply is not None
    return str(reply["text"])


async def test_entity_fills_the_slot_without_the_action_server(
    rasa_domain: Domain,
) -> None:
    text = "i just swallowed all my klonopin"
    tracker = DialogueStateTracker("test", rasa_domain.slots)
    tracker.update(
        UserUttered(
            text,
            intent={"name": "emergency", "confidence": 1.0},
            entities=[
                {"entity": URGENT_CONTEXT, "value": "self", "start": 0, "end": 32}
            ],
        )
    )
    nlg = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
    events = await ActionExtractSlots(None).run(
        CollectingOutputChannel(), nlg, tracker, rasa_domain
    )
    assert SlotSet(URGENT_CONTEXT, "self") in events


async def test_bystander_reply(rasa_domain: Domain) -> None:
    for context in (None, "other"):
        text = await _emergency_reply(rasa_domain, context)
        for phrase in (
            "Call 911 now",
            "dispatcher",
            "breathing but won't wake up",
            "onto their side and stay with them",
            "Don't give them any more pills, alcohol or drinks",
            "opioids may be involved",
            "naloxone",
            "won't reverse clonazepam, but it is safe and may help",
            "awake and breathing normally",
            "Poison Help",
            "1-800-222-1222",
        ):
            assert phrase in text, (context, phrase)
        assert "988" not in text
        assert "Unlock your door" not in text


async def test_first_person_reply(rasa_domain: Domain) -> None:
    text = await _emergency_reply(rasa_domain, "self")
    assert text.startswith("Please call 911 now")
    for phrase in ("Unlock your door", "Don't take anything else"):
        assert phrase in text
    assert "their side" not in text and "988" not in text


async def test_first_person_suicidal_reply_gives_911_first_then_988(
    rasa_domain: Domain,
) -> None:
    text = await _emergency_reply(rasa_domain, "self_suicidal")
    assert text.startswith("Please call 911 now")
    assert text.index("911") < text.index("988")
    for phrase in (
        "Unlock your door",
        "don't take anything else",
        "call or text 988",
        "988lifeline.org",
        "Spanish",
    ):
        assert phrase in text


async def test_bystander_suicidal_reply_gives_911_first_then_988(
    rasa_domain: Domain,
) -> None:
    text = await _emergency_reply(rasa_domain, "other_suicidal")
    assert text.startswith("Call 911 now")
    assert text.index("911") < text.index("988")
    for phrase in ("onto their side", "naloxone", "988lifeline.org"):
        assert phrase in text


def test_emergency_entities_do_not_steer_the_dialogue(rasa_domain: Domain) -> None:
    """urgent_context only picks a variant: it is not featurized for emergency."""
    assert (
        URGENT_CONTEXT
        not in rasa_domain.intent_properties["emergency"]["used_entities"]
    )
    slot = next(s for s in rasa_domain.slots if s.name == URGENT_CONTEXT)
    assert not slot.influence_conversation


@pytest.mark.parametrize(
    "text",
    [
        "i missed my doctor appointment and now im out of klonopin",
        "i ran out of my klonopin 2 days ago and im shaking really bad",
        "my doc wont give me any more kpins",
        "my doctor cut me off my klonopin",
    ],
)
def test_running_out_without_a_danger_sign(text: str) -> None:
    assert urgent_context(text) == RUNNING_OUT


@pytest.mark.parametrize(
    "text",
    [
        "i ran out of klonopin and now im having a seizure",
        "my girlfriend keeps having seizures since she ran out of her klonopin",
        "ran out of pins and i cant breathe",
        "i ran out so i took all of my husbands klonopin",
    ],
)
def test_running_out_with_a_danger_sign_stays_an_emergency(text: str) -> None:
    assert urgent_context(text) != RUNNING_OUT


async def test_running_out_reply_gives_the_911_signs_then_the_prescriber(
    rasa_domain: Domain,
) -> None:
    text = await _emergency_reply(rasa_domain, RUNNING_OUT)
    assert text.index("911") < text.index("prescriber or a pharmacist today")
    for phrase in (
        "seizure, hallucinations, confusion or trouble breathing",
        "urgent care",
        "admissions team",
        "don't take someone else's prescription",
    ):
        assert phrase in text
