"""The website widget's channel: Rasa's socket.io channel, with three fixes.

- ``send_custom_json`` emits ``{"custom": {...}}``. Rasa's own passes the JSON
  as keyword arguments to ``emit`` (``emit(event, handoff=...)``), which raises a
  ``TypeError``, so a handoff reply would never reach the page.
- Only the configured origins may connect (``CORS_ORIGINS``, comma-separated);
  Rasa's channel accepts every origin.
- ``session_request`` awaits ``enter_room``: with the python-socketio Rasa 3.6.21
  installs (5.x), Rasa's handler never awaits that coroutine, the browser never
  joins its session's room, and with ``session_persistence`` no reply arrives.
- A malformed ``user_uttered`` event (not an object, no text, text too long) is
  answered with a clear message instead of an exception in the server log.
- Session ids are issued and signed by the server (``rasa_server/identity.py``);
  a made-up or altered one starts a new conversation, and a socket writes only
  into its own session's conversation (``web:<session id>``).
- Text is cleaned as the REST channel's is; metadata is size-limited; each
  conversation and client address is rate-limited (``rasa_server/rate_limit.py``).
- While the conversation store is away the visitor gets the agent's apology
  (with 911 / 988, ``rasa_server/stores/tracker_guard.py``), and no traceback is logged.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from rasa_server.channels.payloads import guard
from rasa_server.channels.rest import clean, small_metadata
from rasa_server.identity import (
    conversation_id,
    issue_session,
    namespace_message,
    valid_session,
)
from rasa_server.rate_limit import RateLimiter, limit_text
from rasa_server.stores.tracker_guard import TrackerStoreUnavailable

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
DEFAULT_ORIGINS = "http://localhost:8080,http://127.0.0.1:8080"


class WebChatOutput(SocketIOOutput):
    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


def allowed_origins(raw: str | None) -> list[str] | str:
    value = (raw or DEFAULT_ORIGINS).strip()
    if value == "*":
        return "*"
    return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]


class WebChatInput(SocketIOInput):
    """credentials.yml: ``rasa_server.channels.socketio.WebChatInput`` (same keys as socketio)."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> WebChatOutput | None:
        if self.sio is None:
            return None
        return WebChatOutput(self.sio, self.bot_message_evt)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by SocketIOInput.blueprint
        sio.eio.cors_allowed_origins = allowed_origins(os.environ.get("CORS_ORIGINS"))

        sessions: dict[str, str] = {}  # socket id -> its confirmed session id

        async def confirm(sid: str, session_id: str) -> None:
            sessions[sid] = session_id
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit(
                "session_confirm", session_id, room=sid, namespace=self.namespace
            )

        def signed_or_new(requested: Any) -> str:
            return str(requested) if valid_session(requested) else issue_session()

        async def session_request(sid: str, data: Any) -> None:
            # Only a session id this server signed is continued; a made-up or
            # altered one gets a new conversation (rasa_server/identity.py).
            requested = data.get("session_id") if isinstance(data, dict) else None
            if requested and not valid_session(requested):
                logger.info("Refused a web session id the server did not issue")
            await confirm(sid, signed_or_new(requested))

        async def disconnect(sid: str) -> None:
            sessions.pop(sid, None)

        async def handle_message(sid: str, data: Any) -> None:
            output = WebChatOutput(sio, self.bot_message_evt)
            if not isinstance(data, dict):
                await sio.emit(
                    self.bot_message_evt,
                    {"text": "Sorry, I could not read that message."},
                    room=sid,
                )
                return
            # The socket's own session; a message naming another one (or a
            # socket that never asked for one) cannot pick whose conversation it
            # writes into: an id this server did not sign starts a new one.
            session_id = sessions.get(sid)
            if session_id is None:
                session_id = signed_or_new(data.get("session_id"))
                await confirm(sid, session_id)
            elif data.get("session_id") not in (None, session_id):
                logger.info("Ignored a session id other than the socket's own")
            sender_id: str = session_id if self.session_persistence else sid
            limited = limiter.check(
                conversation_id(self.name(), sender_id), client_address(sid)
            )
            if limited:
                await output.send_text_message(sender_id, limit_text(limited))
                await output.send_custom_json(
                    sender_id, {"rate_limited": {"retry_after": limited}}
                )
                return
            text = data.get("message")
            if isinstance(text, str):
                text = clean(text)  # as the REST channel does
            if not isinstance(text, str) or not text.strip():
                await output.send_text_message(
                    sender_id, "I didn't get a message. Please type your question."
                )
                return
            if len(text) > MAX_MESSAGE_CHARS:
                await output.send_text_message(
                    sender_id,
                    f"That message is too long for me (over {MAX_MESSAGE_CHARS} "
                    "characters). Could you ask in a shorter way?",
                )
                return
            metadata = data.get(self.metadata_key)
            # the store being away: the visitor got the apology (911 / 988) and
            # the agent logged it
            with contextlib.suppress(TrackerStoreUnavailable):
                await on_new_message(
                    namespace_message(
                        UserMessage(
                            guard(text),
                            output,
                            sender_id,
                            input_channel=self.name(),
                            metadata=small_metadata(metadata),
                        )
                    )
                )

        def client_address(sid: str) -> str:
            try:
                environ = sio.get_environ(sid, namespace=self.namespace) or {}
            except Exception:
                return "unknown"
            request = environ.get("sanic.request")
            ip = getattr(request, "remote_addr", "") or getattr(request, "ip", "")
            return str(ip or environ.get("REMOTE_ADDR") or "unknown")

        limiter = RateLimiter.from_env(os.environ)
        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on("disconnect", disconnect, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return blueprint
