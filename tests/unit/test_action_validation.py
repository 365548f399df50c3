"""The action-reply validator built once accepts and refuses exactly as Rasa's."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from rasa_server import action_validation

GOOD: dict[str, Any] = {
    "events": [{"event": "slot", "name": "last_topic", "value": "withdrawal"}],
    "responses": [{"text": "hello"}],
}
BAD: list[dict[str, Any]] = [
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [], "responses": "not a list"},
    {"events": "nope"},
]


def rasa_says(result: dict[str, Any]) -> str:
    from jsonschema import validate

    try:
        validate(result, RemoteAction.action_response_format_spec())
        return "ok"
    except ValidationError as e:
        return e.message


@pytest.mark.parametrize("result", [GOOD, *BAD])
def test_the_same_verdict_and_message_as_rasa(result: dict[str, Any]) -> None:
    expected = rasa_says(result)
    action = RemoteAction("action_x", None)
    if expected == "ok":
        assert action_validation.validate_action_result(action, result) is True
    else:
        with pytest.raises(ValidationError) as caught:
            action_validation.validate_action_result(action, result)
        assert caught.value.message.startswith(expected)
        assert "Failed to validate Action server response" in caught.value.message


def test_install_replaces_rasa_s_method() -> None:
    original = RemoteAction._validate_action_result
    try:
        action_validation.install()
        assert (
            RemoteAction._validate_action_result
            is action_validation.validate_action_result
        )
    finally:
        RemoteAction._validate_action_result = original  # type: ignore[method-assign]
