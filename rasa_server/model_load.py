"""Load the trained TensorFlow models without a training step.

Rasa 3.6.21's ``RasaModel.load`` creates the model's weights by *training* it
on one example (``model.fit``): Keras traces the whole training function
(forward pass, gradients, optimizer) of DIET, the ResponseSelector and TED.
That is about 37 of the 53 s it takes to load this project's model (issue 16's
profile, docs/speed.md), paid by every Rasa server process at start-up.

Serving needs the weights, not the optimizer. :func:`load` creates the same
weights with one forward pass of the training path (``batch_loss``, run once
without gradients), restores the trained weights from the checkpoint (the
optimizer's saved state is left unread), then runs Rasa's own first
prediction. The predictions are the same as after Rasa's load
(``tests/system/test_model_load.py`` compares both on held-out phrasings and
dialogue turns). Loading for fine-tuning (``finetune_mode=True``) keeps
Rasa's own load, which needs the optimizer.
"""

from __future__ import annotations

from typing import Any

_ORIGINAL: Any = None


def load(
    cls: Any,
    model_file_name: str,
    model_data_example: Any,
    predict_data_example: Any = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """``RasaModel.load`` without ``model.fit`` (same arguments, same model)."""
    if finetune_mode:
        return _ORIGINAL.__func__(
            cls,
            model_file_name,
            model_data_example,
            predict_data_example,
            finetune_mode,
            *args,
            **kwargs,
        )
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator

    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    # as Rasa does: the optimizer and metrics are part of a compiled model
    model.compile(
        optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
        run_eagerly=config.get(RUN_EAGERLY),
    )
    # one forward pass of the training path creates every weight fit() would
    batch_in, _ = RasaBatchDataGenerator(model_data_example, batch_size=1)[0]
    model._training = True
    try:
        model.batch_loss(tuple(tf.convert_to_tensor(x) for x in batch_in))
    finally:
        model._training = None
    model.load_weights(model_file_name).expect_partial()
    if predict_data_example:
        model.run_inference(predict_data_example)
    return model


def load_agent(model: str) -> Any:
    """``Agent.load(model)`` with this load: for the tools that parse with a model.

    Rasa's structured log writes a debug line per parsed message to stdout;
    the tools print their own figures there, so only its errors are kept.
    """
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)
    install()
    return Agent.load(model)


def install() -> None:
    """Replace ``RasaModel.load`` (idempotent)."""
    global _ORIGINAL
    from rasa.utils.tensorflow.models import RasaModel

    if _ORIGINAL is None:
        _ORIGINAL = RasaModel.__dict__["load"]
    RasaModel.load = classmethod(load)
