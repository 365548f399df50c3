"""Who an emergency message is about, and whether it carries suicidal words.

The 911 reply differs for a visitor writing about themselves ("i just swallowed
all my klonopin": call 911 now, unlock the door, take nothing else) and for a
bystander ("my friend won't wake up": while you wait, put them on their side
...), and an emergency with suicidal words also gets 988. That reply is the
static ``utter_emergency``, sent by a rule before any custom action, so it must
be chosen without the action server. This component runs after the SafetyNet;
when the final intent is ``emergency`` it adds one entity, ``urgent_context``,
spanning the message, with one of the values ``self``, ``other``,
``self_suicidal`` and ``other_suicidal``. The entity fills the slot of the same
name (domain.yml), and ``utter_emergency`` has a variant for each value
(response conditions); with no value the bystander text is sent.

A fifth value, ``running_out``, is for a message the classifier took for an
emergency although it only says the visitor ran out of clonazepam or was cut
off ("i missed my appointment and now im out of klonopin") and the safety net
found no danger sign in it: the intent stays ``emergency`` (nothing urgent is
ever downgraded), but the reply is the running-out advice, 911 signs first.

``urgent_context(text)`` is pure Python and usable without Rasa.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from rasa_server.safety_net.rules import RULES, assess
from rasa_server.safety_net.text import _fold
from rasa_server.safety_net.vocabulary import CRISIS, EMERGENCY, RELATION

#: Entity and slot name.
URGENT_CONTEXT = "urgent_context"
SELF = "self"
OTHER = "other"
SUICIDAL_SUFFIX = "_suicidal"
RUNNING_OUT = "running_out"
VALUES = (SELF, OTHER, SELF + SUICIDAL_SUFFIX, OTHER + SUICIDAL_SUFFIX, RUNNING_OUT)
#: Ran out of clonazepam, or a prescriber stopped or won't refill it.
RUNNING_OUT_RE = re.compile(
    r"\b(?:ran out|run out|runs out|running out|out of (?:my |his |her )?"
    r"(?:klon\w*|clon\w*|k ?pins|pins|benzos|meds|pills|medication|prescription|"
    r"script)|cut (?:me |him |her )?off|refill\w*|no more (?:klon\w*|clon\w*|"
    r"k ?pins|pins|pills|meds)|(?:prescription|script) (?:ran out|ended|expired)|"
    r"wont (?:prescribe|refill|renew|give me)|stopped prescribing|dropped me)\b"
)

#: Safety-net rules whose match means the emergency was meant (suicidal words).
SUICIDAL_RULES = frozenset(
    {rule.name for rule in RULES if rule.level == CRISIS} | {"took_on_purpose"}
)
#: Words for the visitor themselves.
FIRST_PERSON_RE = re.compile(r"\b(?:i|im|ive|id|ill|me|my|myself|mine)\b")
#: Someone else: a pronoun, a relation, "someone", "this guy" ...
OTHER_PERSON_RE = re.compile(
    r"\b(?:he|hes|him|his|himself|she|shes|her|hers|herself|they|theyre|"
    r"themselves|themself|we|us|our|someone|somebody|anyone|this (?:guy|person|"
    r"girl|dude|lady|man|woman|kid)|" + RELATION + r")\b"
)
#: A message with no person at all that starts like a dropped "I ..."
#: ("cant breathe took too many", "took 10 pins and drank").
DROPPED_I_RE = re.compile(
    r"^(?:just |prob |probably )?(?:cant|can not|cannot|took|swallowed|popped|"
    r"mixed|drank|downed|feel|feeling|od|oded|oding|overdosed|overdosing|"
    r"am|having)\b"
)
_WORDS_RE = re.compile(r"[^a-z0-9]+")


def is_first_person(text: str) -> bool:
    """The message is about the writer: "I" words and nobody else named."""
    words = _WORDS_RE.sub(" ", _fold(text)).strip()
    if OTHER_PERSON_RE.search(words):
        return False
    return bool(FIRST_PERSON_RE.search(words) or DROPPED_I_RE.search(words))


def is_suicidal(text: str) -> bool:
    """The safety net found suicidal words or an overdose on purpose."""
    assessment = assess(text)
    return assessment is not None and bool(SUICIDAL_RULES & set(assessment.matches))


def is_running_out_only(text: str) -> bool:
    """Ran out or cut off, and no danger sign the safety net knows of."""
    words = _WORDS_RE.sub(" ", _fold(text)).strip()
    return bool(RUNNING_OUT_RE.search(words)) and assess(text) is None


def urgent_context(text: str) -> str:
    """``self`` / ``other``, with ``_suicidal`` when suicidal words are there;
    ``running_out`` when the message only says the visitor ran out."""
    if is_running_out_only(text):
        return RUNNING_OUT
    person = SELF if is_first_person(text) else OTHER
    return person + (SUICIDAL_SUFFIX if is_suicidal(text) else "")


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class UrgentContext(GraphComponent):
    """Adds the ``urgent_context`` entity to messages whose intent is emergency."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (none)."""
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UrgentContext:
        """Create the component (see parent class for full docstring)."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Tag every emergency message with who it is about."""
        for message in messages:
            add_urgent_context(message)
        return messages


def add_urgent_context(message: Message) -> None:
    """Add the ``urgent_context`` entity when the message's intent is emergency."""
    text = message.get(TEXT)
    intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
    if not text or not isinstance(text, str) or intent != EMERGENCY:
        return
    entity = {
        ENTITY_ATTRIBUTE_TYPE: URGENT_CONTEXT,
        ENTITY_ATTRIBUTE_VALUE: urgent_context(text),
        ENTITY_ATTRIBUTE_START: 0,
        ENTITY_ATTRIBUTE_END: len(text),
        EXTRACTOR: UrgentContext.__name__,
    }
    entities = [
        e
        for e in message.get(ENTITIES) or []
        if e.get(ENTITY_ATTRIBUTE_TYPE) != URGENT_CONTEXT
    ]
    message.set(ENTITIES, [*entities, entity], add_to_output=True)
