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


def action_timeout(env: Mapping[str, str]) -> float:
    raw = env.get("ACTION_TIMEOUT_SECONDS") or str(DEFAULT_ACTION_TIMEOUT)
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(
            f"ACTION_TIMEOUT_SECONDS must be a number of seconds, not {raw!r}"
        ) from None
    if not 0.5 <= value <= 300:
        raise SettingsError(
            f"ACTION_TIMEOUT_SECONDS must be between 0.5 and 300, not {value}"
        )
    return value


def cache_size(env: Mapping[str, str]) -> int:
    raw = env.get("INFERENCE_CACHE_SIZE") or str(DEFAULT_CACHE_SIZE)
    try:
        size = int(raw)
    except ValueError:
        raise SettingsError(
            f"INFERENCE_CACHE_SIZE must be a whole number of entries, not {raw!r}"
        ) from None
    if not 0 <= size <= MAX_CACHE_SIZE:
        raise SettingsError(
            f"INFERENCE_CACHE_SIZE must be between 0 and {MAX_CACHE_SIZE}, not {size}"
        )
    return size


def load(env: Mapping[str, str]) -> ServerSettings:
    """Read and check every setting; :class:`SettingsError` for a bad one."""
    return ServerSettings(
        action_timeout=action_timeout(env),
        cache_size=cache_size(env),
        api_token=(env.get("RASA_API_TOKEN") or "").strip(),
    )
