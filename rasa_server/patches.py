"""Every change this project makes to Rasa's internals, in one ordered place.

Rasa 3.6 offers no extension point for these (see docs/architecture.md), so each
one replaces or wraps a Rasa attribute. They were written against, and are
tested with, exactly one Rasa version: :func:`apply` refuses any other, since a
changed internal would fail silently (a guard that no longer guards).

``PATCHES`` is applied in order. Two entries wrap the same method,
``MessageProcessor._handle_message_with_tracker``: the later one (the duplicate
guard) wraps the earlier one (log redaction), so a redelivered message is refused
before anything of it is remembered or logged.

Everything else this project plugs into Rasa goes through Rasa's own extension
points: channels (``credentials.yml``), the lock stores and the leaner SQL
tracker store (``type:`` in ``endpoints.yml``), the safety net (``config.yml``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rasa_server.settings import ServerSettings

#: The Rasa version every patch below was written for and tested with.
RASA_VERSION = "3.6.21"


class WrongRasaVersion(RuntimeError):
    """Rasa is not the version the patches were written for."""


@dataclass(frozen=True)
class Patch:
    """One change to Rasa internals.

    Attributes:
        name: what it is called in docs/architecture.md.
        targets: the Rasa attributes it replaces or wraps.
        why: what would go wrong without it.
        apply: installs it (idempotent).
    """

    name: str
    targets: tuple[str, ...]
    why: str
    apply: Callable[[ServerSettings], object]


def _action_timeout(settings: ServerSettings) -> None:
    import rasa.core.actions.action as actions_module
    import rasa.utils.endpoints as endpoints_module

    # Both modules read the constant at call time (the per-request timeout and
    # the client session's total timeout).
    actions_module.DEFAULT_REQUEST_TIMEOUT = settings.action_timeout
    endpoints_module.DEFAULT_REQUEST_TIMEOUT = settings.action_timeout


def _log_redaction(_settings: ServerSettings) -> None:
    from rasa_server import log_redaction

    log_redaction.install()


def _duplicate_guard(_settings: ServerSettings) -> None:
    from rasa_server import dedupe

    dedupe.install_guard()


def _inference_cache(settings: ServerSettings) -> None:
    from rasa_server import inference_cache

    inference_cache.install(settings.cache_size)


def _parse_cache(settings: ServerSettings) -> None:
    from rasa_server import inference_cache

    inference_cache.install_parse_cache(settings.cache_size)


def _sqlite_tuning(_settings: ServerSettings) -> None:
    from rasa_server.stores import sqlite

    sqlite.tune()


def _action_reply_validator(_settings: ServerSettings) -> None:
    from rasa_server import action_validation

    action_validation.install()


def _model_load(_settings: ServerSettings) -> None:
    from rasa_server import model_load

    model_load.install()


def _strict_tracker_store(_settings: ServerSettings) -> None:
    from rasa_server.stores import tracker_guard

    tracker_guard.install()


PATCHES: tuple[Patch, ...] = (
    Patch(
        "action timeout",
        (
            "rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT",
            "rasa.utils.endpoints.DEFAULT_REQUEST_TIMEOUT",
        ),
        "Rasa waits 300 s (not configurable) for a hung action server; the "
        "visitor would wait five minutes. ACTION_TIMEOUT_SECONDS instead.",
        _action_timeout,
    ),
    Patch(
        "log redaction",
        (
            "logging.setLogRecordFactory",
            "rasa.core.processor.MessageProcessor._handle_message_with_tracker",
        ),
        "Rasa logs what visitors type at DEBUG; phone numbers, e-mails and "
        "callback answers are masked in every log record (log_redaction.py).",
        _log_redaction,
    ),
    Patch(
        "duplicate guard",
        ("rasa.core.processor.MessageProcessor._handle_message_with_tracker",),
        "A webhook the platform redelivers would be answered and stored twice; "
        "checked under the conversation lock (dedupe.py).",
        _duplicate_guard,
    ),
    Patch(
        "inference cache",
        ("rasa.utils.tensorflow.models.RasaModel.run_inference",),
        "TensorFlow's per-call overhead for inputs seen before "
        "(INFERENCE_CACHE_SIZE, 0 = off; inference_cache.py).",
        _inference_cache,
    ),
    Patch(
        "parse cache",
        ("rasa.core.processor.MessageProcessor._parse_message_with_graph",),
        "The whole NLU pipeline for texts seen before (button payloads, "
        "greetings); contact-like texts are never kept.",
        _parse_cache,
    ),
    Patch(
        "SQLite tuning",
        ("rasa.core.tracker_store.create_engine_kwargs", "sqlalchemy connect event"),
        "A connection per query and an fsync per commit; WAL and a pool instead "
        "(stores/sqlite.py). Other databases are left alone.",
        _sqlite_tuning,
    ),
    Patch(
        "strict tracker store",
        (
            "rasa.core.agent.Agent._create_tracker_store",
            "rasa.core.agent.Agent.handle_message",
        ),
        "Rasa falls back to an empty in-memory store when the database is away "
        "and answers a visitor as a stranger; instead the visitor is told and "
        "nothing is stored (stores/tracker_guard.py).",
        _strict_tracker_store,
    ),
    Patch(
        "action reply validator",
        ("rasa.core.actions.action.RemoteAction._validate_action_result",),
        "Rasa re-checks the JSON schema itself on every custom action's reply "
        "(35 ms of about 60 per message); built once instead (action_validation.py).",
        _action_reply_validator,
    ),
    Patch(
        "model load without a training step",
        ("rasa.utils.tensorflow.models.RasaModel.load",),
        "Rasa builds each TensorFlow model's weights by training it on one "
        "example: 37 of 53 s of loading this model. One forward pass instead, "
        "same weights and predictions (model_load.py).",
        _model_load,
    ),
)


def check_version(version: str | None = None) -> None:
    """Raise :class:`WrongRasaVersion` unless Rasa is :data:`RASA_VERSION`."""
    if version is None:
        import rasa

        version = rasa.__version__
    if version != RASA_VERSION:
        raise WrongRasaVersion(
            f"Refusing to start: rasa_server/patches.py changes Rasa internals "
            f"written for Rasa {RASA_VERSION}, and Rasa {version} is installed. "
            f"Install the pinned version (make install), or re-check every patch "
            f"in rasa_server/patches.py against Rasa {version}, run make test, and "
            f"then change RASA_VERSION."
        )


def apply(settings: ServerSettings) -> list[str]:
    """Check the Rasa version, then apply every patch in order; their names."""
    check_version()
    for patch in PATCHES:
        patch.apply(settings)
    return [patch.name for patch in PATCHES]
