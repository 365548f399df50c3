"""TopicFallback: a FAQ answer only when the ResponseSelector's topic is likely."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.nlu.training_data.message import Message

from rasa_server.nlu.topic_fallback import TopicFallback


def parsed(intent: str, topic: str | None, topic_confidence: float) -> Message:
    data: dict[str, Any] = {
        "text": "a question",
        "intent": {"name": intent, "confidence": 0.99},
        "intent_ranking": [
            {"name": intent, "confidence": 0.99},
            {"name": "admissions", "confidence": 0.01},
        ],
    }
    if topic is not None:
        data["response_selector"] = {
            "faq": {
                "response": {
                    "intent_response_key": topic,
                    "confidence": topic_confidence,
                },
                "ranking": [
                    {"intent_response_key": topic, "confidence": topic_confidence}
                ],
            }
        }
    return Message(data=data)


def test_an_unlikely_topic_becomes_nlu_fallback() -> None:
    message = TopicFallback({"threshold": 0.5}).process(
        [parsed("faq", "faq/withdrawal", 0.31)]
    )[0]
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.31}
    ranking = [r["name"] for r in message.get("intent_ranking")]
    assert ranking[:2] == ["nlu_fallback", "faq"]  # faq stays, for "Did you mean"
    assert message.get("topic_fallback") == {
        "topic": "faq/withdrawal",
        "confidence": 0.31,
        "threshold": 0.5,
    }


def test_a_likely_topic_is_answered() -> None:
    message = TopicFallback({"threshold": 0.5}).process(
        [parsed("faq", "faq/withdrawal", 0.5)]
    )[0]
    assert message.get("intent")["name"] == "faq"
    assert message.get("topic_fallback") is None


def test_faq_without_a_selected_topic_falls_back() -> None:
    message = TopicFallback({"threshold": 0.2}).process([parsed("faq", None, 0.0)])[0]
    assert message.get("intent")["name"] == "nlu_fallback"


@pytest.mark.parametrize("intent", ["emergency", "crisis", "greet", "open_faq"])
def test_other_intents_are_left_alone(intent: str) -> None:
    message = TopicFallback({"threshold": 0.9}).process(
        [parsed(intent, "faq/withdrawal", 0.1)]
    )[0]
    assert message.get("intent")["name"] == intent


@pytest.mark.parametrize("bad", ["0.5", 1.5, -0.1, True, None])
def test_a_bad_threshold_is_refused_with_a_fix(bad: Any) -> None:
    with pytest.raises(ValueError, match="threshold"):
        TopicFallback({"threshold": bad})
