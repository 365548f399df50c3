"""Slack: Rasa's channel (which checks Slack's signing secret), with plain-text
replies, a 403 for forged calls, and a send API that tests can point at a fake.
Slack's retries are matched by event_id (rasa_server/dedupe.py): an event is
answered once, and a retry of one that never arrived is answered.

credentials.yml keys: ``slack_token`` (the bot token, xoxb-...),
``slack_signing_secret``; optional ``slack_channel`` (answer in one channel only).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint
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


class SlackTextOutput(SlackBot):
    def __init__(
        self,
        token: str,
        slack_channel: str | None = None,
        thread_id: str | None = None,
        proxy: str | None = None,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        base = api_base("SLACK_API_URL")
        if base:
            self.client.base_url = base.rstrip("/") + "/"

    async def send_text_message(
        self, recipient_id: str, text: str, **kwargs: Any
    ) -> None:
        await self._post_message(
            channel=self.slack_channel or recipient_id,
            as_user=True,
            text=plain_text(text.strip()),
        )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await super().send_text_with_buttons(
            recipient_id, plain_text(text.strip()), buttons[:25]
        )

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        # The handoff's numbers were in the text just sent.
        return None


class SlackChannel(SlackInput):
    """``rasa_server.channels.slack.SlackChannel``: ``/webhooks/slack/webhook``."""

    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        given = dict(credentials or {})
        missing = [
            key
            for key in ("slack_token", "slack_signing_secret")
            if credential(given, key) is None
        ]
        # Rasa's constructor refuses an empty signing secret; an unconfigured
        # channel must still load (its webhook answers 503), so fill placeholders.
        for key in missing:
            given[key] = "unset"
        given["slack_channel"] = credential(given, "slack_channel")
        channel = super().from_credentials(given)
        assert isinstance(channel, SlackChannel)
        channel.configured_missing = missing
        # Rasa drops every retry Slack sends after a timeout, even when the first
        # delivery never arrived; here retries are matched by event_id instead.
        channel.errors_ignore_retry = ()
        return channel

    configured_missing: list[str] = []

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        if self.configured_missing:
            return not_configured(self.name(), self.configured_missing)
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def verify(request: Request) -> HTTPResponse | None:
            if request.method == "POST" and not self.is_request_from_slack_authentic(
                request
            ):
                logger.warning("Refused a slack webhook call without a valid signature")
                return forbidden("Invalid or missing X-Slack-Signature")
            return None

        return blueprint

    async def process_message(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        sender_id: str | None,
        metadata: dict[str, Any] | None,
    ) -> Any:
        is_json = request.headers.get("content-type", "").startswith("application/json")
        body = request.json if is_json else None
        event_id = body.get("event_id") if isinstance(body, dict) else None
        message_id = str(event_id) if event_id else None

        async def handle(message: UserMessage) -> None:
            # Slack sends a retry (X-Slack-Retry-Num) with the same event_id.
            if message_id is not None:
                message.message_id = message_id
            await deliver(on_new_message, message, message_id is not None)

        return await super().process_message(
            request, handle, guard(text), sender_id, metadata
        )

    def get_output_channel(
        self, channel: str | None = None, thread_id: str | None = None
    ) -> SlackTextOutput:
        return SlackTextOutput(
            self.slack_token, channel or self.slack_channel, thread_id, self.proxy
        )
