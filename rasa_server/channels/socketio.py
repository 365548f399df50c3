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
- While the conversation store is away the visitor gets the agent's apology
  (with 911 / 988, ``rasa_server/stores/tracker_guard.py``), and no traceback is logged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from rasa_server.channels.payloads import guard
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

        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            valid = isinstance(requested, str) and 0 < len(requested) <= 128
            session_id = requested if valid else uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit(
                "session_confirm", session_id, room=sid, namespace=self.namespace
            )

        async def handle_message(sid: str, data: Any) -> None:
            output = WebChatOutput(sio, self.bot_message_evt)
            if not isinstance(data, dict):
                await sio.emit(
                    self.bot_message_evt,
                    {"text": "Sorry, I could not read that message."},
                    room=sid,
                )
                return
            session_id = data.get("session_id")
            if self.session_persistence and not (
                isinstance(session_id, str) and 0 < len(session_id) <= 128
            ):
                await sio.emit(
                    self.bot_message_evt,
                    {
                        "text": "Sorry, this chat lost its session. Please reload the page."
                    },
                    room=sid,
                )
                return
            sender_id = session_id if self.session_persistence else sid
            text = data.get("message")
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
                    UserMessage(
                        guard(text),
                        output,
                        sender_id,
                        input_channel=self.name(),
                        metadata=metadata if isinstance(metadata, dict) else None,
                    )
                )

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return blueprint
