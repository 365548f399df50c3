"""common.parse: the one reader of the ResponseSelector's choice."""

from __future__ import annotations

from typing import Any

from rasa.shared.nlu.training_data.message import Message

from common.parse import chosen, selected_topic, topic_ranking

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


def test_chosen_is_the_topic_at_the_lower_of_the_two_confidences() -> None:
    assert chosen(PARSE) == ("faq/stopping", 0.42)
    greeting = {"intent": {"name": "greet", "confidence": 0.97}}
    assert chosen(greeting) == ("greet", 0.97)
    assert chosen({}) == ("", 0.0)


def test_chosen_behind_a_fallback_is_the_runner_up_capped_by_the_fallback() -> None:
    fallback = {
        **PARSE,
        "intent": {"name": "nlu_fallback", "confidence": 0.3},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.3},
            {"name": "faq", "confidence": 0.9},
            {"name": "greet", "confidence": 0.1},
        ],
    }
    assert chosen(fallback) == ("nlu_fallback", 0.3)
    assert chosen(fallback, behind_fallback=True) == ("faq/stopping", 0.3)
    fallback["intent_ranking"][1] = {"name": "deny", "confidence": 0.2}
    assert chosen(fallback, behind_fallback=True) == ("deny", 0.2)
    alone = {"intent": {"name": "nlu_fallback", "confidence": 0.3}}
    assert chosen(alone, behind_fallback=True) == ("nlu_fallback", 0.3)
