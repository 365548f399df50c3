"""Loading without a training step (rasa_server/model_load.py) gives the same
model: with the trained model, DIET, the ResponseSelector and TED give the same
outputs, to 1e-6, for the same varied held-out messages and conversations
whether the model was loaded Rasa's way (a training step on one example) or
this project's way (one forward pass). A weight left uninitialised or restored
into the wrong variable would change the outputs and fail here."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import numpy as np
import pytest
from harness import ROOT, model_path
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.utils.tensorflow.models import RasaModel

from rasa_server import model_load
from tools.bench import conversation, held_out_questions

pytestmark = pytest.mark.system


def close(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        if a.dtype.kind in "fc":
            return a.shape == b.shape and bool(np.allclose(a, b, rtol=0, atol=1e-6))
        return bool(np.array_equal(a, b))
    if isinstance(a, float):
        return abs(a - b) <= 1e-6
    return bool(a == b)


def outputs_of_a_session() -> tuple[list[tuple[str, Any]], float]:
    """Load the model; talk 30 conversations; every model output, and the load's seconds."""
    outputs: list[tuple[str, Any]] = []
    run = RasaModel.run_inference

    def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = run(self, *args, **kwargs)
        outputs.append((type(self).__name__, result))
        return result

    started = time.monotonic()
    agent = Agent.load(model_path())
    seconds = time.monotonic() - started
    outputs.clear()  # the first prediction inside load() is not a message's
    questions = held_out_questions()
    rng = random.Random(11)  # noqa: S311 - a test pattern, not a secret

    async def talk() -> None:
        for number in range(30):
            for text in conversation(rng, questions):
                await agent.handle_message(
                    UserMessage(text, CollectingOutputChannel(), sender_id=f"m{number}")
                )

    RasaModel.run_inference = recording  # type: ignore[method-assign]
    try:
        asyncio.run(talk())
    finally:
        RasaModel.run_inference = run  # type: ignore[method-assign]
    return outputs, seconds


def test_the_model_loaded_without_a_training_step_predicts_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(RasaModel, "load", RasaModel.__dict__["load"])
    monkeypatch.setattr(model_load, "_ORIGINAL", None)
    rasas, rasa_seconds = outputs_of_a_session()
    model_load.install()
    assert RasaModel.__dict__["load"] is not model_load._ORIGINAL
    ours, our_seconds = outputs_of_a_session()
    print(
        f"\nload: Rasa's {rasa_seconds:.1f} s, without the training step {our_seconds:.1f} s"
    )
    kinds = {kind for kind, _ in rasas}
    assert {"DIET", "TED"} <= kinds and kinds & {"DIET2BOW", "DIET2DIET"}, kinds
    assert len(rasas) > 100
    assert [kind for kind, _ in ours] == [kind for kind, _ in rasas]
    for number, ((kind, theirs), (_, mine)) in enumerate(zip(rasas, ours, strict=True)):
        assert close(mine, theirs), f"output {number} of {kind} differs"
