"""Typed payloads (rasa_server/channels/payloads.py, common/buttons.py)."""
from __future__ import annotations

import pytest

from rasa_server.channels.payloads import allowed_payloads, guard, payload_key


@pytest.mark.parametrize(
    "sent, seen",
    [
        (
            '/open_faq{"faq_topic": "withdrawal"}',
            '/open_faq{"faq_topic": "withdrawal"}',
        ),
        ('/open_faq{"faq_topic":"withdrawal"}', '/open_faq{"faq_topic":"withdrawal"}'),
        ("/admissions", "/admissions"),
        ("/request_callback", "/request_callback"),
        ("/greet", "/greet"),
        ("  /affirm ", "/affirm"),
        ("/emergency", "emergency"),
        ("/nlu_fallback", "nlu_fallback"),
        ('/open_faq{"faq_topic": "nope"}', 'open_faq{"faq_topic": "nope"}'),
        ('/affirm{"callback_name": "x"}', 'affirm{"callback_name": "x"}'),
        ("//admissions", "admissions"),
        ("/", "?"),
        ("what is klonopin", "what is klonopin"),
        ("i take 1/2 a pill", "i take 1/2 a pill"),
    ],
)
def test_only_the_bots_own_payloads_pass(sent: str, seen: str) -> None:
    assert guard(sent) == seen


def test_every_answer_button_is_allowed() -> None:
    allowed = allowed_payloads()
    assert payload_key('/open_faq{"faq_topic": "dosage"}') in allowed
    assert payload_key("/deny") in allowed
    assert payload_key("/callback_form") not in allowed
