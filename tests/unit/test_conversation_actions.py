"""Follow-ups and repair (issue 13): actions/conversation.py on the real domain."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import (
    ActionAnswerFaq,
    ActionFollowUp,
    ActionRepair,
    resolve_follow_up,
)

pytestmark = pytest.mark.usefixtures("isolated_config", "handoff_store")


def selector(
    topic: str, ranking: list[tuple[str, float]] | None = None
) -> dict[str, Any]:
    ranking = ranking or [(topic, 0.9)]
    return {
        "faq": {
            "response": {"intent_response_key": f"faq/{topic}", "confidence": 0.9},
            "ranking": [
                {"intent_response_key": f"faq/{t}", "confidence": c} for t, c in ranking
            ],
        }
    }


def conversation(
    turns: list[tuple[str, str, str | None, str]],
    slots: dict[str, Any] | None = None,
) -> Tracker:
    """turns: (text, intent, topic, bot action after it); the last has no action."""
    events: list[dict[str, Any]] = []
    last_topic = None
    latest: dict[str, Any] = {}
    for i, (text, intent, topic, action) in enumerate(turns):
        parse: dict[str, Any] = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "intent_ranking": [{"name": intent, "confidence": 0.9}],
            "entities": [],
        }
        if topic:
            parse["response_selector"] = selector(
                topic, [(topic, 0.6), ("uses", 0.2), ("effects", 0.1)]
            )
        events.append({"event": "user", "text": text, "parse_data": parse})
        if topic and intent == "faq":
            last_topic = topic
            events.append({"event": "slot", "name": "last_topic", "value": topic})
        latest = parse
        if i < len(turns) - 1:
            events.append({"event": "action", "name": action})
            events.append({"event": "action", "name": "action_listen"})
    return Tracker(
        "conv-test", {"last_topic": last_topic, **(slots or {})}, latest, events,
        False, None, {}, "action_listen",
    )  # fmt: skip


def run(action: Any, tracker: Tracker, domain: dict[str, Any]) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return events, dispatcher.messages


@pytest.mark.parametrize(
    ("last", "text", "expected"),
    [
        ("effects", "and long term?", "long_term"),
        ("effects", "what about withdrawal", "withdrawal"),
        ("withdrawal", "how long does that last", "withdrawal"),
        ("withdrawal", "is that dangerous", "home_detox"),
        ("overdose", "what are the signs", "overdose"),
        ("is_addictive", "what are the signs", "signs"),
        ("what_is", "tell me more", "how_it_works"),
        ("what_is", "what's it prescribed for", "uses"),
        (None, "tell me more", None),
        (None, "is that dangerous", None),
    ],
)
def test_resolve_follow_up(last: str | None, text: str, expected: str | None) -> None:
    assert resolve_follow_up(last, text) == expected


def test_a_follow_up_is_answered_with_the_last_topic(domain: dict[str, Any]) -> None:
    tracker = conversation(
        [("what are the side effects", "faq", "effects", "utter_faq"),
         ("and long term?", "follow_up", None, "")]
    )  # fmt: skip
    events, messages = run(ActionFollowUp(), tracker, domain)
    assert messages[0]["response"] == "utter_faq/long_term"
    assert {
        "event": "slot",
        "name": "last_topic",
        "value": "long_term",
        "timestamp": None,
    } in events


def test_a_follow_up_without_a_topic_gets_did_you_mean(domain: dict[str, Any]) -> None:
    tracker = conversation([("tell me more", "follow_up", None, "")])
    _, messages = run(ActionFollowUp(), tracker, domain)
    assert "Did you mean" in messages[0]["text"]


def test_repair_apologises_offers_other_topics_and_a_person(
    domain: dict[str, Any]
) -> None:
    tracker = conversation(
        [("what is kpin used for", "faq", "what_is", "utter_faq"),
         ("no, that's not what I asked", "repair", None, "")]
    )  # fmt: skip
    events, messages = run(ActionRepair(), tracker, domain)
    text, buttons = messages[0]["text"], messages[0]["buttons"]
    assert text.startswith("Sorry")
    payloads = [b["payload"] for b in buttons]
    assert '/open_faq{"faq_topic": "what_is"}' not in payloads
    assert '/open_faq{"faq_topic": "uses"}' in payloads
    assert payloads[-1] == "/admissions"
    assert {
        "event": "slot",
        "name": "missed_topic",
        "value": "what_is",
        "timestamp": None,
    } in events


def test_the_same_wrong_answer_is_not_given_twice(domain: dict[str, Any]) -> None:
    tracker = conversation(
        [("what is kpin used for", "faq", "what_is", "utter_faq"),
         ("what do doctors give kpins for", "faq", "what_is", "")]
    )  # fmt: skip
    _, messages = run(ActionAnswerFaq(), tracker, domain)
    assert (
        "response" not in messages[0] or messages[0]["response"] != "utter_faq/what_is"
    )
    assert messages[0]["text"].startswith("Sorry")


def test_a_second_miss_leads_to_admissions(domain: dict[str, Any]) -> None:
    tracker = conversation(
        [("what is kpin used for", "faq", "what_is", "utter_faq"),
         ("that's not what i asked", "repair", None, "action_repair"),
         ("what do doctors give kpins for", "faq", "what_is", "")],
        slots={"missed_topic": "what_is"},
    )  # fmt: skip
    events, messages = run(ActionAnswerFaq(), tracker, domain)
    assert "admissions" in messages[0]["text"]
    assert any(e.get("name") == "handoff_level" for e in events)


def test_a_new_question_after_an_answer_is_answered(domain: dict[str, Any]) -> None:
    tracker = conversation(
        [("what is clonazepam", "faq", "what_is", "utter_faq"),
         ("what is it prescribed for", "faq", "uses", "")]
    )  # fmt: skip
    _, messages = run(ActionAnswerFaq(), tracker, domain)
    assert messages[0]["response"] == "utter_faq/uses"
