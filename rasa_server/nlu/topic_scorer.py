"""A second opinion on the FAQ topic, from the sentence encoder.

The ResponseSelector learns the topics from the words of our training
phrasings. Real visitors use other words (issue 11). This component, named in
config.yml right after the ResponseSelector, encodes the question with the
pinned all-MiniLM-L6-v2 sentence encoder (rasa_server/nlu/encoder.py, weights
from `make encoder`) and reads a distribution over the topics from it, with
one of two readers (``reader``):

- ``classifier`` (config.yml): a softmax regression from the sentence vector
  to the topics, trained on every FAQ training phrasing's vector at training
  time (a second or two; ``scale`` sharpens the unit vectors, ``l2`` is the
  weight decay). It weighs every phrasing of a topic, so it carries over to
  new wording better: on real visitors' questions its first choice is right
  for 0.634 of those on article topics, against 0.464 for the nearest
  phrasings and 0.523 for the ResponseSelector (docs/pipeline-comparison.md);
- ``neighbours``: a topic's score is the mean cosine similarity of its
  ``neighbours`` closest phrasings, softmaxed with ``temperature``.

The encoder's distribution is blended with the selector's own:
``weight`` x selector + (1 - weight) x encoder. The selector's prediction is
then replaced by the blend: the chosen topic, its confidence, the ranking.
Where both agree, the answer comes with a high confidence; where they
disagree, the confidence drops and TopicFallback asks "Did you mean ...?"
instead of answering with another topic's answer.

Only messages the classifier reads as the ``faq`` intent are scored, so
greetings and buttons cost nothing extra. Where the selector alone is at least
``trust_selector_above`` sure of its topic, the encoder is not run and the
selector's answer stands (``make tune-scorer`` replays it; docs/speed.md).
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
#: the softmax regression's gradient step (on vectors scaled by ``scale``)
LEARNING_RATE = 0.5
READERS = ("classifier", "neighbours")


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


def fit_softmax(
    vectors: np.ndarray, labels: list[str], scale: float, l2: float, steps: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A softmax regression from encoder vectors to topics: (topics, W, b).

    Full-batch gradient descent from zero weights, so the same phrasings always
    give the same weights. ``scale`` multiplies the unit vectors (a sharper
    softmax), ``l2`` is the weight decay per phrasing.
    """
    topics = sorted(set(labels))
    index = {topic: i for i, topic in enumerate(topics)}
    targets = np.eye(len(topics))[[index[label] for label in labels]]
    x = vectors.astype(np.float64) * scale
    n = max(len(labels), 1)
    weights = np.zeros((x.shape[1], len(topics)))
    bias = np.zeros(len(topics))
    for _ in range(steps):
        probabilities = _softmax(x @ weights + bias)
        gradient = (probabilities - targets) / n
        weights -= LEARNING_RATE * (x.T @ gradient + l2 * weights / n)
        bias -= LEARNING_RATE * gradient.sum(axis=0)
    return topics, weights, bias


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def classifier_distribution(
    vector: np.ndarray,
    topics: list[str],
    weights: np.ndarray,
    bias: np.ndarray,
    scale: float,
) -> dict[str, float]:
    """The softmax regression's distribution over topics for one message."""
    probabilities = _softmax(vector.astype(np.float64) * scale @ weights + bias)
    return {t: float(p) for t, p in zip(topics, probabilities, strict=True)}


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
    """Blends the ResponseSelector's topic with the sentence encoder's."""

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
            # classifier: a softmax regression on the phrasings' vectors;
            # neighbours: the mean similarity of each topic's nearest phrasings
            "reader": "classifier",
            "scale": 20.0,
            "l2": 1.0,
            "steps": 400,
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
        head: tuple[list[str], np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Create the component; the encoder's weights must be built."""
        self.config = {**self.get_default_config(), **config}
        if self.config["reader"] not in READERS:
            raise ValueError(f"TopicScorer reader must be one of {', '.join(READERS)}")
        if float(self.config["scale"]) <= 0 or float(self.config["l2"]) < 0:
            raise ValueError("TopicScorer scale must be above 0 and l2 at least 0")
        for key in ("neighbours", "ranking_length", "steps"):
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
        self._head = head

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
        if self.config["reader"] == "classifier" and self._labels:
            self._head = fit_softmax(
                self._vectors,
                self._labels,
                float(self.config["scale"]),
                float(self.config["l2"]),
                int(self.config["steps"]),
            )
        self._responses = {
            key: value
            for key, value in training_data.responses.items()
            if key.startswith(f"utter_{FAQ_INTENT}/")
        }
        with self._storage.write_to(self._resource) as directory:
            np.save(directory / "vectors.npy", self._vectors)
            topics = None
            if self._head is not None:
                topics, weights, bias = self._head
                np.save(directory / "weights.npy", weights)
                np.save(directory / "bias.npy", bias)
            (directory / "labels.json").write_text(
                json.dumps(
                    {
                        "labels": self._labels,
                        "responses": self._responses,
                        "topics": topics,
                    }
                )
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
            head = None
            if stored.get("topics"):
                head = (
                    list(stored["topics"]),
                    np.load(directory / "weights.npy"),
                    np.load(directory / "bias.npy"),
                )
        reader = {**cls.get_default_config(), **config}["reader"]
        if reader == "classifier" and head is None and stored["labels"]:
            raise ValueError(
                "TopicScorer: this model was trained without the classifier "
                "reader's weights (an older model) -- retrain it (make train)"
            )
        return cls(
            config,
            model_storage,
            resource,
            vectors,
            stored["labels"],
            stored["responses"],
            head,
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
        vectors = self._encoder.encode_batched([str(m.get(TEXT)) for m in todo])
        for message, vector in zip(todo, vectors, strict=True):
            self._blend_into(message, vector)
        return messages

    def encoder_distribution(self, vector: np.ndarray) -> dict[str, float]:
        """The encoder's distribution over topics for one message's vector."""
        if self.config["reader"] == "classifier" and self._head is not None:
            topics, weights, bias = self._head
            return classifier_distribution(
                vector, topics, weights, bias, float(self.config["scale"])
            )
        return topic_distribution(
            vector @ self._vectors.T,
            self._labels,
            self.config["neighbours"],
            float(self.config["temperature"]),
        )

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

    def _blend_into(self, message: Message, vector: np.ndarray) -> None:
        selector = message.get("response_selector")[FAQ_INTENT]
        own = dict(topic_ranking(message))
        encoder = self.encoder_distribution(vector)
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
