"""Tests of the FAQ navigation actions (actions/faq.py) against the real domain."""
from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import (
    ActionDidYouMean,
    ActionOpenFaq,
    faq_payload,
    ranked_guesses,
    topic_titles,
)


def faq_topics(domain: dict[str, Any]) -> list[str]:
    return sorted(
        key.split("/", 1)[1]
        for key in domain["responses"]
        if key.startswith("utter_faq/")
    )


def test_every_faq_topic_has_a_button_title(domain: dict[str, Any]) -> None:
    topics = faq_topics(domain)
    assert topics, "no utter_faq/* responses found in the domain"
    missing = sorted(set(topics) - set(topic_titles()))
    stale = sorted(set(topic_titles()) - set(topics))
    assert not missing, f"add a title in knowledge/grounding.yml for: {missing}"
    assert (
        not stale
    ), f"knowledge/grounding.yml has titles of topics with no answer: {stale}"


@pytest.mark.parametrize("topic", ["what_is", "withdrawal", "home_detox", "treatment"])
async def test_open_faq_sends_that_answer(
    topic: str,
    make_tracker: Any,
    dispatcher: CollectingDispatcher,
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(intent="open_faq", slots={"faq_topic": topic})
    events = await ActionOpenFaq().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == f"utter_faq/{topic}"
    # the conversation keeps its last topic for follow-ups (issue 13)
    assert events == [SlotSet("faq_topic", None), SlotSet("last_topic", topic)]


async def test_open_faq_reads_the_entity_when_the_slot_is_empty(
    make_tracker: Any, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        intent="open_faq", entities=[{"entity": "faq_topic", "value": "signs"}]
    )
    await ActionOpenFaq().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_faq/signs"


@pytest.mark.parametrize("topic", ["no_such_topic", "../etc", None, 42])
async def test_open_faq_unknown_topic_gets_a_clear_answer(
    topic: Any,
    make_tracker: Any,
    dispatcher: CollectingDispatcher,
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(intent="open_faq", slots={"faq_topic": topic})
    events = await ActionOpenFaq().run(dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    assert message["response"] is None
    assert "don't have an answer" in message["text"]
    assert {b["payload"] for b in message["buttons"]} == {"/help", "/admissions"}
    assert events == [SlotSet("faq_topic", None)]


def low_confidence_message() -> dict[str, Any]:
    return {
        "text": "klonopin thing??",
        "intent": {"name": "nlu_fallback", "confidence": 0.45},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.45},
            {"name": "faq", "confidence": 0.40},
            {"name": "admissions", "confidence": 0.30},
            {"name": "greet", "confidence": 0.05},
        ],
        "response_selector": {
            "faq": {
                "ranking": [
                    {"intent_response_key": "faq/withdrawal", "confidence": 0.6},
                    {"intent_response_key": "faq/stopping", "confidence": 0.3},
                    {"intent_response_key": "faq/what_is", "confidence": 0.1},
                ]
            }
        },
    }


def test_ranked_guesses_combines_intent_and_topic_confidence() -> None:
    guesses = ranked_guesses(low_confidence_message())
    names = [name for name, _ in guesses]
    assert names[:3] == ["admissions", "withdrawal", "stopping"]
    assert dict(guesses)["withdrawal"] == pytest.approx(0.24)


async def test_did_you_mean_offers_the_two_likeliest_topics(
    make_tracker: Any, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    msg = low_confidence_message()
    # make the FAQ topics the two likeliest guesses
    msg["intent_ranking"][2]["confidence"] = 0.01
    tracker = make_tracker(
        text=msg["text"],
        intent="nlu_fallback",
        confidence=0.45,
        intent_ranking=msg["intent_ranking"],
        response_selector=msg["response_selector"],
        events=[{"event": "user", "text": msg["text"], "parse_data": msg}],
    )
    events = await ActionDidYouMean().run(dispatcher, tracker, domain)
    assert events == []
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == [
        faq_payload("withdrawal"),
        faq_payload("stopping"),
        "/something_else",
        "/admissions",
    ]
    assert "Did you mean" in dispatcher.messages[0]["text"]
    assert "something_else" in domain["intents"]  # the button has somewhere to go
    assert "911" not in dispatcher.messages[0]["text"]


async def test_did_you_mean_adds_the_urgent_line_when_danger_is_a_guess(
    make_tracker: Any, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": "crisis", "confidence": 0.35},
        {"name": "faq", "confidence": 0.2},
    ]
    tracker = make_tracker(intent="nlu_fallback", intent_ranking=ranking)
    await ActionDidYouMean().run(dispatcher, tracker, domain)
    text = dispatcher.messages[0]["text"]
    assert "911" in text and "988" in text


async def test_second_miss_in_a_row_goes_to_admissions(
    make_tracker: Any,
    dispatcher: CollectingDispatcher,
    domain: dict[str, Any],
    handoff_store: Any,
) -> None:
    fallback = {"intent": {"name": "nlu_fallback", "confidence": 0.3}}
    events = [
        {"event": "user", "text": "hmm", "parse_data": fallback},
        {"event": "action", "name": "action_did_you_mean"},
        {"event": "user", "text": "blah", "parse_data": fallback},
    ]
    tracker = make_tracker(text="blah", intent="nlu_fallback", events=events)
    result = await ActionDidYouMean().run(dispatcher, tracker, domain)
    assert SlotSet("handoff_level", "admissions") in result
    assert "still not sure" in dispatcher.messages[0]["text"]
    handoff = [m["custom"]["handoff"] for m in dispatcher.messages if m.get("custom")]
    assert handoff and handoff[0]["level"] == "admissions"


async def test_a_miss_after_an_understood_message_is_a_first_miss(
    make_tracker: Any, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = [
        {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}},
        {
            "event": "user",
            "text": "blah",
            "parse_data": {"intent": {"name": "nlu_fallback"}},
        },
    ]
    tracker = make_tracker(text="blah", intent="nlu_fallback", events=events)
    result = await ActionDidYouMean().run(dispatcher, tracker, domain)
    assert result == []
    assert dispatcher.messages[0]["buttons"][-1]["payload"] == "/admissions"
