"""Long messages: classify what the visitor asks, check the whole message for danger.

Real visitors often write a few sentences about their situation and then the
question (issue 11). The story's words pull the classifiers towards other
topics. Two components, named in config.yml around the trained ones:

- ``QuestionFocus`` (first in the pipeline) keeps the whole text under
  ``full_text`` and, for a long message with a question in it, sets the text
  the featurizers and classifiers see to the question sentences and the
  sentence just before the first of them (which often says what "it" is).
- ``WholeMessage`` (after the ResponseSelector, before the SafetyNet) puts
  the whole text back, so the safety net, the entities, the stored parse data
  and everything after it see what the visitor wrote.

Training phrasings go through the same focus, so training and prediction see
the same kind of text. Short messages and messages without a question are
left whole.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

FULL_TEXT = "full_text"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")
_QUESTION_START = re.compile(
    r"^(?:\W*)(?:how|what|whats|what's|why|when|where|which|who|is|are|was|were|"
    r"can|could|should|would|will|do|does|did|has|have|am|any|anyone|"
    r"i\s+(?:wonder|was\s+wondering|want\s+to\s+know|need\s+to\s+know)|"
    r"please\s+(?:help|tell|advise))\b",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    """The message split into sentences (on . ! ? and line breaks)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def is_question(sentence: str) -> bool:
    """A sentence that asks: ends with ? or opens like a question."""
    return sentence.rstrip().endswith("?") or bool(_QUESTION_START.match(sentence))


def focus(text: str, min_words: int = 25) -> str:
    """What a long message asks: its question sentences, and the one before the first.

    Returns ``text`` unchanged when it has ``min_words`` words or fewer, fewer
    than three sentences, or no question sentence.
    """
    if len(text.split()) <= min_words:
        return text
    parts = sentences(text)
    asks = [i for i, s in enumerate(parts) if is_question(s)]
    if len(parts) < 3 or not asks:
        return text
    keep = sorted({max(0, asks[0] - 1), *asks})
    return " ".join(parts[i] for i in keep)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class QuestionFocus(GraphComponent):
    """Sets the text the classifiers see to what a long message asks."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Messages of at most ``min_words`` words are left whole."""
        return {"min_words": 25}

    def __init__(self, config: dict[str, Any]) -> None:
        """Create the component from its config."""
        min_words = {**self.get_default_config(), **config}["min_words"]
        if (
            isinstance(min_words, bool)
            or not isinstance(min_words, int)
            or min_words < 1
        ):
            raise ValueError(
                f"QuestionFocus min_words must be a whole number above 0, got {min_words!r} "
                "-- set e.g. `min_words: 25` in config.yml"
            )
        self.min_words = min_words

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> QuestionFocus:
        """Create the component (see parent class for full docstring)."""
        return cls(config)

    def _focus(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text:
            return
        focused = focus(text, self.min_words)
        if focused != text:
            message.set(FULL_TEXT, text)
            message.set(TEXT, focused)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Focus the training phrasings the same way as visitors' messages."""
        for example in training_data.training_examples:
            self._focus(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Focus each incoming message."""
        for message in messages:
            self._focus(message)
        return messages


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class WholeMessage(GraphComponent):
    """Puts back the whole text that ``QuestionFocus`` kept under ``full_text``."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> WholeMessage:
        """Create the component (see parent class for full docstring)."""
        return cls()

    @staticmethod
    def _restore(message: Message) -> None:
        full = message.get(FULL_TEXT)
        if isinstance(full, str):
            message.set(TEXT, full)
            message.data.pop(FULL_TEXT, None)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Restore the training phrasings (nothing after this component trains)."""
        for example in training_data.training_examples:
            self._restore(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Restore each message's whole text."""
        for message in messages:
            self._restore(message)
        return messages
