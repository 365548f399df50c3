"""The Rasa server's logs without visitors' phone numbers, e-mails and callback answers.

Rasa logs what visitors type at DEBUG (``LOG_LEVEL=DEBUG``): the parsed text,
the events, the slot values, the dialogue states. :func:`install` puts the
action server's PII filter (``actions.redact``: phone numbers, e-mail
addresses, the callback form's slot values wherever a log line spells them out)
on every log record of this process, and teaches it, as each message arrives,
what this conversation's callback answers are:

- while the callback form asks for a name, a phone number or a time, the
  visitor's whole answer is masked in the log lines of that message (the
  parsed text, the dialogue states, ...), and then forgotten;
- the name, number and time the conversation holds (the validated slot values
  only, also after a restart or on another server) are masked in that
  conversation's later log lines, e.g. in the confirmation "Thank you, <name>";
  they are kept per conversation, a few each, for at most six hours.

Nothing is compiled per log line, and nothing grows with the number of
answers: one small pattern per conversation, compiled when its validated
values change (issue 14: a process-wide list of every raw answer, compiled into
one pattern per message, stalled the server).

Names a visitor types outside the form are not known here (``make review``
guesses at those). At the default level (INFO) Rasa logs no message text.
``rasa_server/__main__.py`` calls :func:`install`.
"""

from __future__ import annotations

import functools
from typing import Any

from common import redact

FORM = "callback_form"


def remember_answers(tracker: Any, text: str | None) -> tuple[str | None, str]:
    """Teach the log filter this conversation's validated callback answers;
    the current message's text and mask when it answers the form (see above)."""
    conversation = str(tracker.sender_id)
    name = tracker.get_slot("callback_name")
    if isinstance(name, str):
        redact.remember_name(name, conversation)
    for slot in ("callback_phone", "callback_time"):
        value = tracker.get_slot(slot)
        if isinstance(value, str):
            redact.remember_phrase(value, redact.FORM_SLOT_MASKS[slot], conversation)
    requested = tracker.get_slot("requested_slot")
    if tracker.active_loop_name == FORM and requested in redact.FORM_SLOT_MASKS:
        return text, redact.FORM_SLOT_MASKS[requested]
    return None, redact.ANSWER_MASK


def install() -> None:
    """Filter every log record of this process; learn answers as messages arrive.

    Wraps ``MessageProcessor._handle_message_with_tracker`` (Rasa 3.6): it gets
    the conversation's tracker before the message is parsed or logged.
    Idempotent.
    """
    from rasa.core.processor import MessageProcessor

    redact.install()
    original = MessageProcessor._handle_message_with_tracker
    if getattr(original, "_remembers_answers", False):
        return

    @functools.wraps(original)
    async def remembering(self: Any, message: Any, tracker: Any) -> None:
        answer, mask = remember_answers(tracker, message.text)
        # not reset on return: the prediction loop, the actions and the reply
        # that follow in this request's task log for this message too
        redact.begin(str(tracker.sender_id), answer, mask)
        await original(self, message, tracker)

    remembering._remembers_answers = True  # type: ignore[attr-defined]
    MessageProcessor._handle_message_with_tracker = remembering
