"""The safety net as a Rasa NLU component (named in config.yml).

It runs after the trained classifiers and before FallbackClassifier, and sets the
intent to ``emergency`` or ``crisis`` when :func:`.rules.assess` fires.
"""

from __future__ import annotations

import logging
import re
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
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from rasa_server.safety_net.rules import assess
from rasa_server.safety_net.vocabulary import LEVEL_RANK, SAFETY_NET_KEY

logger = logging.getLogger(__name__)


_INTENT_PAYLOAD_RE = re.compile(r"^/[\w\-/]+(?:\{.*\})?(?:@[0-9.]+)?\s*$", re.DOTALL)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class SafetyNet(GraphComponent, IntentClassifier):
    """Overrides the intent with ``emergency`` / ``crisis`` when ``assess`` fires.

    Place after the trained classifiers and before ``FallbackClassifier``. The
    classifier's original intent moves to second place in ``intent_ranking``; the
    runner-up confidences are capped at ``max_runner_up_confidence`` so that the
    FallbackClassifier's ambiguity check cannot turn the override into
    ``nlu_fallback``. What happened is recorded under ``safety_net`` in the parse
    data: ``{"level", "matched", "overrode"}`` (``overrode`` is ``None`` when the
    classifier already agreed).
    """

    @classmethod
    def required_components(cls) -> list[type]:
        """Run after a trained intent classifier."""
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config."""
        return {
            # Confidence cap for every intent below the override. Must stay below
            # 1 - FallbackClassifier.ambiguity_threshold.
            "max_runner_up_confidence": 0.5,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        """Create the component from its config."""
        self._max_runner_up = float(
            {**self.get_default_config(), **config}["max_runner_up_confidence"]
        )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyNet:
        """Create the component (see parent class for full docstring)."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Check every message and override its intent when someone is in danger."""
        for message in messages:
            self._process_message(message)
        return messages

    def _process_message(self, message: Message) -> None:
        text = message.get(TEXT)
        if not text or not isinstance(text, str) or _INTENT_PAYLOAD_RE.match(text):
            return
        assessment = assess(text)
        if assessment is None:
            return
        intent = message.get(INTENT) or {}
        original = intent.get(INTENT_NAME_KEY)
        record: dict[str, Any] = {
            "level": assessment.level,
            "matched": assessment.matched,
            "overrode": None,
        }
        # The classifier may already say this level (or a higher one), but with a
        # confidence low enough for the FallbackClassifier to turn it into
        # nlu_fallback: the urgent intent is always confirmed at 1.0.
        level = assessment.level
        if LEVEL_RANK.get(original or "", 0) >= LEVEL_RANK[assessment.level]:
            level = str(original)
        else:
            record["overrode"] = original
        message.set(
            INTENT,
            {INTENT_NAME_KEY: level, PREDICTED_CONFIDENCE_KEY: 1.0},
            add_to_output=True,
        )
        message.set(
            INTENT_RANKING_KEY,
            self._ranking(message.get(INTENT_RANKING_KEY) or [], intent, level),
            add_to_output=True,
        )
        message.set(SAFETY_NET_KEY, record, add_to_output=True)
        logger.debug(
            "Safety net set intent %r (classifier said %r; rule %s).",
            level,
            original,
            assessment.matched,
        )

    def _ranking(
        self,
        ranking: list[dict[str, Any]],
        intent: dict[str, Any],
        level: str,
    ) -> list[dict[str, Any]]:
        """The urgent level first, then the original intent, then the rest in order."""
        original = intent.get(INTENT_NAME_KEY)
        first = [r for r in ranking if r.get(INTENT_NAME_KEY) == original]
        if not first and original:
            first = [dict(intent)]
        if original == level:  # confirmed, not overridden: no runner-up copy
            first = []
        rest = [r for r in ranking if r.get(INTENT_NAME_KEY) not in (original, level)]
        runners_up = [
            {
                **entry,
                PREDICTED_CONFIDENCE_KEY: min(
                    float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0),
                    self._max_runner_up,
                ),
            }
            for entry in first[:1] + rest
        ]
        top = {INTENT_NAME_KEY: level, PREDICTED_CONFIDENCE_KEY: 1.0}
        return [top, *runners_up]
