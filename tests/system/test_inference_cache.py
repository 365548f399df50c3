"""The inference cache never changes an answer: with the trained model, the
DIET, ResponseSelector and TED outputs for 300-odd varied held-out messages and
conversations are the same whether the cache answers (filled by all the other
messages first) or the models run. A digest that missed part of the input would
hand one message another message's outputs and fail here."""
from __future__ import annotations

from typing import Any

import pytest
from harness import ROOT, model_path, run_conversations, same_outputs
from rasa.utils.tensorflow.models import RasaModel

from rasa_server import inference_cache
from rasa_server.model_load import load_agent

pytestmark = pytest.mark.system


def test_cached_outputs_equal_fresh_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(inference_cache, "_installed", None)
    monkeypatch.setattr(RasaModel, "run_inference", RasaModel.run_inference)
    monkeypatch.setattr(RasaModel, "load", RasaModel.__dict__["load"])  # restored after
    cache = inference_cache.install(100_000)
    assert cache is not None
    fresh = RasaModel.run_inference.__wrapped__  # type: ignore[attr-defined]
    recorded: list[tuple[Any, Any, Any]] = []
    cached = RasaModel.run_inference

    def recording(self: Any, model_data: Any, *args: Any) -> Any:
        outputs = cached(self, model_data, *args)
        recorded.append((self, model_data, args))
        return outputs

    monkeypatch.setattr(RasaModel, "run_inference", recording)
    agent = load_agent(model_path())  # as the servers load it (patch 11)
    run_conversations(agent, 60, seed=6, prefix="c")
    assert cache.stats.hits > 100 and cache.stats.misses > 100, cache.stats
    # Now every input is in the cache: compare each answer with a fresh run.
    for model, model_data, args in recorded:
        assert same_outputs(
            cached(model, model_data, *args), fresh(model, model_data, *args)
        )
