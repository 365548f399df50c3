"""The callback form: name, phone, best time, consent - and nothing more.

``validate_callback_form`` checks and normalises each answer (phone to E.164).
Declining consent ends the form at once: nothing is stored, the slots are
cleared, and the visitor is given the admissions number instead.
``action_submit_callback`` stores the request with the conversation's handoff and
queues the staff notification in the same transaction, THEN confirms.
``action_cancel_callback`` clears the answers and stores nothing (the rule then
runs ``action_deactivate_loop`` and ``utter_callback_cancelled``).

Every typed message reaches ``validate_callback_form`` while the form asks
(domain.yml maps each slot from the text whatever the intent, except an FAQ
button). It reads the message as the answer to the question asked, unless it is
one of three interruptions (``actions/form_reading.py``): danger (the form steps
aside with ``ActionExecutionRejected`` and the emergency / crisis rule sends 911
or 988), a clear question (rejected too: the in-form rule answers it, then the
form asks again), or stop (the form ends, nothing kept). "No, my number is ..."
fixes a field. ``action_ask_callback_consent`` says what the form has before it
asks for consent.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import phonenumbers
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.config import DEFAULT_REGION, format_phone, get_settings, is_email
from actions.form_reading import (
    ANSWER,
    CONSENT_SLOT,
    NAME_SLOT,
    PHONE_SLOT,
    QUESTION,
    STOP,
    TIME_SLOT,
    correction,
    looks_like_name,
    normalise_text,
    read_turn,
    strip_time_prefix,
)
from actions.handoff import CALLBACK_SLOTS, admissions_line, callback_notifications
from actions.store import Callback, Handoff, get_store
from common import redact

logger = logging.getLogger(__name__)

NAME_MAX = 60
TIME_MIN, TIME_MAX = 2, 80

_NAME_PREFIX = re.compile(
    r"^(?:(?:my|the)\s+name(?:'s|\s+is)|name(?:'s|\s+is)|i\s+am|i'm|it'?s|"
    r"it\s+is|this\s+is|call\s+me|ask\s+for)\s*[:,]?\s+",
    re.IGNORECASE,
)
# Letters (any script), separated by spaces, hyphens, apostrophes or periods;
# an optional final period so initials like "A.J." work.
_NAME = re.compile(r"[^\W\d_]+(?:[ .'\-]+[^\W\d_]+)*\.?")
_PHONE_FORMAT_HELP = (
    "Please type a US number with its area code, for example 213-555-0199. "
    "For a number outside the US, start with + and the country code."
)


FORM = "callback_form"
REQUESTED_SLOT = "requested_slot"
FIELD_LABELS = {NAME_SLOT: "name", PHONE_SLOT: "number", TIME_SLOT: "best time"}
CONSENT_BUTTONS = [
    {"title": "Yes, please call me", "payload": "/affirm"},
    {"title": "No", "payload": "/deny"},
]


def clean_name(value: Any) -> str:
    text = " ".join(str(value).replace("\u2019", "'").split())
    text = _NAME_PREFIX.sub("", text).strip(" ,;!?")
    return text


def looks_like_phone(text: str) -> bool:
    return sum(ch.isdigit() for ch in text) >= 7


def normalise_phone(value: Any) -> str | None:
    """E.164 for a valid phone number in ``value`` (US default region), else None."""
    text = str(value).strip()
    if not text or len(text) > 100:
        return None
    candidates: list[phonenumbers.PhoneNumber] = [
        m.number for m in phonenumbers.PhoneNumberMatcher(text, DEFAULT_REGION)
    ]
    if not candidates:
        try:
            candidates = [phonenumbers.parse(text, DEFAULT_REGION)]
        except phonenumbers.NumberParseException:
            return None
    if len(candidates) != 1 or not phonenumbers.is_valid_number(candidates[0]):
        return None
    return format_phone(candidates[0])[1]


def display_phone(e164: str) -> str:
    return format_phone(phonenumbers.parse(e164, DEFAULT_REGION))[0]


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "y"):
            return True
        if lowered in ("false", "no", "n"):
            return False
    return None


def _cleared_slots() -> list[EventType]:
    return [SlotSet(slot, None) for slot in CALLBACK_SLOTS]


def decline_text() -> str:
    contacts = get_settings().contacts
    return (
        "OK, we won't call you, and I haven't kept your name, number or anything "
        "else from this request. If you'd like to talk to someone, you can "
        f"{admissions_line(contacts)}. If someone is in danger right now, call 911."
    )


def answering_now(tracker: Tracker) -> bool:
    """Whether the form is validating a new message (not resuming after a reply).

    Rasa sends the validator the conversation plus ``ActionExecuted(form)`` and
    the new slot values; a message was just typed when no other action ran
    between the visitor's message and that marker.
    """
    actions = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "action" and event.get("name") not in (
            "action_extract_slots",
            "action_listen",
        ):
            actions += 1
            if actions > 1:
                return False
    return False


def summary(tracker: Tracker) -> str:
    """What the form has so far, in one line."""
    parts = []
    name = tracker.get_slot(NAME_SLOT)
    phone = tracker.get_slot(PHONE_SLOT)
    time = tracker.get_slot(TIME_SLOT)
    if name:
        parts.append(f"name {name}")
    if phone:
        try:
            parts.append(f"number {display_phone(str(phone))}")
        except phonenumbers.NumberParseException:
            parts.append(f"number {phone}")
    if time:
        parts.append(f"best time {time}")
    return ", ".join(parts)


class ValidateCallbackForm(FormValidationAction):
    def name(self) -> str:
        return "validate_callback_form"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        message = tracker.latest_message or {}
        text = normalise_text(message.get("text"))
        if requested in CALLBACK_SLOTS and text and answering_now(tracker):
            verdict = read_turn(requested, text, message)
            if verdict == STOP:
                return self._stop(dispatcher, message)
            fixed = correction(text)
            if fixed and fixed[0] != requested and verdict in (ANSWER, QUESTION):
                return self._correct(fixed, requested, dispatcher, tracker, domain)
            if verdict != ANSWER:
                # The form steps aside; the in-form rules answer the question or
                # send 911 / 988 (data/rules/callback.yml).
                logger.info("Callback form interrupted: %s", verdict)
                return [SlotSet(requested, None), ActionExecutionRejected(FORM)]
            if requested == CONSENT_SLOT and CONSENT_SLOT not in (
                tracker.slots_to_validate()
            ):
                dispatcher.utter_message(
                    text="Sorry, I need a yes or a no: may our admissions team call "
                    "you? You can also change something, or say stop."
                )
                return [SlotSet(CONSENT_SLOT, None)]
        return list(await super().run(dispatcher, tracker, domain))

    @staticmethod
    def _stop(
        dispatcher: CollectingDispatcher, message: dict[str, Any]
    ) -> list[EventType]:
        intent = (message.get("intent") or {}).get("name")
        if intent == STOP:
            # The rule "cancel the callback form at any point" does the rest.
            return [ActionExecutionRejected(FORM)]
        # "forget it" read as another intent: end the form here, keep nothing.
        dispatcher.utter_message(response="utter_callback_cancelled")
        return [*_cleared_slots(), SlotSet(REQUESTED_SLOT, None)]

    def _correct(
        self,
        fixed: tuple[str, str],
        requested: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        slot, value = fixed
        validator = getattr(self, f"validate_{slot}")
        result = validator(value, dispatcher, tracker, domain)
        events: list[EventType] = [SlotSet(requested, None)]
        new = result.get(slot)
        if new is not None:
            shown = display_phone(new) if slot == PHONE_SLOT else new
            dispatcher.utter_message(
                text=f"Thanks, I've changed your {FIELD_LABELS[slot]} to {shown}."
            )
            events.insert(0, SlotSet(slot, new))
        return events

    def validate_callback_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        raw = " ".join(str(slot_value or "").split())
        fixed = correction(raw)
        if fixed and fixed[0] == NAME_SLOT:  # "no, my name is ..."
            raw = fixed[1]
        name = clean_name(raw)
        if "@" in raw or is_email(raw):
            dispatcher.utter_message(
                text="That looks like an e-mail address. I only need a name to ask "
                "for - a first name or initials is fine."
            )
            return {"callback_name": None}
        if looks_like_phone(raw):
            dispatcher.utter_message(
                text="That looks like a phone number - I'll ask for it next. "
                "First, what name should we ask for?"
            )
            return {"callback_name": None}
        if (
            not (1 <= len(name) <= NAME_MAX)
            or not _NAME.fullmatch(name)
            or not looks_like_name(name)
        ):
            dispatcher.utter_message(
                text=f"Sorry, I can only take a name of up to {NAME_MAX} letters "
                "(spaces, hyphens, apostrophes and periods are fine). A first name "
                "or initials is fine."
            )
            return {"callback_name": None}
        redact.remember_name(name)
        return {"callback_name": name}

    def validate_callback_phone(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        e164 = normalise_phone(slot_value) if slot_value is not None else None
        if e164 is None:
            dispatcher.utter_message(
                text="Sorry, I couldn't use that as a phone number. "
                + _PHONE_FORMAT_HELP
            )
            return {"callback_phone": None}
        return {"callback_phone": e164}

    def validate_callback_time(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = strip_time_prefix(str(slot_value or ""))
        if not TIME_MIN <= len(text) <= TIME_MAX:
            dispatcher.utter_message(
                text=f"Please describe a good time in a few words (up to {TIME_MAX} "
                'characters), for example "weekday mornings" or "after 6pm".'
            )
            return {"callback_time": None}
        return {"callback_time": text}

    def validate_callback_consent(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        consent = _as_bool(slot_value)
        if consent is True:
            return {"callback_consent": True}
        if consent is False:
            # End the form politely: keep nothing, offer the number instead.
            dispatcher.utter_message(text=decline_text())
            return {**{slot: None for slot in CALLBACK_SLOTS}, "requested_slot": None}
        return {"callback_consent": None}


class ActionAskCallbackConsent(Action):
    """The consent question, with what the form has, so the visitor can fix it."""

    def name(self) -> str:
        return "action_ask_callback_consent"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        have = summary(tracker)
        dispatcher.utter_message(
            text=(f"Here's what I have: {have}. " if have else "")
            + "May our admissions team call you at that number about treatment? "
            'To change something, just tell me, for example "my number is '
            '213-555-0199". You can say stop at any time.',
            buttons=CONSENT_BUTTONS,
        )
        return []


class ActionSubmitCallback(Action):
    def name(self) -> str:
        return "action_submit_callback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        consent = _as_bool(tracker.get_slot("callback_consent"))
        if consent is not True:
            # The validator already answered a "no" (and cleared the slots); a
            # stray False is answered here. Either way nothing is stored.
            if consent is False:
                dispatcher.utter_message(text=decline_text())
            logger.info("Callback not stored: no consent given")
            return _cleared_slots()

        settings = get_settings()
        name = clean_name(tracker.get_slot("callback_name") or "")
        phone = normalise_phone(tracker.get_slot("callback_phone") or "")
        time = " ".join(str(tracker.get_slot("callback_time") or "").split())
        if not name or phone is None or not time:
            logger.warning("Callback not stored: form slots incomplete")
            dispatcher.utter_message(
                text="Sorry, something went wrong with your callback request and "
                f"nothing was kept. You can {admissions_line(settings.contacts)}."
            )
            return _cleared_slots()
        redact.remember_name(name)

        callback = Callback(name=name, phone=phone, time=time, consent=True)
        handoff: Handoff | None
        try:
            store = get_store()
            handoff = await asyncio.to_thread(
                store.attach_callback,
                tracker.sender_id,
                callback,
                lambda h: callback_notifications(settings, h),
            )
        except Exception:
            logger.exception("Could not store a callback request")
            handoff = None

        contacts = settings.contacts
        if handoff is None:
            dispatcher.utter_message(
                text="I'm sorry - because of a technical problem I couldn't save "
                "your callback request, so nothing was kept. Please reach our "
                f"admissions team directly: {admissions_line(contacts)}, or text "
                f"{contacts.sms}. If someone is in danger right now, call 911."
            )
        else:
            dispatcher.utter_message(
                text=f"Thank you, {name}. We've received your callback request - "
                f"your reference is {handoff.reference}. Our admissions team will "
                f"call you at {display_phone(phone)} (best time: {time}). "
                f"Admissions hours: {contacts.hours}. If you'd rather not wait, you "
                f"can {admissions_line(contacts)}. If someone is in danger right "
                "now, call 911."
            )
        return _cleared_slots()


class ActionCancelCallback(Action):
    def name(self) -> str:
        return "action_cancel_callback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        # The rule follows this with action_deactivate_loop (which ends the form
        # and resets requested_slot) and utter_callback_cancelled, so this action
        # neither deactivates the loop nor speaks.
        return _cleared_slots()
