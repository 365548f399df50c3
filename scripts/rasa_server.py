"""Start Rasa (`python -m scripts.rasa_server run ...`, as scripts/run.sh does)
with a short timeout for calls to the action server.

Rasa 3.6 waits up to 300 s for a custom action (DEFAULT_REQUEST_TIMEOUT, not
configurable): a hung action server would leave a visitor in distress with no
answer for five minutes. Here the wait is ACTION_TIMEOUT_SECONDS (default 10);
when it passes, Rasa logs the failure and the conversation goes on, and the
static 911 / 988 replies, sent by rules before any action, have already gone out.

It also refuses to start when the conversation store cannot be reached, and
never falls back to a fresh in-memory conversation (scripts/tracker_guard.py).
"""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_ACTION_TIMEOUT = 10.0


def action_timeout(env: dict[str, str]) -> float:
    raw = env.get("ACTION_TIMEOUT_SECONDS") or str(DEFAULT_ACTION_TIMEOUT)
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(
            f"ACTION_TIMEOUT_SECONDS must be a number of seconds, not {raw!r}"
        ) from None
    if not 0.5 <= value <= 300:
        raise SystemExit(
            f"ACTION_TIMEOUT_SECONDS must be between 0.5 and 300, not {value}"
        )
    return value


def apply_action_timeout(seconds: float) -> None:
    import rasa.core.actions.action as actions_module
    import rasa.utils.endpoints as endpoints_module

    # Both modules read the constant at call time (the per-request timeout and
    # the client session's total timeout).
    actions_module.DEFAULT_REQUEST_TIMEOUT = seconds
    endpoints_module.DEFAULT_REQUEST_TIMEOUT = seconds


MIN_API_TOKEN_CHARS = 16


def api_arguments(argv: list[str], env: dict[str, str]) -> list[str]:
    """``argv`` for Rasa; a ``ValueError`` for an open HTTP API.

    Rasa's HTTP API (``--enable-api``: read and rewrite any conversation, replace
    the model) is off unless asked for, and then only with ``--auth-token`` or
    ``--jwt-secret``. ``RASA_API_TOKEN`` (16+ characters) is passed to Rasa as the
    token here, so it never shows on the command line (``ps``).
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--enable-api", action="store_true")
    parser.add_argument("-t", "--auth-token")
    parser.add_argument("--jwt-secret")
    known, _ = parser.parse_known_args(argv)
    if not known.enable_api:
        return argv
    env_token = (env.get("RASA_API_TOKEN") or "").strip()
    token = known.auth_token if known.auth_token is not None else env_token
    if not token and not (known.jwt_secret or "").strip():
        raise ValueError(
            "Refusing to start: --enable-api opens Rasa's HTTP API (every "
            "conversation, the model) to anyone who can reach the port. Set "
            "RASA_API_TOKEN, or pass --auth-token or --jwt-secret as well."
        )
    if token and len(token) < MIN_API_TOKEN_CHARS:
        raise ValueError(
            f"Refusing to start: the API token must be at least "
            f"{MIN_API_TOKEN_CHARS} characters."
        )
    if known.auth_token is None and env_token:
        return [*argv, "--auth-token", env_token]
    return argv


def main() -> None:
    try:
        sys.argv[1:] = api_arguments(sys.argv[1:], dict(os.environ))
    except ValueError as refusal:
        print(refusal, file=sys.stderr)
        sys.exit(2)
    # Redelivered webhooks are not answered twice; no visitor's phone number,
    # e-mail or callback answer in the logs (channels/dedupe.py, log_redaction.py).
    from channels import dedupe, log_redaction

    log_redaction.install()
    dedupe.install_guard()
    apply_action_timeout(action_timeout(dict(os.environ)))
    # Skip the NLU pipeline and TensorFlow for inputs seen before, SQLite in WAL
    # mode, leaner conversation-store queries (runtime/, README "Speed").
    from runtime import inference_cache, sql_tracker_store, sqlite

    size = inference_cache.cache_size(os.environ)
    inference_cache.install(size)
    inference_cache.install_parse_cache(size)
    sqlite.tune()
    sql_tracker_store.install()
    # No silent fresh start: refuse to start without the conversation store, and
    # answer "can't reach our records" (911 / 988) while it is away.
    from scripts import tracker_guard

    endpoints = tracker_guard.endpoints_file(sys.argv[1:])
    if endpoints:
        tracker_guard.check_tracker_store(endpoints)
    tracker_guard.install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
