"""TopicScorer as a Rasa graph component, on the pinned encoder's weights
(`make encoder`): trained, stored, loaded back, and reading a new wording."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from common.paths import ROOT
from rasa_server.nlu.topic_scorer import TopicScorer

WEIGHTS = ROOT / "build" / "encoder" / "all-MiniLM-L6-v2"
PHRASINGS = {
    "faq/withdrawal": [
        "what are the withdrawal symptoms of klonopin",
        "what happens to your body in clonazepam withdrawal",
        "symptoms when coming off benzos",
    ],
    "faq/family": [
        "how do i help my son who is addicted to klonopin",
        "my wife is hooked on benzos what can i do for her",
        "supporting a loved one with clonazepam addiction",
    ],
}


def _config(**extra: Any) -> dict[str, Any]:
    return {**TopicScorer.get_default_config(), "model": str(WEIGHTS), **extra}


def _train(tmp_path: Path, **extra: Any) -> tuple[LocalModelStorage, Resource]:
    assert (WEIGHTS / "model.safetensors").is_file(), "run `make encoder`"
    storage, resource = LocalModelStorage(tmp_path), Resource("topic_scorer")
    examples = [
        Message(data={TEXT: text, INTENT: "faq", INTENT_RESPONSE_KEY: topic})
        for topic, texts in PHRASINGS.items()
        for text in texts
    ]
    scorer = TopicScorer.create(
        _config(**extra), storage, resource, ExecutionContext(GraphSchema({}), "t")
    )
    scorer.train(TrainingData(training_examples=examples))
    return storage, resource


def _selected(scorer: TopicScorer, text: str) -> str:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": "faq", "confidence": 1.0})
    # the selector is torn between the two: the encoder decides
    message.set("response_selector", {"faq": {
        "response": {INTENT_RESPONSE_KEY: "faq/withdrawal", "confidence": 0.5},
        "ranking": [{INTENT_RESPONSE_KEY: "faq/withdrawal", "confidence": 0.5},
                    {INTENT_RESPONSE_KEY: "faq/family", "confidence": 0.5}],
    }})  # fmt: skip
    scorer.process([message])
    return str(message.get("response_selector")["faq"]["response"][INTENT_RESPONSE_KEY])


def test_the_classifier_reader_survives_storage_and_reads_new_wording(
    tmp_path: Path,
) -> None:
    storage, resource = _train(tmp_path, reader="classifier")
    loaded = TopicScorer.load(
        _config(reader="classifier"),
        storage,
        resource,
        ExecutionContext(GraphSchema({}), "t"),
    )
    # words neither topic's phrasings use
    assert _selected(loaded, "my brother keeps taking pins and we dont know how to get through to him") == "faq/family"  # fmt: skip
    assert _selected(loaded, "the shakes and sweats after quitting kpins, what else should i expect") == "faq/withdrawal"  # fmt: skip


def test_a_model_without_the_classifiers_weights_is_refused_at_load(
    tmp_path: Path,
) -> None:
    storage, resource = _train(tmp_path, reader="neighbours")
    with storage.read_from(resource) as directory:
        assert json.loads((directory / "labels.json").read_text())["topics"] is None
    context = ExecutionContext(GraphSchema({}), "t")
    TopicScorer.load(_config(reader="neighbours"), storage, resource, context)
    with pytest.raises(ValueError, match="retrain it"):
        TopicScorer.load(_config(reader="classifier"), storage, resource, context)
