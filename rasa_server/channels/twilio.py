"""Twilio SMS and WhatsApp, with Twilio's request signature checked.

Rasa's ``TwilioInput`` accepts any POST as a message from any phone number. Here
every webhook call must carry a valid ``X-Twilio-Signature`` (HMAC-SHA1 of the
public webhook URL and the form fields, keyed with the auth token), or it gets
403. Replies are plain text (no markdown); buttons become a numbered list, and a
reply of "2" picks the second option; the handoff payload is left out because the
text before it already carries every phone number in plain digits.

credentials.yml keys: ``account_sid``, ``auth_token``, ``twilio_number`` (SMS) or
``whatsapp_number`` (WhatsApp), ``webhook_url`` (the public URL registered with
Twilio; signatures are computed over it, so it must match exactly).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from rasa_server.channels.base import (
    api_base,
    conversation_events,
    credential,
    forbidden,
    not_configured,
    numbered_options,
    plain_text,
    resolve_numbered_reply,
)
from rasa_server.channels.payloads import guard
from rasa_server.dedupe import deliver
from rasa_server.identity import conversation_id

logger = logging.getLogger(__name__)

MAX_BODY_CHARS = 1600  # Twilio's own limit for one message body


class TwilioTextOutput(TwilioOutput):
    """Sends plain-text messages; the REST call runs off the event loop."""

    def __init__(self, account_sid: str, auth_token: str, number: str) -> None:
        super().__init__(account_sid, auth_token, number)
        base = api_base("TWILIO_API_URL")
        if base:
            self.api.base_url = base

    async def _send_message(self, message_data: dict[str, Any]) -> Any:
        try:
            return await asyncio.to_thread(self.messages.create, **message_data)
        except TwilioRestException as error:
            # No message body or phone number in the log: both are personal data.
            logger.error(
                "Twilio refused a message: HTTP %s, code %s", error.status, error.code
            )
        except Exception:
            logger.exception("Could not reach Twilio to send a message")
        return None

    async def _send_body(self, recipient_id: str, body: str) -> None:
        await self._send_message(
            {
                "to": recipient_id,
                "from_": self.twilio_number,
                "body": body[:MAX_BODY_CHARS],
            }
        )

    async def send_text_message(
        self, recipient_id: str, text: str, **kwargs: Any
    ) -> None:
        await self._send_body(recipient_id, plain_text(text.strip()))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send_body(recipient_id, numbered_options(text, buttons))

    async def send_quick_replies(
        self,
        recipient_id: str,
        text: str,
        quick_replies: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        # The handoff's numbers were in the text just sent; other custom payloads
        # are for rich front-ends only.
        return None


class TwilioSmsInput(TwilioInput):
    """``rasa_server.channels.twilio.TwilioSmsInput``: webhook ``/webhooks/twilio/webhook``."""

    number_key = "twilio_number"
    number_prefix = ""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        channel = cls(
            credential(credentials, "account_sid"),
            credential(credentials, "auth_token"),
            credential(credentials, cls.number_key),
            debug_mode=False,
        )
        channel.webhook_url = credential(credentials, "webhook_url")
        return channel

    webhook_url: str | None = None

    @property
    def missing(self) -> list[str]:
        values = {
            "account_sid": self.account_sid,
            "auth_token": self.auth_token,
            self.number_key: self.twilio_number,
        }
        return [key for key, value in values.items() if not value]

    @property
    def from_number(self) -> str:
        number = self.twilio_number or ""
        if self.number_prefix and not number.startswith(self.number_prefix):
            number = self.number_prefix + number
        return number

    def is_signed(self, request: Request) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not self.auth_token:
            return False
        url = self.webhook_url or request.url
        params = {key: values[0] for key, values in request.form.items()}
        return bool(RequestValidator(self.auth_token).validate(url, params, signature))

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        if self.missing:
            return not_configured(self.name(), self.missing)
        if not self.webhook_url:
            # Twilio signs the public URL it calls; behind a proxy or load
            # balancer (https ended there, another host or port) the URL this
            # server sees differs, and every message would get 403 silently.
            logger.warning(
                "The %s channel has no webhook_url (%s): signatures are checked "
                "against the URL each request arrives at, so behind a proxy every "
                "message will be refused (403). Set it to the exact public URL "
                "registered with Twilio.",
                self.name(),
                "TWILIO_SMS_WEBHOOK_URL"
                if self.name() == "twilio"
                else "TWILIO_WHATSAPP_WEBHOOK_URL",
            )
        blueprint = Blueprint(f"{self.name()}_webhook", url_prefix=None)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            if not self.is_signed(request):
                logger.warning(
                    "Refused a %s webhook call without a valid signature", self.name()
                )
                return forbidden("Invalid or missing X-Twilio-Signature")
            sender = request.form.get("From")
            text = request.form.get("Body")
            if not sender or text is None:
                return response.text("From and Body are required", status=400)
            if not text.strip():
                text = "/greet"  # an empty SMS (e.g. a picture only): say hello
            text = text.replace("¡", "@")
            if text.strip().rstrip(".").isdigit():  # only a number can answer buttons
                text = resolve_numbered_reply(
                    text,
                    await conversation_events(
                        request, conversation_id(self.name(), sender)
                    ),
                )
            text = guard(text)
            out_channel = self.get_output_channel()
            # Twilio's id of the message: a redelivery is not answered twice.
            message_id = request.form.get("MessageSid") or None
            user_message = UserMessage(
                text,
                out_channel,
                sender,
                input_channel=self.name(),
                metadata=self.get_metadata(request),
                message_id=message_id,
            )
            try:
                await deliver(on_new_message, user_message, message_id is not None)
            except Exception:
                logger.exception("Could not handle a %s message", self.name())
                return response.text("", status=500)
            return response.text("", status=204)

        return blueprint

    def get_output_channel(self) -> TwilioTextOutput:
        return TwilioTextOutput(
            self.account_sid or "", self.auth_token or "", self.from_number
        )


class TwilioWhatsAppInput(TwilioSmsInput):
    """``rasa_server.channels.twilio.TwilioWhatsAppInput``: ``/webhooks/twilio_whatsapp/webhook``."""

    number_key = "whatsapp_number"
    number_prefix = "whatsapp:"

    @classmethod
    def name(cls) -> str:
        return "twilio_whatsapp"
