"""The Rasa server's one entry point: ``python -m rasa_server run|shell [args]``.

``make run`` (deploy/run.sh), ``make shell``, ``make run-cluster`` and the
container image all start Rasa here, so every way of running it has the same
guards:

1. the settings are read once and checked (:mod:`rasa_server.settings`);
2. Rasa's HTTP API stays closed unless a token is given (:func:`api_arguments`);
3. the changes to Rasa internals are applied, after a Rasa version check
   (:mod:`rasa_server.patches`);
4. ``run`` and ``shell`` refuse to start when the conversation store cannot be
   reached (:mod:`rasa_server.stores.tracker_guard`);
5. then Rasa's own command line takes the arguments, as ``rasa run`` /
   ``rasa shell`` would.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from rasa_server import settings as settings_module
from rasa_server.settings import MIN_API_TOKEN_CHARS, ServerSettings

MIN_JWT_SECRET_CHARS = 32
#: Sanic's largest request (its own default is 100 MB); the REST channel's
#: bodies are far smaller (rasa_server/channels/rest.py)
REQUEST_MAX_BYTES = 1_000_000
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def interface(argv: list[str]) -> str:
    """The address Rasa will listen on (``-i`` / ``--interface``, default 0.0.0.0)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-i", "--interface", default="0.0.0.0")  # noqa: S104
    known, _ = parser.parse_known_args(argv)
    return str(known.interface)


def prepare_environment(argv: list[str], env: dict[str, str] | Any) -> None:
    """What the channels read, set before Rasa starts its worker processes.

    - ``WEB_SESSION_SECRET``: made per run when unset (rasa_server/identity.py);
    - ``RASA_BOUND_TO_LOOPBACK``: lets the REST channel answer without
      ``REST_API_TOKEN`` only on a loopback-bound server;
    - ``SANIC_REQUEST_MAX_SIZE``: 1 MB unless set (Sanic's default is 100 MB).
    """
    from rasa_server.identity import LOOPBACK_ENV, ensure_session_secret
    from rasa_server.rate_limit import check_settings

    ensure_session_secret(env)
    env[LOOPBACK_ENV] = "1" if interface(argv) in LOOPBACK else "0"
    env.setdefault("SANIC_REQUEST_MAX_SIZE", str(REQUEST_MAX_BYTES))
    check_settings(env)


COMMANDS = ("run", "shell")


def api_arguments(argv: list[str], settings: ServerSettings) -> list[str]:
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
    env_token = settings.api_token
    token = known.auth_token if known.auth_token is not None else env_token
    if not token and not (known.jwt_secret or "").strip():
        raise ValueError(
            "Refusing to start: --enable-api opens Rasa's HTTP API (every "
            "conversation, the model) to anyone who can reach the port. Set "
            "RASA_API_TOKEN, or pass --auth-token or --jwt-secret as well."
        )
    jwt_secret = (known.jwt_secret or "").strip()
    if jwt_secret and len(jwt_secret) < MIN_JWT_SECRET_CHARS:
        raise ValueError(
            f"Refusing to start: the JWT secret must be at least "
            f"{MIN_JWT_SECRET_CHARS} characters (a short one can be guessed)."
        )
    if token and len(token) < MIN_API_TOKEN_CHARS:
        raise ValueError(
            f"Refusing to start: the API token must be at least "
            f"{MIN_API_TOKEN_CHARS} characters."
        )
    if known.auth_token is None and env_token:
        return [*argv, "--auth-token", env_token]
    return argv


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] not in ([command] for command in COMMANDS):
        print(
            "usage: python -m rasa_server run|shell [rasa's own options]",
            file=sys.stderr,
        )
        sys.exit(2)
    from rasa_server import patches

    try:
        settings = settings_module.load(os.environ)
        args = api_arguments(args, settings)
        prepare_environment(args, os.environ)
        patches.apply(settings)
    except (settings_module.SettingsError, ValueError, patches.WrongRasaVersion) as e:
        print(e, file=sys.stderr)
        sys.exit(2)
    from rasa_server.stores import tracker_guard

    endpoints = tracker_guard.endpoints_file(args)
    if endpoints:
        tracker_guard.check_tracker_store(endpoints)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
