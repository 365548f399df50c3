"""The sentence encoder as a Rasa dense featurizer (named in a config's pipeline).

Adds one 384-dimension sentence feature per message text (no sequence
features), so DIET and the ResponseSelector see what the question means as
well as its words::

    - name: rasa_server.nlu.encoder_featurizer.SentenceEncoderFeaturizer
      model: build/encoder/all-MiniLM-L6-v2   # make encoder

Not trainable: the weights are fixed, so the same text always gets the same
feature, at training and at run time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_server.nlu.encoder import SentenceEncoder


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """all-MiniLM-L6-v2 sentence features for the message text."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "model": "build/encoder/all-MiniLM-L6-v2",
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["safetensors", "scipy"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.encoder = SentenceEncoder.load(Path(config["model"]))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context.node_name)

    def _featurize(self, messages: list[Message]) -> None:
        todo = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT)]
        vectors = self.encoder.encode_batched([m.get(TEXT) for m in todo])
        for message, vector in zip(todo, vectors, strict=True):
            self.add_features_to_message(
                sequence=None,
                sentence=vector[None, :],
                attribute=TEXT,
                message=message,
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        pass
