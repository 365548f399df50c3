"""Run the action server: ``python -m actions.server [--port 5055]``.

On start it validates the configuration (exits with a clear message if invalid),
warns loudly while fictional contact details are in use, installs the PII log
filter, serves the rasa_sdk app for the ``actions`` package, and delivers queued
staff notifications in the background every ``NOTIFY_INTERVAL_SECONDS``.
SIGINT/SIGTERM stop the server cleanly (Sanic handles the signals; the listeners
below stop the notifier and close the database pool).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
import sys
from typing import Any

from rasa_sdk import utils as sdk_utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response

from actions.config import ConfigError, Settings, get_settings
from actions.notify import run_forever
from actions.store import get_store
from common import redact

logger = logging.getLogger("actions.server")


def warn_about_defaults(settings: Settings) -> bool:
    """Log a loud, multi-line WARNING while fictional contacts are in use."""
    if not settings.uses_defaults():
        return False
    bar = "!" * 72
    lines = [
        bar,
        "FICTIONAL CONTACT DETAILS ARE IN USE - NOT READY FOR REAL VISITORS",
        "People in danger would be given these made-up details:",
        *(f"  - {key}" for key in settings.fictional_keys),
        f"Set the real values in {settings.contacts_file} or in the environment",
        "(ADMISSIONS_PHONE, ADMISSIONS_SMS, ADMISSIONS_EMAIL, ADMISSIONS_WEB_FORM).",
        bar,
    ]
    for line in lines:
        logger.warning(line)
    return True


def warn_about_notifications(settings: Settings) -> None:
    if not settings.notify_channels:
        logger.warning(
            "No staff notification channel is configured (NOTIFY_WEBHOOK_URL or "
            "SMTP_HOST): handoffs are stored, but nobody is alerted."
        )


def build_app(settings: Settings) -> Sanic:
    """The rasa_sdk app plus the background notifier."""
    # Only the Rasa server calls this server, never a browser: no CORS.
    app = create_app("actions", cors_origins=None)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)

    expected = f"Bearer {settings.action_token}".encode()

    @app.middleware("request")
    async def require_token(request: Any) -> Any:
        """Every call but /health must carry the shared secret (endpoints.yml)."""
        if request.path == "/health":
            return None
        given = (request.headers.get("Authorization") or "").encode()
        if settings.action_token and hmac.compare_digest(given, expected):
            return None
        return response.json(
            {"error": "missing or wrong action server token"}, status=401
        )

    async def start_notifier(app: Sanic, _loop: Any) -> None:
        try:
            store = await asyncio.to_thread(get_store)
        except Exception:
            logger.exception(
                "Handoff database unavailable at start-up; actions will retry it "
                "and the notifier will not run until restart"
            )
            return
        app.ctx.notifier_stop = asyncio.Event()
        app.ctx.notifier_task = asyncio.create_task(
            run_forever(
                store,
                settings,
                settings.notify_interval_seconds,
                app.ctx.notifier_stop,
            )
        )

    async def stop_notifier(app: Sanic, _loop: Any) -> None:
        task: asyncio.Task[None] | None = getattr(app.ctx, "notifier_task", None)
        if task is not None:
            app.ctx.notifier_stop.set()
            try:
                await asyncio.wait_for(task, timeout=30)
            except asyncio.TimeoutError:
                task.cancel()
        try:
            get_store().dispose()
        except Exception:
            logger.debug("No database pool to close", exc_info=True)

    app.register_listener(start_notifier, "after_server_start")
    app.register_listener(stop_notifier, "before_server_stop")
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m actions.server", description="Run the Rasa action server."
    )
    parser.add_argument(
        "--port", type=int, default=None, help="port (default: ACTION_PORT or 5055)"
    )
    parser.add_argument(
        "--debug", action="store_true", help="debug logging (or LOG_LEVEL=DEBUG)"
    )
    args = parser.parse_args(argv)

    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"Invalid configuration, not starting: {exc}", file=sys.stderr)
        return 2

    if not settings.action_token:
        print(
            "ACTION_SERVER_TOKEN is not set: the action server only answers calls that "
            "carry this shared secret (deploy/run.sh sets a random one per run).",
            file=sys.stderr,
        )
        return 2
    # LOG_LEVEL=DEBUG as for the Rasa server (deploy/run.sh passes it to both).
    debug = args.debug or os.environ.get("LOG_LEVEL", "").strip().upper() == "DEBUG"
    sdk_utils.configure_colored_logging(logging.DEBUG if debug else logging.INFO)
    sdk_utils.update_sanic_log_level()
    redact.install()
    warn_about_defaults(settings)
    warn_about_notifications(settings)
    port = args.port if args.port is not None else settings.action_port
    app = build_app(settings)
    redact.install()  # again, for handlers created while building the app
    logger.info("Action server starting on %s:%s", settings.action_host, port)
    app.run(settings.action_host, port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
