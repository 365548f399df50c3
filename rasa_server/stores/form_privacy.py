"""The callback form's answers, masked in the conversation store.

The callback request itself (name, number, best time, consent) lives in the
handoff store (``actions/store.py``). The conversation store keeps, of it:

- the visitor's text that answered the form's name, number and time
  questions: masked when it is stored (``[name]``, ``[phone]``,
  ``[callback answer]``), in the text and in the parse data; the form does not
  need it again (the validated value is in the slot);
- the slots ``callback_name``, ``callback_phone``, ``callback_time``: a value
  replaced in the same turn (the raw text the form extracted, before its
  validator's value) masked at once; the latest value as it is while the form runs (each later step and the action server read them from
  the stored conversation), then masked, with every bot message that repeats
  them ("Thank you, Jane ... at (213) 555-0142"), as soon as the form ends
  (submitted, declined, cancelled): the rows already stored are rewritten.

:class:`~rasa_server.stores.sql_tracker_store.LeanSQLTrackerStore` applies both
on SQLite and PostgreSQL alike. Nothing here imports Rasa: events are the JSON
dictionaries the store writes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from common import redact

FORM = "callback_form"
#: the slots whose values are personal data, and their masks
MASKS = dict(redact.FORM_SLOT_MASKS)


class FormState:
    """Follows a conversation's events: is the form asking for personal data?"""

    def __init__(self) -> None:
        self.active: str | None = None
        self.requested: str | None = None
        self.values: set[str] = set()  # every value the form's slots held
        self.ended = False  # the form ran and stopped (in the events seen)

    def answer_mask(self) -> str | None:
        """The mask of a user text now, if it answers a personal question."""
        if self.active == FORM and self.requested in MASKS:
            return MASKS[self.requested]
        return None

    def see(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "active_loop":
            was_active = self.active == FORM
            self.active = event.get("name")
            if was_active and self.active != FORM:
                self.ended = True
        elif kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name == "requested_slot":
                self.requested = value
            elif name in MASKS and isinstance(value, str) and value.strip():
                self.values.add(value)
        elif kind == "session_started":
            self.active = self.requested = None


def mask_user(event: dict[str, Any], mask: str) -> dict[str, Any]:
    masked = copy.deepcopy(event)
    masked["text"] = mask
    parse = masked.get("parse_data")
    if isinstance(parse, dict):
        parse["text"] = mask
        for entity in parse.get("entities") or []:
            if isinstance(entity, dict):
                entity["value"] = mask
                entity.pop("text", None)
    return masked


def mask_values(text: str, values: Iterable[str]) -> str:
    """``text`` with each of ``values``, phone numbers and e-mails masked."""
    for value in sorted(values, key=len, reverse=True):
        for part in {value, *(p for p in re.split(r"\s+", value) if len(p) >= 3)}:
            text = re.sub(
                r"(?<!\w)" + re.escape(part) + r"(?!\w)", redact.NAME_MASK, text,
                flags=re.IGNORECASE,
            )  # fmt: skip
    return redact.mask_contacts(text)


def mask_stored(event: dict[str, Any], values: set[str]) -> dict[str, Any] | None:
    """``event`` once the form has ended (a changed copy), or None if unchanged."""
    kind = event.get("event")
    if kind == "slot" and event.get("name") in MASKS:
        value = event.get("value")
        if isinstance(value, str) and value and value != MASKS[event["name"]]:
            return {**event, "value": MASKS[event["name"]]}
        return None
    if kind == "bot" and isinstance(event.get("text"), str) and values:
        text = mask_values(event["text"], values)
        return {**event, "text": text} if text != event["text"] else None
    return None


def masked_new_events(
    events: list[dict[str, Any]], stored: int
) -> tuple[list[dict[str, Any]], FormState]:
    """The events from ``stored`` on, as they go into the store; the state
    after all of them (``ended``: the form stopped among the new ones)."""
    state = FormState()
    out: list[dict[str, Any]] = []
    # the index of the last event that sets each form slot: an earlier value
    # (the raw text the form extracted before its validator replaced it) is
    # not needed by anyone and is stored masked
    last_set = {
        event.get("name"): index
        for index, event in enumerate(events)
        if event.get("event") == "slot" and event.get("name") in MASKS
    }
    for index, event in enumerate(events):
        mask = state.answer_mask() if event.get("event") == "user" else None
        if index == stored:
            state.ended = False  # only an end among the new events counts
        if index >= stored:
            superseded = (
                event.get("event") == "slot"
                and event.get("name") in MASKS
                and last_set.get(event.get("name")) != index
            )
            if mask:
                out.append(mask_user(event, mask))
            elif superseded:
                out.append(mask_stored(event, set()) or event)
            else:
                out.append(event)
        state.see(event)
    if stored >= len(events):
        state.ended = False
    return out, state
