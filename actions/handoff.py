"""Handoff actions: get a visitor in danger (or who asks) to a human, fast.

Rules send the static ``utter_emergency`` / ``utter_crisis`` BEFORE the first two
actions, so 911 / 988 never depend on this server. Each action then:

1. stores the handoff (and queues the staff notification) durably;
2. tells the visitor how to reach admissions (phone, hours, tap-to-call);
3. sends a ``json_message`` ``{"handoff": {...}}`` for rich front-ends;
4. sets the ``handoff_level`` slot.

If storing fails, the visitor still gets every phone number; the failure is
logged (without personal data).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.config import Contacts, Settings, get_settings
from actions.store import Handoff, Notification, get_store
from common.buttons import CALLBACK_BUTTONS

logger = logging.getLogger(__name__)

RESOURCE_911: dict[str, str] = {"name": "911", "phone": "911", "tel": "tel:911"}
RESOURCE_POISON_HELP: dict[str, str] = {
    "name": "Poison Help",
    "phone": "1-800-222-1222",
    "tel": "tel:+18002221222",
}
RESOURCE_988_CALL: dict[str, str] = {
    "name": "988 Suicide & Crisis Lifeline (call)",
    "phone": "988",
    "tel": "tel:988",
}
RESOURCE_988_TEXT: dict[str, str] = {
    "name": "988 Suicide & Crisis Lifeline (text)",
    "phone": "988",
    "sms": "sms:988",
}
RESOURCE_SAMHSA: dict[str, str] = {
    "name": "SAMHSA National Helpline",
    "phone": "1-800-662-4357",
    "tel": "tel:+18006624357",
}
RESOURCES: dict[str, list[dict[str, str]]] = {
    "emergency": [RESOURCE_911, RESOURCE_POISON_HELP],
    "crisis": [RESOURCE_988_CALL, RESOURCE_988_TEXT, RESOURCE_911],
    "admissions": [RESOURCE_911, RESOURCE_SAMHSA],
}

# The callback form's answers (the form asks for these four and nothing more).
CALLBACK_SLOTS = (
    "callback_name",
    "callback_phone",
    "callback_time",
    "callback_consent",
)


_STAFF_HEADLINES = {
    "emergency": (
        "\U0001f6a8 EMERGENCY handoff",
        "A visitor described a possible emergency (overdose or medical danger). "
        "The bot told them to call 911 and Poison Help (1-800-222-1222).",
    ),
    "crisis": (
        "\U0001f198 CRISIS handoff",
        "A visitor may be thinking about suicide or self-harm. "
        "The bot gave them 988 (call, text or chat) and 911.",
    ),
    "admissions": (
        "\u260e\ufe0f Admissions handoff",
        "A visitor asked to talk to admissions and was offered a callback.",
    ),
}


# --------------------------------------------------------------------------- #
# Visitor-facing text and payload
# --------------------------------------------------------------------------- #


def admissions_line(contacts: Contacts) -> str:
    """'call (213) 555-0142 (hours) - [tap to call](tel:+12135550142)'."""
    return (
        f"call {contacts.phone} ({contacts.hours}) - "
        f"[tap to call]({contacts.tel_uri})"
    )


def handoff_payload(
    level: str, contacts: Contacts, reference: str | None
) -> dict[str, Any]:
    """The ``json_message`` body for front-ends that render rich handoffs."""
    return {
        "handoff": {
            "level": level,
            "phone": contacts.phone,
            "tel": contacts.tel_uri,
            "sms": contacts.sms_uri,
            "hours": contacts.hours,
            "email": contacts.email,
            "web_form": contacts.web_form,
            "reference": reference,
            "resources": [dict(r) for r in RESOURCES[level]],
        }
    }


def handoff_text(level: str, contacts: Contacts, context: str | None = None) -> str:
    """The handoff action's text; ``context`` is the urgent_context slot."""
    line = admissions_line(contacts)
    if level == "emergency" and is_suicidal_context(context):
        return suicidal_emergency_text()
    if level == "emergency" and context == "running_out":
        return running_out_text(line)
    if level == "emergency":
        return (
            "If you haven't yet, call 911 now. Poison Help (1-800-222-1222) can "
            "advise when the person is awake and breathing normally. When everyone "
            f"is safe, our admissions team can help with next steps: {line}."
        )
    if level == "crisis":
        return crisis_text()
    return (
        f"You can talk to our admissions team: {line}. You can also text "
        f"{contacts.sms}, e-mail {contacts.email}, or use the form at "
        f"{contacts.web_form}. If someone is in danger right now, call 911.\n\n"
        "Would you like us to call you back instead?"
    )


def with_988_if_suicidal(
    payload: dict[str, Any], context: str | None
) -> dict[str, Any]:
    """An emergency with suicidal words: 988 call and text join 911 in the payload."""
    handoff = payload["handoff"]
    if handoff["level"] == "emergency" and is_suicidal_context(context):
        handoff["resources"] += [dict(RESOURCE_988_CALL), dict(RESOURCE_988_TEXT)]
    return payload


def is_suicidal_context(context: str | None) -> bool:
    """Whether the emergency message carried suicidal words (urgent_context)."""
    return bool(context) and str(context).endswith("_suicidal")


def running_out_text(line: str) -> str:
    """After the running-out variant of utter_emergency."""
    return (
        "Our admissions team can also help you find care today: "
        f"{line}. If things get worse, call 911."
    )


def crisis_text() -> str:
    """After utter_crisis: 988 by text or chat, 911, no admissions pitch."""
    return (
        "If it's hard to talk right now, you can text 988 or chat at "
        "988lifeline.org. Please also tell someone you trust how you feel. If "
        "you or someone else is in danger right now, call 911."
    )


def suicidal_emergency_text() -> str:
    """After an emergency with suicidal words: 911 first, then 988."""
    return (
        "If you haven't yet, call 911 now. Then, for support with thoughts of "
        "suicide, call or text 988 or chat at 988lifeline.org. You don't have to "
        "go through this alone."
    )


# --------------------------------------------------------------------------- #
# Staff notifications (queued in the outbox with the handoff)
# --------------------------------------------------------------------------- #


def slack_escape(text: str) -> str:
    """Text a visitor typed, safe in a Slack message: ``&``, ``<``, ``>`` escaped
    as Slack requires, so ``<!channel>``, ``<@U123>`` and ``<https://...|here>``
    arrive as plain characters instead of a mention or a disguised link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _notifications(
    settings: Settings, subject: str, lines: list[str]
) -> list[Notification]:
    text = "\n".join(lines)
    out: list[Notification] = []
    for channel in settings.notify_channels:
        if channel == "webhook":
            safe = slack_escape(text)
            payload: dict[str, Any] = {
                "text": f"{slack_escape(subject)}\n{safe}",
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": subject}},
                    # verbatim: bare URLs and channel names are not turned into links
                    {
                        "type": "section",
                        "text": {"type": "mrkdwn", "text": safe, "verbatim": True},
                    },
                ],
            }
        else:
            payload = {"subject": subject, "body": text}
        out.append(Notification(channel=channel, payload=payload))
    return out


def handoff_notifications(settings: Settings, handoff: Handoff) -> list[Notification]:
    title, summary = _STAFF_HEADLINES[handoff.level]
    return _notifications(
        settings,
        f"{title} (ref {handoff.reference})",
        [
            summary,
            f"Reference: {handoff.reference}",
            f"Conversation: {handoff.conversation_id}",
            f"Time (UTC): {handoff.created_at:%Y-%m-%d %H:%M}",
        ],
    )


def callback_notifications(settings: Settings, handoff: Handoff) -> list[Notification]:
    callback = handoff.callback
    assert callback is not None
    return _notifications(
        settings,
        f"\U0001f4de Callback request (ref {handoff.reference})",
        [
            "A visitor asked admissions to call them back and consented to a call.",
            f"Name: {callback.name}",
            f"Phone: {callback.phone}",
            f"Best time: {callback.time}",
            f"Reference: {handoff.reference} ({handoff.level} handoff)",
            f"Conversation: {handoff.conversation_id}",
        ],
    )


async def record_handoff(level: str, conversation_id: str) -> Handoff | None:
    """Store a handoff and queue its notifications; None (logged) on failure."""
    try:
        settings = get_settings()
        store = get_store()
        return await asyncio.to_thread(
            store.record_handoff,
            level,
            conversation_id,
            lambda h: handoff_notifications(settings, h),
        )
    except Exception:
        logger.exception(
            "Could not store a %s handoff; the visitor still got the phone numbers",
            level,
        )
        return None


# --------------------------------------------------------------------------- #
# Actions
# --------------------------------------------------------------------------- #


class HandoffAction(Action, ABC):
    """Shared behaviour; subclasses only name their level."""

    @property
    @abstractmethod
    def level(self) -> str:
        """'emergency' | 'crisis' | 'admissions'."""

    def name(self) -> str:
        return f"action_handoff_{self.level}"

    def buttons(self) -> list[dict[str, str]] | None:
        return None

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        contacts = get_settings().contacts
        handoff = await record_handoff(self.level, tracker.sender_id)
        reference = handoff.reference if handoff is not None else None
        dispatcher.utter_message(
            text=handoff_text(self.level, contacts, tracker.get_slot("urgent_context")),
            buttons=self.buttons(),
        )
        dispatcher.utter_message(
            json_message=with_988_if_suicidal(
                handoff_payload(self.level, contacts, reference),
                tracker.get_slot("urgent_context"),
            )
        )
        events: list[EventType] = [SlotSet("handoff_level", self.level)]
        # A handoff in the middle of the callback form ends it (see the rules):
        # drop any half-given answers so none of them is kept or reused.
        events += [
            SlotSet(slot, None)
            for slot in CALLBACK_SLOTS
            if tracker.get_slot(slot) is not None
        ]
        return events


class ActionHandoffEmergency(HandoffAction):
    @property
    def level(self) -> str:
        return "emergency"


class ActionHandoffCrisis(HandoffAction):
    @property
    def level(self) -> str:
        return "crisis"


class ActionHandoffAdmissions(HandoffAction):
    @property
    def level(self) -> str:
        return "admissions"

    def buttons(self) -> list[dict[str, str]] | None:
        return [dict(b) for b in CALLBACK_BUTTONS]
