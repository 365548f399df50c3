"""Loading without a training step (rasa_server/model_load.py) gives the same
model: with the trained model, DIET, the ResponseSelector and TED give the same
outputs, to 1e-6, for the same varied held-out messages and conversations
whether the model was loaded Rasa's way (a training step on one example) or
this project's way (one forward pass). A weight left uninitialised or restored
into the wrong variable would change the outputs and fail here."""

from __future__ import annotations

import time
from typing import Any

import pytest
from harness import ROOT, model_path, run_conversations, same_outputs
from rasa.core.agent import Agent
from rasa.utils.tensorflow.models import RasaModel

from rasa_server import model_load

pytestmark = pytest.mark.system


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
    RasaModel.run_inference = recording  # type: ignore[method-assign]
    try:
        run_conversations(agent, 30, seed=11, prefix="m")
    finally:
        RasaModel.run_inference = run  # type: ignore[method-assign]
    return outputs, seconds


def test_the_model_loaded_without_a_training_step_predicts_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    # Rasa's own load, even if another test installed ours before this one
    rasas_load = model_load._ORIGINAL or RasaModel.__dict__["load"]
    assert rasas_load.__func__.__module__ == "rasa.utils.tensorflow.models"
    monkeypatch.setattr(RasaModel, "load", rasas_load)
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
        assert same_outputs(
            mine, theirs, atol=1e-6
        ), f"output {number} of {kind} differs"
