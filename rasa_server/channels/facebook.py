"""Facebook Messenger: Rasa's channel with a 403 for forged calls and richer replies.

Rasa's ``FacebookInput`` already checks the app-secret signature, but answers a
forged call with 200 "not validated"; here it gets 403, and the SHA-256
signature Meta sends today (``X-Hub-Signature-256``) is preferred over the SHA-1
one. Replies: plain text; more than three buttons become quick replies (Rasa's
channel drops them); a handoff becomes a button template with call buttons
(``phone_number`` buttons dial on a phone).

credentials.yml keys: ``verify`` (your webhook verify token), ``secret`` (the
app secret), ``page-access-token``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fbmessenger import MessengerClient
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput, Messenger, MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_server.channels.base import (
    api_base,
    credential,
    forbidden,
    not_configured,
    plain_text,
)
from rasa_server.channels.payloads import guard
from rasa_server.dedupe import deliver

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000  # Messenger's limit for one text message


def messenger_client(page_access_token: str) -> MessengerClient:
    client = MessengerClient(page_access_token)
    base = api_base("FACEBOOK_GRAPH_URL")
    if base:
        client.graph_url = base.rstrip("/")
    return client


def handoff_template(handoff: dict[str, Any]) -> dict[str, Any]:
    """A Messenger button template with up to three call buttons."""
    buttons: list[dict[str, str]] = []
    for resource in handoff.get("resources") or []:
        tel = str(resource.get("tel") or "")
        if tel.startswith("tel:"):
            buttons.append(
                {
                    "type": "phone_number",
                    "title": f"Call {resource['phone']}"[:20],
                    "payload": tel[4:],
                }
            )
    tel = str(handoff.get("tel") or "")
    if tel.startswith("tel:"):
        buttons.insert(
            0 if handoff.get("level") == "admissions" else len(buttons),
            {"type": "phone_number", "title": "Call admissions", "payload": tel[4:]},
        )
    text = {
        "emergency": "Emergency? Call 911 now.",
        "crisis": "Call or text 988 any time.",
    }.get(str(handoff.get("level")), "Talk to our admissions team.")
    return {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "text": text,
                "buttons": buttons[:3],
            },
        }
    }


class MessengerOutput(MessengerBot):
    def _send(self, payload: dict[str, Any], recipient_id: str) -> None:
        try:
            self.messenger_client.send(payload, recipient_id, "RESPONSE")
        except Exception:
            logger.exception("Could not reach the Messenger send API")

    async def _post(self, payload: dict[str, Any], recipient_id: str) -> None:
        await asyncio.to_thread(self._send, payload, recipient_id)

    async def send_action(self, recipient_id: str, sender_action: str) -> None:
        def post() -> None:
            try:
                self.messenger_client.send_action(
                    {"sender_action": sender_action}, recipient_id
                )
            except Exception:
                logger.exception("Could not reach the Messenger send API")

        await asyncio.to_thread(post)

    async def send_text_message(
        self, recipient_id: str, text: str, **kwargs: Any
    ) -> None:
        await self._post(
            {"text": plain_text(text.strip())[:MAX_TEXT_CHARS]}, recipient_id
        )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._post(
            {
                "text": plain_text(text.strip())[:MAX_TEXT_CHARS],
                "quick_replies": [
                    {
                        "content_type": "text",
                        "title": b["title"][:20],
                        "payload": b["payload"],
                    }
                    for b in buttons[:13]
                ],
            },
            recipient_id,
        )

    async def send_custom_json(
        self, recipient_id: str, json_message: Any, **kwargs: Any
    ) -> None:
        if isinstance(json_message, dict) and isinstance(
            json_message.get("handoff"), dict
        ):
            await self._post(handoff_template(json_message["handoff"]), recipient_id)


class _Messenger(Messenger):
    def __init__(
        self,
        page_access_token: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        super().__init__(page_access_token, on_new_message)
        self.client = messenger_client(page_access_token)

    async def _handle_user_message(
        self, text: str, sender_id: str, metadata: dict[str, Any] | None
    ) -> None:
        out_channel = MessengerOutput(self.client)
        # The message's (or postback's) mid: Messenger redelivers with the same one.
        event = self.last_message
        mid = (event.get("message") or event.get("postback") or {}).get("mid")
        message_id = str(mid) if mid else None

        async def handle(message: UserMessage) -> None:
            await out_channel.send_action(sender_id, "typing_on")
            try:
                await self.on_new_message(message)
            finally:
                await out_channel.send_action(sender_id, "typing_off")

        await deliver(
            handle,
            UserMessage(
                guard(text),
                out_channel,
                sender_id,
                input_channel=self.name(),
                metadata=metadata,
                message_id=message_id,
            ),
            message_id is not None,
        )


class MessengerInput(FacebookInput):
    """``rasa_server.channels.facebook.MessengerInput``: ``/webhooks/facebook/webhook``."""

    @classmethod
    def name(cls) -> str:
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(
            credential(credentials, "verify") or "",
            credential(credentials, "secret") or "",
            credential(credentials, "page-access-token") or "",
        )

    @property
    def missing(self) -> list[str]:
        values = {
            "verify": self.fb_verify,
            "secret": self.fb_secret,
            "page-access-token": self.fb_access_token,
        }
        return [key for key, value in values.items() if not value]

    def is_signed(self, request: Request) -> bool:
        """HMAC of the raw body with the app secret, compared in constant time."""
        header, method = request.headers.get("X-Hub-Signature-256"), hashlib.sha256
        if not header:
            header, method = request.headers.get("X-Hub-Signature"), hashlib.sha1
        if not header or "=" not in header:
            return False
        expected = hmac.new(self.fb_secret.encode(), request.body, method).hexdigest()
        # as bytes: compare_digest refuses a str with non-ASCII characters
        # (a TypeError, which was a 500 for a forged header)
        given = header.split("=", 1)[1].encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, expected.encode())

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        if self.missing:
            return not_configured(self.name(), self.missing)
        blueprint = Blueprint("fb_webhook", url_prefix=None)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
                token.encode(), self.fb_verify.encode()
            ):
                return response.text(request.args.get("hub.challenge") or "")
            return forbidden("Invalid verify token")

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.is_signed(request):
                logger.warning(
                    "Refused a facebook webhook call without a valid signature"
                )
                return forbidden("Invalid or missing X-Hub-Signature-256")
            body = request.json
            if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
                return response.text("Expected a Messenger webhook event", status=400)
            messenger = _Messenger(self.fb_access_token, on_new_message)
            try:
                await messenger.handle(body, self.get_metadata(request))
            except Exception:
                logger.exception("Could not handle a facebook message")
                return response.text("error", status=500)
            return response.text("success")

        return blueprint

    def get_output_channel(self) -> MessengerOutput:
        return MessengerOutput(messenger_client(self.fb_access_token))
