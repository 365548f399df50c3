"""Telegram, with the webhook's secret token checked.

Rasa's ``TelegramInput`` accepts any POST to its webhook (its only check is a
``getMe`` call to Telegram on every message, which proves nothing about the
caller), and it registers the webhook with Telegram while the server starts.
Here the webhook is registered with a ``secret_token`` (``python -m
channels.telegram set-webhook``) and every call must carry it in the
``X-Telegram-Bot-Api-Secret-Token`` header, or it gets 403. Start-up makes no
call to Telegram. Replies are plain text (Telegram cannot open ``tel:`` links,
but it makes phone numbers tappable); buttons are an inline keyboard.

credentials.yml keys: ``access_token``, ``verify`` (the bot's username),
``webhook_url`` (public URL of ``/webhooks/telegram/webhook``), ``secret_token``
(1-256 characters of A-Z, a-z, 0-9, _ and -).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.bot.api import TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Update
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
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

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MAX_TEXT_CHARS = 4096


class TelegramTextOutput(TelegramOutput):
    def __init__(self, access_token: str) -> None:
        super().__init__(access_token)
        base = api_base("TELEGRAM_API_URL")
        if base:
            self.server = TelegramAPIServer.from_base(base)

    async def send_text_message(
        self, recipient_id: str, text: str, **kwargs: Any
    ) -> None:
        await self.send_message(recipient_id, plain_text(text.strip())[:MAX_TEXT_CHARS])

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        button_type: str | None = "vertical",
        **kwargs: Any,
    ) -> None:
        keyboard = InlineKeyboardMarkup()
        for button in buttons:
            keyboard.row(
                InlineKeyboardButton(button["title"], callback_data=button["payload"])
            )
        await self.send_message(
            recipient_id,
            plain_text(text.strip())[:MAX_TEXT_CHARS],
            reply_markup=keyboard,
        )

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        # The handoff's numbers were in the text just sent.
        return None


class TelegramChannel(TelegramInput):
    """``rasa_server.channels.telegram.TelegramChannel``: ``/webhooks/telegram/webhook``."""

    secret_token: str | None = None

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        channel = cls(
            credential(credentials, "access_token"),
            credential(credentials, "verify"),
            credential(credentials, "webhook_url"),
            debug_mode=False,
        )
        secret = credential(credentials, "secret_token")
        if secret is not None and not SECRET_PATTERN.match(secret):
            raise ValueError(
                "TELEGRAM_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        channel.secret_token = secret
        return channel

    @property
    def missing(self) -> list[str]:
        values = {"access_token": self.access_token, "secret_token": self.secret_token}
        return [key for key, value in values.items() if not value]

    def is_signed(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return bool(self.secret_token) and hmac.compare_digest(
            given.encode(), (self.secret_token or "").encode()
        )

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        if self.missing:
            return not_configured(self.name(), self.missing)
        blueprint = Blueprint("telegram_webhook", url_prefix=None)
        out_channel = self.get_output_channel()

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.is_signed(request):
                logger.warning(
                    "Refused a telegram webhook call without the secret token"
                )
                return forbidden(f"Invalid or missing {SECRET_HEADER}")
            body = request.json
            if not isinstance(body, dict):
                return response.text("Expected a Telegram Update object", status=400)
            try:
                update = Update(**body)
            except Exception:
                return response.text("Expected a Telegram Update object", status=400)
            if update.callback_query is not None and update.callback_query.message:
                chat_id = update.callback_query.message.chat.id
                text = update.callback_query.data
            else:
                message = update.message or update.edited_message
                if message is None or message.text is None or message.chat is None:
                    return response.text("ignored")  # stickers, joins, ...
                chat_id = message.chat.id
                text = message.text
                if text.startswith("/start"):
                    text = "/greet"  # Telegram's first message opens with the welcome
            if not text:
                return response.text("ignored")
            # Telegram redelivers an update with the same update_id.
            message_id = None if update.update_id is None else str(update.update_id)
            try:
                await deliver(
                    on_new_message,
                    UserMessage(
                        guard(text),
                        out_channel,
                        str(chat_id),
                        input_channel=self.name(),
                        metadata=self.get_metadata(request),
                        message_id=message_id,
                    ),
                    message_id is not None,
                )
            except Exception:
                logger.exception("Could not handle a telegram message")
                return response.text("error", status=500)
            return response.text("success")

        return blueprint

    def get_output_channel(self) -> TelegramTextOutput:
        # No set_webhook here (Rasa's does it at start-up, over the internet).
        return TelegramTextOutput(self.access_token or "")


async def set_webhook(token: str, url: str, secret: str) -> dict[str, Any]:
    """Register the webhook with Telegram, with the secret token (Bot API 6.1+)."""
    bot = TelegramTextOutput(token)
    try:
        result = await bot.request(
            "setWebhook",
            {
                "url": url,
                "secret_token": secret,
                "allowed_updates": '["message","edited_message","callback_query"]',
            },
        )
        return {"ok": bool(result)}
    finally:
        session = await bot.get_session()
        if session is not None:
            await session.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Telegram channel tools")
    parser.add_argument("command", choices=["set-webhook"])
    parser.parse_args(argv)
    names = ["TELEGRAM_TOKEN", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_SECRET_TOKEN"]
    values = {name: os.environ.get(name, "").strip() for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing:
        print(f"Set {', '.join(missing)} (see .env.example)", file=sys.stderr)
        return 2
    result = asyncio.run(
        set_webhook(
            values["TELEGRAM_TOKEN"],
            values["TELEGRAM_WEBHOOK_URL"],
            values["TELEGRAM_SECRET_TOKEN"],
        )
    )
    print("Webhook registered" if result["ok"] else "Telegram refused the webhook")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
