"""A confidence that means something: the FAQ answer only when its *topic* is likely.

Rasa's FallbackClassifier looks at the intent's confidence. For the retrieval
intent ``faq`` that is near 1.0 for anything drug-related, while the
ResponseSelector's confidence in the chosen topic is often 0.1 to 0.5 on
questions real people write (issue 11). This component, named in config.yml
after the ResponseSelector and before the FallbackClassifier, turns a ``faq``
prediction into ``nlu_fallback`` when the selector's topic confidence is below
``threshold``. The rule for ``nlu_fallback`` then asks "Did you mean ...?" with
the two likeliest topics and "Something else" (actions/faq.py).

The threshold is calibrated on the held-out phrasings, never on the
real-visitor set: ``python -m tools.calibrate_topic`` prints how often an
answer given at each confidence was right (docs/pipeline-comparison.md).

What happened is recorded under ``topic_fallback`` in the parse data:
``{"topic", "confidence", "threshold"}``. The intent ranking keeps ``faq``
(second), so "Did you mean" can still rank the topics.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message

from common.parse import FAQ_INTENT, selected_topic

logger = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
RECORD_KEY = "topic_fallback"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class TopicFallback(GraphComponent, IntentClassifier):
    """``faq`` with an unlikely topic becomes ``nlu_fallback``."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Run after a trained intent classifier (and the ResponseSelector)."""
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config."""
        return {"threshold": 0.5}

    def __init__(self, config: dict[str, Any]) -> None:
        """Create the component; the threshold must be a number in [0, 1]."""
        threshold = {**self.get_default_config(), **config}["threshold"]
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise ValueError(
                f"TopicFallback threshold must be a number, got {threshold!r} "
                "-- set e.g. `threshold: 0.5` in config.yml"
            )
        if not 0.0 <= float(threshold) <= 1.0:
            raise ValueError(
                f"TopicFallback threshold {threshold} is outside 0..1 "
                "-- pick it with python -m tools.calibrate_topic"
            )
        self.threshold = float(threshold)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TopicFallback:
        """Create the component (see parent class for full docstring)."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Turn each unlikely-topic FAQ prediction into ``nlu_fallback``."""
        for message in messages:
            self._process_message(message)
        return messages

    def _process_message(self, message: Message) -> None:
        intent = message.get(INTENT) or {}
        if intent.get(INTENT_NAME_KEY) != FAQ_INTENT:
            return
        topic, confidence = selected_topic(message)
        if topic is not None and confidence >= self.threshold:
            return
        ranking = message.get(INTENT_RANKING_KEY) or []
        message.set(
            INTENT,
            {INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: confidence},
            add_to_output=True,
        )
        message.set(
            INTENT_RANKING_KEY,
            [{INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: confidence}]
            + [r for r in ranking if r.get(INTENT_NAME_KEY) != FALLBACK_INTENT],
            add_to_output=True,
        )
        message.set(
            RECORD_KEY,
            {
                "topic": topic,
                "confidence": round(confidence, 4),
                "threshold": self.threshold,
            },
            add_to_output=True,
        )
        logger.debug(
            "Topic %r at %.3f is below %.2f: nlu_fallback.",
            topic,
            confidence,
            self.threshold,
        )
