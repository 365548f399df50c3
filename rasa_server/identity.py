"""Whose conversation a message belongs to: one namespace per channel.

Rasa keys a conversation by its sender id alone, so before this module the REST
channel (any ``sender``) could write into a Twilio conversation (``+1213...``)
or a Telegram chat (``12345``). Now every channel's ids live under a prefix of
their own, set where the message enters (:func:`namespace_message`, called by
``rasa_server.dedupe.deliver`` for every channel and by the socket.io channel):

============================  ===========================
channel (``input_channel``)   conversation id
============================  ===========================
``rest``                      ``rest:<sender>``
``socketio`` (the widget)     ``web:<signed session id>``
``twilio`` (SMS)              ``sms:<+E.164 number>``
``twilio_whatsapp``           ``whatsapp:<+E.164 number>``
``telegram``                  ``telegram:<chat id>``
``facebook`` (Messenger)      ``messenger:<page-scoped id>``
``slack``                     ``slack:<user id>``
============================  ===========================

The output channel still gets the platform's own id: the message's output
channel is wrapped (:class:`PlatformRecipient`) so that the reply goes to
``+1213...``, not to ``sms:+1213...``. A REST ``sender`` of ``sms:+1213...``
becomes ``rest:sms:+1213...``: another conversation.

The website's session ids are issued by the server and signed
(:func:`issue_session`, :func:`valid_session`, HMAC-SHA256 with
``WEB_SESSION_SECRET``), so a made-up or altered one is refused and the widget
gets a new conversation.

Conversations stored before namespacing keep their old ids and are no longer
reached by any channel (docs/privacy.md, "Migrating stored conversations").
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import Any

#: input channel name -> prefix of its conversation ids
PREFIXES: dict[str, str] = {
    "rest": "rest:",
    "socketio": "web:",
    "twilio": "sms:",
    "twilio_whatsapp": "whatsapp:",
    "telegram": "telegram:",
    "facebook": "messenger:",
    "slack": "slack:",
}
#: channels whose platform id already carries the prefix (Twilio's
#: ``From=whatsapp:+1213...``); the reply goes to the id as the platform sent it
KEEP_PREFIX = {"twilio_whatsapp"}
OTHER_PREFIX = "other:"

SESSION_SECRET_ENV = "WEB_SESSION_SECRET"  # noqa: S105 - a variable name
MIN_SECRET_CHARS = 32
_SESSION_BYTES = 16
_MAC_CHARS = 32


def conversation_id(channel: str | None, platform_id: str) -> str:
    """The conversation id of ``platform_id`` on ``channel``."""
    prefix = PREFIXES.get(str(channel), OTHER_PREFIX)
    if platform_id.startswith(prefix) and channel in KEEP_PREFIX:
        return platform_id
    return prefix + platform_id


def platform_id(channel: str | None, conversation: str) -> str:
    """The platform's own id of a conversation id (where replies go)."""
    if channel in KEEP_PREFIX:
        return conversation
    prefix = PREFIXES.get(str(channel), OTHER_PREFIX)
    return (
        conversation[len(prefix) :] if conversation.startswith(prefix) else conversation
    )


class PlatformRecipient:
    """An output channel that gets the platform's id instead of the conversation id.

    Every attribute is the wrapped channel's; the calls Rasa makes with a
    recipient id (``send_response`` and the ``send_*`` methods) have the
    channel's prefix taken off first.
    """

    def __init__(self, inner: Any, channel: str) -> None:
        self._inner = inner
        self._channel = channel

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name == "send_response" or name.startswith("send_"):

            async def call(recipient_id: str, *args: Any, **kwargs: Any) -> Any:
                return await attribute(
                    platform_id(self._channel, recipient_id), *args, **kwargs
                )

            return call
        return attribute

    def name(self) -> str:
        return str(self._inner.name())


def namespace_message(message: Any) -> Any:
    """Give ``message`` (a Rasa ``UserMessage``) its channel's conversation id.

    Idempotent: a message already namespaced is returned unchanged.
    """
    if getattr(message, "_namespaced", False):
        return message
    channel = message.input_channel
    message.sender_id = conversation_id(channel, str(message.sender_id))
    message._namespaced = True
    output = message.output_channel
    if output is not None and not isinstance(output, PlatformRecipient):
        from rasa.core.channels.channel import CollectingOutputChannel

        # Rasa's processor checks for a collecting channel (REST); it replies
        # through the HTTP answer, not to a recipient, so it stays as it is.
        if not isinstance(output, CollectingOutputChannel):
            message.output_channel = PlatformRecipient(output, str(channel))
    return message


# ---------------------------------------------------------------- web sessions


def session_secret() -> bytes:
    """``WEB_SESSION_SECRET`` (``python -m rasa_server`` makes one if unset)."""
    secret = os.environ.get(SESSION_SECRET_ENV, "").strip()
    if len(secret) < MIN_SECRET_CHARS:
        raise RuntimeError(
            f"{SESSION_SECRET_ENV} must be at least {MIN_SECRET_CHARS} characters"
        )
    return secret.encode()


def ensure_session_secret(env: dict[str, str] | Any = os.environ) -> None:
    """Make a random ``WEB_SESSION_SECRET`` for this run when none is set.

    Called before Rasa starts its worker processes, which inherit it. Widget
    sessions then end with the run, as with ``deploy/run.sh``'s per-run secret.
    """
    if not env.get(SESSION_SECRET_ENV, "").strip():
        env[SESSION_SECRET_ENV] = secrets.token_urlsafe(32)


def _mac(session: str, secret: bytes) -> str:
    digest = hmac.new(secret, b"web-session:" + session.encode(), hashlib.sha256)
    return digest.hexdigest()[:_MAC_CHARS]


def issue_session(secret: bytes | None = None) -> str:
    """A new signed session id: ``<32 random hex>.<32 hex of HMAC>``."""
    session = secrets.token_hex(_SESSION_BYTES)
    return f"{session}.{_mac(session, secret or session_secret())}"


def valid_session(value: Any, secret: bytes | None = None) -> bool:
    """Whether ``value`` is a session id this server issued, unaltered."""
    if not isinstance(value, str) or len(value) != 2 * _SESSION_BYTES + 1 + _MAC_CHARS:
        return False
    session, _, mac = value.partition(".")
    if len(session) != 2 * _SESSION_BYTES or not all(
        c in "0123456789abcdef" for c in session
    ):
        return False
    return hmac.compare_digest(mac, _mac(session, secret or session_secret()))


# ---------------------------------------------------------------- REST access

REST_TOKEN_ENV = "REST_API_TOKEN"  # noqa: S105 - a variable name
LOOPBACK_ENV = "RASA_BOUND_TO_LOOPBACK"


def rest_allowed(authorization: str | None, env: Any = os.environ) -> bool | None:
    """Whether a REST request may go on.

    With ``REST_API_TOKEN`` set, the request must carry
    ``Authorization: Bearer <token>``. Without it, only a server bound to
    loopback (``--interface 127.0.0.1``; ``python -m rasa_server`` sets
    ``RASA_BOUND_TO_LOOPBACK``) answers; None means "not configured" (503).
    """
    token = (env.get(REST_TOKEN_ENV) or "").strip()
    if not token:
        return True if env.get(LOOPBACK_ENV) == "1" else None
    given = (authorization or "").strip()
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())
