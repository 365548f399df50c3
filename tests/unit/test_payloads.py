"""Typed payloads (channels/payloads.py) and the action timeout (scripts/rasa_server.py)."""
from __future__ import annotations

import pytest

from channels.payloads import allowed_payloads, guard, payload_key
from scripts import rasa_server


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


@pytest.mark.parametrize(
    "raw, seconds", [(None, 10.0), ("", 10.0), ("2.5", 2.5), ("300", 300.0)]
)
def test_action_timeout_setting(raw: str | None, seconds: float) -> None:
    env = {} if raw is None else {"ACTION_TIMEOUT_SECONDS": raw}
    assert rasa_server.action_timeout(env) == seconds


@pytest.mark.parametrize("raw", ["soon", "0", "301", "-1"])
def test_bad_action_timeout_is_refused_by_name(raw: str) -> None:
    with pytest.raises(SystemExit, match="ACTION_TIMEOUT_SECONDS"):
        rasa_server.action_timeout({"ACTION_TIMEOUT_SECONDS": raw})


def test_the_timeout_reaches_rasas_action_calls() -> None:
    import rasa.core.actions.action as actions_module
    import rasa.utils.endpoints as endpoints_module

    before = actions_module.DEFAULT_REQUEST_TIMEOUT
    try:
        rasa_server.apply_action_timeout(4.0)
        assert actions_module.DEFAULT_REQUEST_TIMEOUT == 4.0
        assert endpoints_module.DEFAULT_REQUEST_TIMEOUT == 4.0
    finally:
        rasa_server.apply_action_timeout(before)
