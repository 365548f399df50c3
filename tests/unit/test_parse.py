"""common.parse: the one reader of the ResponseSelector's choice."""

from __future__ import annotations

from typing import Any

from rasa.shared.nlu.training_data.message import Message

from common.parse import selected_topic, topic_ranking

PARSE: dict[str, Any] = {
    "intent": {"name": "faq", "confidence": 0.99},
    "response_selector": {
        "faq": {
            "response": {"intent_response_key": "faq/stopping", "confidence": 0.42},
            "ranking": [
                {"intent_response_key": "faq/stopping", "confidence": 0.42},
                {"intent_response_key": "faq/withdrawal", "confidence": 0.31},
                {"confidence": 0.2},  # no key: not a topic
            ],
        }
    },
}


def test_the_chosen_topic_and_ranking_from_a_parse_dict() -> None:
    assert selected_topic(PARSE) == ("faq/stopping", 0.42)
    assert topic_ranking(PARSE) == [("faq/stopping", 0.42), ("faq/withdrawal", 0.31)]


def test_a_rasa_message_reads_the_same() -> None:
    message = Message(data={"text": "x", **PARSE})
    assert selected_topic(message) == selected_topic(PARSE)
    assert topic_ranking(message) == topic_ranking(PARSE)


def test_nothing_chosen_reads_as_none() -> None:
    for parse in ({}, {"response_selector": None}, {"response_selector": {"faq": {}}}):
        assert selected_topic(parse) == (None, 0.0)
        assert topic_ranking(parse) == []
