"""The settings the Rasa side reads from the environment, read once.

``load(os.environ)`` is called by the entry point (``python -m rasa_server``)
before Rasa starts; a bad value stops the start with one clear line. The
channels' platform credentials are read by each channel (``channels/base.py``),
and the stores' by Rasa from ``endpoints.yml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_ACTION_TIMEOUT = 10.0
DEFAULT_CACHE_SIZE = 4096
MAX_CACHE_SIZE = 1_000_000
MIN_API_TOKEN_CHARS = 16


class SettingsError(ValueError):
    """A setting that cannot be used; the message says which and how to fix it."""


@dataclass(frozen=True)
class ServerSettings:
    """What the Rasa process needs beyond Rasa's own files.

    Attributes:
        action_timeout: seconds to wait for the action server
            (ACTION_TIMEOUT_SECONDS, 0.5 to 300, default 10).
        cache_size: entries of each inference cache (INFERENCE_CACHE_SIZE,
            0 turns them off, default 4096).
        api_token: the token for Rasa's HTTP API (RASA_API_TOKEN; only used
            with ``--enable-api``).
    """

    action_timeout: float = DEFAULT_ACTION_TIMEOUT
    cache_size: int = DEFAULT_CACHE_SIZE
    api_token: str = ""


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    low: float,
    high: float,
    kind: type[float] | type[int],
    what: str,
) -> float:
    """``env[name]`` as a ``kind`` within [low, high]; ``default`` when unset."""
    raw = env.get(name) or str(default)
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be {what}, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {value}")
    return value


def action_timeout(env: Mapping[str, str]) -> float:
    return float(
        _number(env, "ACTION_TIMEOUT_SECONDS", DEFAULT_ACTION_TIMEOUT, 0.5, 300,
                float, "a number of seconds")
    )  # fmt: skip


def cache_size(env: Mapping[str, str]) -> int:
    return int(
        _number(env, "INFERENCE_CACHE_SIZE", DEFAULT_CACHE_SIZE, 0, MAX_CACHE_SIZE,
                int, "a whole number of entries")
    )  # fmt: skip


def load(env: Mapping[str, str]) -> ServerSettings:
    """Read and check every setting; :class:`SettingsError` for a bad one."""
    return ServerSettings(
        action_timeout=action_timeout(env),
        cache_size=cache_size(env),
        api_token=(env.get("RASA_API_TOKEN") or "").strip(),
    )
