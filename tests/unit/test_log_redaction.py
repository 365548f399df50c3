"""No phone number, e-mail address or callback answer in the Rasa server's logs
(rasa_server/log_redaction.py, common/redact.py). The lines below are the ones
Rasa 3.6 wrote at LOG_LEVEL=DEBUG for a callback request; the system check is
tests/system/test_channels.py::test_logs_hold_no_phone_number_email_or_name."""
from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from common import redact
from rasa_server import log_redaction

ROOT = Path(__file__).resolve().parents[2]
NAME, PHONE, EMAIL, WHEN = (
    "Zelda Quimby",
    "(213) 555-0177",
    "zelda.q@example.com",
    "after 6pm on weekdays",
)

# The visitor's own words: masked once the processor hook has seen the form ask.
PARSE_LINE = '{"parse_data_text": "my name is Zelda Quimby", "parse_data_intent": {"name": "out_of_scope", "confidence": 0.9898443222045898}, "parse_data_entities": [], "event": "processor.message.parse", "level": "debug"}'
# Masked by their shape or place in the line alone.
RASA_DEBUG_LINES = [
    '{"action_extract_slot": "action_extract_slots", "len_extraction_events": 1, "rasa_events": ["SlotSet(key: callback_name, value: my name is Zelda Quimby)"], "event": "processor.extract.slots", "level": "debug"}',
    '{"slot_candidates": {"callback_name": "my name is Zelda Quimby"}, "event": "forms.slots.validate", "level": "debug"}',
    '{"action_name": "callback_form", "rasa_events": ["SlotSet(key: callback_name, value: Zelda Quimby)", "SlotSet(key: requested_slot, value: callback_phone)"], "event": "processor.actions.log", "level": "debug"}',
    '{"slot_values": "\\tfaq_topic: None\\n\\tcallback_name: Zelda Quimby\\n\\tcallback_phone: +12135550177\\n\\tcallback_time: after 6pm on weekdays\\n\\trequested_slot: callback_time", "event": "processor.slots.log", "level": "debug"}',
    '{"current_states": "\\n[state 3] user text: (213) 555-0177 | previous action name: action_listen | active loop: {\'name\': \'callback_form\'}", "event": "rule_policy.actions.find", "level": "debug"}',
    "Issuing ticket for conversation '+13105550177'.",
    "Tracker with sender_id 'whatsapp:+13105550177' stored to database",
    '{"parse_data_text": "my email is zelda.q@example.com", "event": "processor.message.parse"}',
    "events [SlotSet(key: callback_time, value: after 6pm on weekdays), SlotSet(key: callback_consent, value: None)]",
    'http://127.0.0.1:4000 "POST /me/messages?access_token=EAAZelda6pm HTTP/1.1" 200 40',
]
SECRETS = ["Zelda", "Quimby", "555-0177", "5550177", "zelda.q", "example.com", "6pm"]


@pytest.fixture(autouse=True)
def no_names() -> Iterator[None]:
    redact.forget_names()
    yield
    redact.forget_names()


@pytest.mark.parametrize("line", RASA_DEBUG_LINES)
def test_rasa_debug_lines_lose_the_callback_answers_even_unseen(line: str) -> None:
    """The slot values go by their place in the line alone (a restarted server,
    or another one, has not seen the answers), numbers and e-mails by their shape."""
    masked = redact.redact(line)
    assert not [s for s in SECRETS if s in masked], masked
    assert "[" in masked


def test_the_rest_of_a_line_stays_useful() -> None:
    masked = redact.redact(PARSE_LINE + " " + RASA_DEBUG_LINES[3])
    assert '"confidence": 0.9898443222045898' in masked, "decimals are not phones"
    assert '"event": "processor.message.parse"' in masked
    assert (
        "callback_name: [name]" in masked
        and "callback_time: [callback answer]" in masked
    )
    assert "callback_phone: [phone]" in masked and "faq_topic: None" in masked
    assert redact.redact("SlotSet(key: callback_name, value: None)").endswith("None)")


def test_remembered_answers_are_masked_anywhere_and_json_escaped() -> None:
    redact.remember_name("Zoë Quimby")
    redact.remember_phrase("after 6pm  on weekdays")
    line = (
        '{"text": "Thank you, Zo\\u00eb Quimby (best time: AFTER 6pm on weekdays)"} zoë'
    )
    masked = redact.redact(line)
    assert "Zo" not in masked and "Quimby" not in masked and "6pm" not in masked
    assert "[name]" in masked and "[callback answer]" in masked
    redact.remember_phrase("no")  # too short to mask ordinary words
    assert redact.redact("no, thanks") == "no, thanks"


@functools.lru_cache(maxsize=1)
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def form_tracker(requested: str, **slots: str) -> DialogueStateTracker:
    events = [ActiveLoop("callback_form"), SlotSet("requested_slot", requested)]
    events += [SlotSet(key, value) for key, value in slots.items()]
    return DialogueStateTracker.from_events("c1", events, slots=domain().slots)


def test_answers_to_the_form_and_the_slots_held_are_remembered() -> None:
    tracker = form_tracker("callback_time", callback_name=NAME)
    answer, mask = log_redaction.remember_answers(tracker, WHEN)
    with redact.handling("c1", answer, mask):
        masked = redact.redact(f"user text: {WHEN} | thank you, {NAME}; Zelda again")
    assert masked == "user text: [callback answer] | thank you, [name]; [name] again"
    # the validated name stays masked in that conversation's later lines only
    with redact.handling("c1"):
        assert redact.redact(f"thank you, {NAME}") == "thank you, [name]"
    with redact.handling("someone-else"):
        assert redact.redact(f"thank you, {NAME}") == f"thank you, {NAME}"

    answer, mask = log_redaction.remember_answers(
        form_tracker("callback_name"), "it's Ann Lee"
    )
    with redact.handling("c1", answer, mask):
        assert redact.redact("user text: it's Ann Lee |") == "user text: [name] |"
    # a raw answer is masked while its message is handled, never remembered
    assert redact.redact("user text: it's Ann Lee |") == "user text: it's Ann Lee |"


def test_messages_outside_the_form_are_not_remembered() -> None:
    tracker = DialogueStateTracker.from_events("c2", [], slots=domain().slots)
    log_redaction.remember_answers(tracker, "what is klonopin")
    consent = form_tracker("callback_consent")
    log_redaction.remember_answers(consent, "yes please")
    assert (
        redact.redact("what is klonopin? yes please") == "what is klonopin? yes please"
    )


@pytest.fixture
def installed() -> Iterator[None]:
    original = MessageProcessor._handle_message_with_tracker
    log_redaction.install()
    log_redaction.install()  # idempotent
    assert MessageProcessor._handle_message_with_tracker.__wrapped__ is original
    yield
    MessageProcessor._handle_message_with_tracker = original
    redact.uninstall()


class FakeProcessor:
    domain = domain()

    def _log_slots(self, tracker: DialogueStateTracker) -> None:
        return None


class LoggingProcessor(FakeProcessor):
    """Logs, while the message is handled, what Rasa logs at DEBUG."""

    def _log_slots(self, tracker: DialogueStateTracker) -> None:
        logging.getLogger("rasa.core.processor").debug(PARSE_LINE)
        logging.getLogger("rasa.core.processor").debug(
            "text=%r from %s, mail %s", f"my name is {NAME}", "+13105550177", EMAIL
        )
        logging.getLogger("rasa.core.policies").debug("user text: my name is %s", NAME)


@pytest.mark.usefixtures("installed")
async def test_installed_every_record_is_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracker = form_tracker("callback_name")
    entity = {
        "entity": "unused",
        "value": "x",
        "start": 0,
        "end": 1,
    }  # Rasa then logs the slots
    message = UserMessage(
        f"my name is {NAME}", CollectingOutputChannel(), "c3",
        parse_data={"intent": {"name": "inform", "confidence": 0.9}, "entities": [entity], "text": ""},
    )  # fmt: skip
    with caplog.at_level(logging.DEBUG):
        await MessageProcessor._handle_message_with_tracker(
            LoggingProcessor(), message, tracker
        )
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert not [s for s in SECRETS if s in logged], logged
    assert "[name]" in logged and "[phone]" in logged and "[email]" in logged
