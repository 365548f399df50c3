"""What every messaging channel shares: plain text, numbered options, settings."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_SCHEME = re.compile(r"^(tel|sms|mailto):", re.IGNORECASE)


def plain_text(text: str) -> str:
    """Markdown the web widget renders, as plain text for SMS, Telegram, Slack...

    ``[tap to call](tel:+12135550142)`` -> ``tap to call (+12135550142)``, so the
    number itself is in the message (phones make it tappable);
    ``**bold**`` -> ``bold``.
    """

    def link(match: re.Match[str]) -> str:
        label, target = match.group(1), _SCHEME.sub("", match.group(2))
        return label if target in label else f"{label} ({target})"

    return _BOLD.sub(r"\1", _LINK.sub(link, text))


def numbered_options(text: str, buttons: list[dict[str, Any]]) -> str:
    """Buttons for a channel without buttons: 'Reply with a number' + a list."""
    lines = [f"{i}. {b['title']}" for i, b in enumerate(buttons, start=1)]
    head = plain_text(text).rstrip()
    return f"{head}\n\nReply with a number:\n" + "\n".join(lines)


def env_value(env: Mapping[str, str], key: str) -> str | None:
    """An environment value, with empty meaning unset."""
    value = env.get(key, "").strip()
    return value or None


def credential(credentials: Mapping[str, Any] | None, key: str) -> str | None:
    """A credentials.yml value; empty (an unset ${VAR}) means not configured."""
    value = (credentials or {}).get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def api_base(variable: str) -> str | None:
    """Base URL override of a platform's send API (tests, proxies); None = real."""
    return env_value(os.environ, variable)


def resolve_numbered_reply(text: str, events: list[dict[str, Any]]) -> str:
    """Map '2' to the payload of the 2nd button of the bot's last message.

    Only when the bot spoke last with buttons (the visitor is answering them);
    anything else is returned unchanged.
    """
    choice = text.strip().rstrip(".")
    if not choice.isdigit():
        return text
    buttons: list[dict[str, Any]] | None = None
    for event in reversed(events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            buttons = (event.get("data") or {}).get("buttons")
            break
    if not buttons:
        return text
    index = int(choice)
    if 1 <= index <= len(buttons):
        payload = buttons[index - 1].get("payload")
        if isinstance(payload, str):
            return payload
    return text


def not_configured(name: str, keys: list[str]) -> Blueprint:
    """The blueprint of a channel whose credentials are empty: it answers 503."""
    blueprint = Blueprint(f"{name}_webhook", url_prefix=None)
    message = f"The {name} channel is not configured: set {', '.join(keys)}."
    logger.info("%s (see .env.example and credentials.yml)", message)

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "not configured", "missing": keys}, status=503)

    @blueprint.route("/webhook", methods=["GET", "POST"])
    async def webhook(_: Request) -> HTTPResponse:
        return response.text(message, status=503)

    return blueprint


def forbidden(reason: str) -> HTTPResponse:
    return response.text(reason, status=403)


async def conversation_events(request: Request, sender_id: str) -> list[dict[str, Any]]:
    """The stored events of a conversation, [] when unknown or unreadable."""
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return []
    try:
        tracker = await store.retrieve(sender_id)
    except Exception:
        logger.exception("Could not read a conversation to resolve a numbered reply")
        return []
    if tracker is None:
        return []
    return [event.as_dict() for event in tracker.events]
