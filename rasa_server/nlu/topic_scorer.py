"""A second opinion on the FAQ topic: the sentence encoder's nearest phrasings.

The ResponseSelector learns the topics from the words of our training
phrasings. Real visitors use other words (issue 11). This component, named in
config.yml right after the ResponseSelector, encodes the question with the
pinned all-MiniLM-L6-v2 sentence encoder (rasa_server/nlu/encoder.py, weights
from `make encoder`) and compares it with every FAQ training phrasing, encoded
once at training time. A topic's score is the mean cosine similarity of its
``neighbours`` closest phrasings; a softmax with ``temperature`` turns the
scores into a distribution, which is blended with the selector's own:
``weight`` x selector + (1 - weight) x encoder. The selector's prediction is
then replaced by the blend: the chosen topic, its confidence, the ranking.

Where both agree, the answer comes with a high confidence; where they
disagree, the confidence drops and TopicFallback asks "Did you mean ...?"
instead of answering with another topic's answer.

Only messages the classifier reads as the ``faq`` intent are scored, so
greetings and buttons cost nothing extra. Where the selector alone is at least
``trust_selector_above`` sure of its topic, the encoder is not run and the
selector's answer stands: at 0.8 that changed no label of either held-out set
or the real-visitor set (replayed with ``make tune-scorer``), and skips the
encoder, the costliest step of a message, for about half of the FAQ questions
(docs/speed.md). The comparison of this pipeline
with and without the scorer is in docs/pipeline-comparison.md.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from common.parse import FAQ_INTENT, topic_ranking
from rasa_server.nlu.encoder import SentenceEncoder

logger = logging.getLogger(__name__)

RECORD_KEY = "topic_scorer"


def topic_distribution(
    similarities: np.ndarray, labels: list[str], neighbours: int, temperature: float
) -> dict[str, float]:
    """Per topic, the mean of its ``neighbours`` highest similarities, softmaxed."""
    topics = sorted(set(labels))
    index = np.array([topics.index(label) for label in labels])
    scores = np.empty(len(topics), dtype=np.float64)
    for t in range(len(topics)):
        own = np.sort(similarities[index == t])[::-1][:neighbours]
        scores[t] = float(own.mean()) if own.size else -1.0
    weights = np.exp((scores - scores.max()) / temperature)
    weights /= weights.sum()
    return {topic: float(w) for topic, w in zip(topics, weights, strict=True)}


def selector_is_sure(selector: dict[str, float], trust: float | None) -> bool:
    """Whether the selector's own first choice is sure enough to stand alone."""
    return trust is not None and bool(selector) and max(selector.values()) >= trust


def blend(
    selector: dict[str, float], encoder: dict[str, float], weight: float
) -> list[tuple[str, float]]:
    """weight x selector + (1 - weight) x encoder, best first."""
    topics = set(selector) | set(encoder)
    mixed = {
        t: weight * selector.get(t, 0.0) + (1 - weight) * encoder.get(t, 0.0)
        for t in topics
    }
    total = sum(mixed.values()) or 1.0
    return sorted(((t, p / total) for t, p in mixed.items()), key=lambda tp: -tp[1])


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class TopicScorer(GraphComponent, IntentClassifier):
    """Blends the ResponseSelector's topic with the encoder's nearest phrasings."""

    @classmethod
    def required_components(cls) -> list[type]:
        """None Rasa can check: it trains on the featurized data, and config.yml
        places it after the ResponseSelector, whose output it reads."""
        return []

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The encoder's directory and the blend's settings."""
        return {
            "model": "build/encoder/all-MiniLM-L6-v2",
            "neighbours": 3,
            "temperature": 0.05,
            "weight": 0.5,
            "ranking_length": 10,
            # None: always ask the encoder
            "trust_selector_above": None,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectors: np.ndarray | None = None,
        labels: list[str] | None = None,
        responses: dict[str, Any] | None = None,
    ) -> None:
        """Create the component; the encoder's weights must be built."""
        self.config = {**self.get_default_config(), **config}
        for key in ("neighbours", "ranking_length"):
            if not isinstance(self.config[key], int) or self.config[key] < 1:
                raise ValueError(f"TopicScorer {key} must be a whole number above 0")
        if not 0.0 <= float(self.config["weight"]) <= 1.0:
            raise ValueError("TopicScorer weight must be between 0 and 1")
        if float(self.config["temperature"]) <= 0:
            raise ValueError("TopicScorer temperature must be above 0")
        trust = self.config["trust_selector_above"]
        if trust is not None and not (
            isinstance(trust, int | float) and 0.0 < float(trust) <= 1.0
        ):
            raise ValueError(
                "TopicScorer trust_selector_above must be above 0 and at most 1, "
                "or empty (always ask the encoder)"
            )
        self._encoder = SentenceEncoder.load(Path(self.config["model"]))
        self._storage = model_storage
        self._resource = resource
        self._vectors = (
            vectors
            if vectors is not None
            else np.zeros((0, self._encoder.dimensions), np.float32)
        )
        self._labels = labels or []
        self._responses = responses or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TopicScorer:
        """Create an untrained component (see parent class)."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Encode every FAQ training phrasing (the text the classifiers saw)."""
        examples = [
            e
            for e in training_data.training_examples
            if e.get(INTENT) == FAQ_INTENT
            and e.get(INTENT_RESPONSE_KEY)
            and e.get(TEXT)
        ]
        self._labels = [str(e.get(INTENT_RESPONSE_KEY)) for e in examples]
        self._vectors = self._encoder.encode_batched(
            [str(e.get(TEXT)) for e in examples]
        )
        self._responses = {
            key: value
            for key, value in training_data.responses.items()
            if key.startswith(f"utter_{FAQ_INTENT}/")
        }
        with self._storage.write_to(self._resource) as directory:
            np.save(directory / "vectors.npy", self._vectors)
            (directory / "labels.json").write_text(
                json.dumps({"labels": self._labels, "responses": self._responses})
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TopicScorer:
        """Load the encoded phrasings of a trained model."""
        with model_storage.read_from(resource) as directory:
            vectors = np.load(directory / "vectors.npy")
            stored = json.loads((directory / "labels.json").read_text())
        return cls(
            config,
            model_storage,
            resource,
            vectors,
            stored["labels"],
            stored["responses"],
        )

    def process(self, messages: list[Message]) -> list[Message]:
        """Blend the selector's topic with the encoder's, for FAQ questions."""
        faq = [
            m
            for m in messages
            if (m.get(INTENT) or {}).get(INTENT_NAME_KEY) == FAQ_INTENT
            and ((m.get("response_selector") or {}).get(FAQ_INTENT))
            and isinstance(m.get(TEXT), str)
        ]
        if not faq or not self._labels:
            return messages
        todo = []
        for message in faq:
            if self._sure(message):
                self._record(message, None)
            else:
                todo.append(message)
        if not todo:
            return messages
        similarities = (
            self._encoder.encode_batched([str(m.get(TEXT)) for m in todo])
            @ self._vectors.T
        )
        for message, row in zip(todo, similarities, strict=True):
            self._blend_into(message, row)
        return messages

    def _sure(self, message: Message) -> bool:
        """The selector alone decides (``trust_selector_above``)."""
        trust = self.config["trust_selector_above"]
        return selector_is_sure(
            dict(topic_ranking(message)), None if trust is None else float(trust)
        )

    def _record(self, message: Message, encoder: list[Any] | None) -> None:
        """What each reader chose, in the parse (``encoder`` None: not asked)."""
        before = message.get("response_selector")[FAQ_INTENT].get("response") or {}
        message.set(
            RECORD_KEY,
            {
                "selector": [
                    before.get(INTENT_RESPONSE_KEY),
                    round(float(before.get(PREDICTED_CONFIDENCE_KEY) or 0), 4),
                ],
                "encoder": encoder,
            },
            add_to_output=True,
        )

    def _blend_into(self, message: Message, similarities: np.ndarray) -> None:
        selector = message.get("response_selector")[FAQ_INTENT]
        own = dict(topic_ranking(message))
        encoder = topic_distribution(
            similarities,
            self._labels,
            self.config["neighbours"],
            float(self.config["temperature"]),
        )
        ranking = blend(own, encoder, float(self.config["weight"]))[
            : self.config["ranking_length"]
        ]
        top, confidence = ranking[0]
        best = max(encoder.items(), key=lambda tp: tp[1])
        self._record(message, [best[0], round(best[1], 4)])
        before = selector.get("response") or {}
        utter = f"utter_{top}"
        selector["response"] = {
            **before,
            "responses": self._responses.get(utter) or before.get("responses"),
            PREDICTED_CONFIDENCE_KEY: confidence,
            INTENT_RESPONSE_KEY: top,
            "utter_action": utter,
        }
        selector["ranking"] = [
            {INTENT_RESPONSE_KEY: t, PREDICTED_CONFIDENCE_KEY: p} for t, p in ranking
        ]
