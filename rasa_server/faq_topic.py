"""The FAQ topic a message is answered with, as a ``topic`` entity.

Runs last in the NLU pipeline (after FallbackClassifier). When the intent is
``faq``, the ResponseSelector's chosen answer (``faq/withdrawal``) becomes the
entity ``{"entity": "topic", "value": "withdrawal"}``; the ``last_topic`` slot
maps from it (domain.yml), so the conversation keeps its last topic without a
call to the action server, and a follow-up ("and long term?", "how long does
that last") is read with that topic in mind (actions/conversation.py).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

FAQ_INTENT = "faq"
TOPIC_ENTITY = "topic"


def answered_topic(parse: dict[str, Any]) -> str | None:
    """The topic of ``faq/<topic>`` the ResponseSelector chose, if the intent is faq."""
    if (parse.get(INTENT) or {}).get(INTENT_NAME_KEY) != FAQ_INTENT:
        return None
    selector = (parse.get("response_selector") or {}).get(FAQ_INTENT) or {}
    key = str((selector.get("response") or {}).get("intent_response_key") or "")
    prefix = FAQ_INTENT + "/"
    return key[len(prefix) :] if key.startswith(prefix) else None


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class FaqTopic(GraphComponent):
    """Adds the answered FAQ topic as the ``topic`` entity."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FaqTopic:
        """Create the component (see parent class for full docstring)."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Add the entity to every message answered with an FAQ topic."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or text.startswith("/"):
                continue
            topic = answered_topic(message.as_dict())
            if topic is None:
                continue
            entity = {
                "entity": TOPIC_ENTITY,
                "value": topic,
                "start": 0,
                "end": len(text),
                "extractor": type(self).__name__,
            }
            message.set(
                ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True
            )
        return messages
