"""The inference cache never changes an answer: with the trained model, the
DIET, ResponseSelector and TED outputs for 300-odd varied held-out messages and
conversations are the same whether the cache answers (filled by all the other
messages first) or the models run. A digest that missed part of the input would
hand one message another message's outputs and fail here."""
from __future__ import annotations

import asyncio
import random
from typing import Any

import numpy as np
import pytest
from harness import ROOT, model_path
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.utils.tensorflow.models import RasaModel

from rasa_server import inference_cache
from tools.bench import conversation, held_out_questions

pytestmark = pytest.mark.system


def same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b))
    return bool(a == b)


def test_cached_outputs_equal_fresh_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(inference_cache, "_installed", None)
    monkeypatch.setattr(RasaModel, "run_inference", RasaModel.run_inference)
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
    agent = Agent.load(model_path())
    questions = held_out_questions()
    rng = random.Random(6)  # noqa: S311 - a test pattern, not a secret

    async def talk() -> None:
        for number in range(60):
            for text in conversation(rng, questions):
                await agent.handle_message(
                    UserMessage(text, CollectingOutputChannel(), sender_id=f"c{number}")
                )

    asyncio.run(talk())
    assert cache.stats.hits > 100 and cache.stats.misses > 100, cache.stats
    # Now every input is in the cache: compare each answer with a fresh run.
    for model, model_data, args in recorded:
        assert same(cached(model, model_data, *args), fresh(model, model_data, *args))
