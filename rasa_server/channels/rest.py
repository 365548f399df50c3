"""REST channel: Rasa's, with the request checked before anything runs.

``POST /webhooks/rest/webhook`` with ``{"sender": "...", "message": "..."}`` and,
optionally, ``"message_id"`` (a client's id of the message, at most 128
characters): a message whose id the conversation already has is not handled
again and gets ``[]`` (a client may retry safely; see ``channels.dedupe``).
Bad requests get a 4xx and a reason in JSON (``{"error": "..."}``) instead of a
500 or, for a missing sender, a reply in a conversation shared by everyone
(Rasa's channel uses the sender "default"). Control characters are removed; an
empty message gets a short answer; payloads go through ``channels.payloads.guard``.

The channel is for trusted server-side clients (the widget uses socket.io):
every request needs ``Authorization: Bearer <REST_API_TOKEN>`` (401 without),
unless the token is unset and the server is bound to loopback; with neither,
the channel answers 503. Its conversations are ``rest:<sender>``
(``rasa_server/identity.py``), so no sender reaches another channel's.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_server.channels.payloads import guard
from rasa_server.dedupe import MAX_ID_CHARS, deliver
from rasa_server.identity import REST_TOKEN_ENV, conversation_id, rest_allowed
from rasa_server.rate_limit import RateLimiter
from rasa_server.stores.tracker_guard import TrackerStoreUnavailable

MAX_MESSAGE_CHARS = 4000
MAX_SENDER_CHARS = 128
CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)
EMPTY_REPLY = "I didn't get a message. Please type your question."


MAX_BODY_BYTES = 64 * 1024
MAX_METADATA_BYTES = 4096


def small_metadata(metadata: Any) -> dict[str, Any] | None:
    """``metadata`` if it is a JSON object of at most 4 KiB, else None."""
    if not isinstance(metadata, dict):
        return None
    try:
        size = len(json.dumps(metadata).encode())
    except (TypeError, ValueError):
        return None
    return metadata if size <= MAX_METADATA_BYTES else None


def error(status: int, reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


def clean(text: str) -> str:
    """Drop control and direction-override characters (text itself stays, RTL included)."""
    return CONTROL.sub("", text)


class RestChannel(RestInput):
    """``rasa_server.channels.rest.RestChannel`` in credentials.yml (replaces ``rest:``)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        blueprint = Blueprint("custom_webhook_RestChannel", url_prefix=None)
        self.limiter = RateLimiter.from_env(os.environ)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.exception(TrackerStoreUnavailable)
        async def store_down(_: Request, down: TrackerStoreUnavailable) -> HTTPResponse:
            """The conversation store is away: 503, and the replies hold the
            apology with 911 / 988 (rasa_server/stores/tracker_guard.py); nothing was stored."""
            return response.json(
                down.replies, status=503, headers={"Retry-After": "30"}
            )

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            allowed = rest_allowed(request.headers.get("authorization"))
            if allowed is None:
                return error(
                    503,
                    "The REST channel is for trusted server-side clients: set "
                    f"{REST_TOKEN_ENV}, or bind the server to 127.0.0.1",
                )
            if not allowed:
                return error(401, "Authorization: Bearer <REST_API_TOKEN> required")
            if len(request.body or b"") > MAX_BODY_BYTES:
                return error(413, f"The body must be at most {MAX_BODY_BYTES} bytes")
            try:
                body = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError):
                return error(
                    400, 'The body must be JSON: {"sender": "...", "message": "..."}'
                )
            if not isinstance(body, dict):
                return error(
                    400, "The body must be a JSON object with sender and message"
                )
            sender = body.get("sender")
            if not isinstance(sender, str) or not clean(sender).strip():
                return error(
                    400,
                    "sender: required, a non-empty string that identifies the conversation",
                )
            if len(sender) > MAX_SENDER_CHARS:
                return error(400, f"sender: at most {MAX_SENDER_CHARS} characters")
            message = body.get("message")
            if not isinstance(message, str):
                return error(400, "message: required, a string")
            if len(message) > MAX_MESSAGE_CHARS:
                return error(413, f"message: at most {MAX_MESSAGE_CHARS} characters")
            message_id = body.get("message_id")
            if message_id is not None and not (
                isinstance(message_id, str)
                and 0 < len(message_id) <= MAX_ID_CHARS
                and message_id.strip()
            ):
                return error(
                    400,
                    f"message_id: optional, a non-empty string of at most {MAX_ID_CHARS} characters",
                )
            metadata = body.get("metadata")
            if metadata is not None and small_metadata(metadata) is None:
                return error(
                    413 if isinstance(metadata, dict) else 400,
                    f"metadata: optional, a JSON object of at most {MAX_METADATA_BYTES} bytes",
                )
            text = clean(message)
            sender = clean(sender).strip()
            wait = self.limiter.check(
                conversation_id(self.name(), sender),
                request.remote_addr or request.ip or "unknown",
            )
            if wait:
                return response.json(
                    {
                        "error": f"Too many messages: retry in {wait} s",
                        "retry_after": wait,
                    },
                    status=429,
                    headers={"Retry-After": str(wait)},
                )
            if not text.strip():
                return response.json([{"recipient_id": sender, "text": EMPTY_REPLY}])
            collector = CollectingOutputChannel()
            user_message = UserMessage(
                guard(text), collector, sender, input_channel=self.name(),
                metadata=self.get_metadata(request), message_id=message_id,
            )  # fmt: skip
            if not await deliver(on_new_message, user_message, message_id is not None):
                return response.json([])  # a repeated message_id: answered before
            for reply in collector.messages:  # the client's own id, not rest:<id>
                reply["recipient_id"] = sender
            return response.json(collector.messages)

        return blueprint
