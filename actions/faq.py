"""FAQ navigation: buttons that open one answer, and "Did you mean ...?" on low confidence."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoffAdmissions
from common.buttons import (
    INTENT_BUTTONS,
    SOMETHING_ELSE,
    TALK_TO_A_PERSON,
    faq_payload,
    topic_titles,
)
from common.parse import FAQ_INTENT, topic_ranking

FALLBACK_INTENT = "nlu_fallback"
FAQ_PREFIX = "utter_faq/"
URGENT_INTENTS = {"emergency", "crisis"}

URGENT_LINE = (
    "If you or someone else is in danger right now, call 911. "
    "For thoughts of suicide, call or text 988."
)


def _responses(domain: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = domain.get("responses") or {}
    return responses


class ActionOpenFaq(Action):
    """Answer the FAQ topic a button asked for (payload /open_faq{"faq_topic": ...})."""

    def name(self) -> str:
        return "action_open_faq"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        topic = tracker.get_slot("faq_topic") or next(
            tracker.get_latest_entity_values("faq_topic"), None
        )
        response = f"{FAQ_PREFIX}{topic}" if isinstance(topic, str) else ""
        if response in _responses(domain):
            dispatcher.utter_message(response=response)
            return [SlotSet("faq_topic", None), SlotSet("last_topic", topic)]
        else:
            dispatcher.utter_message(
                text="Sorry, I don't have an answer on that topic. "
                "Here is what I can help with.",
                buttons=[
                    {"title": "What can I ask?", "payload": "/help"},
                    TALK_TO_A_PERSON,
                ],
            )
        return [SlotSet("faq_topic", None)]


def ranked_guesses(latest_message: dict[str, Any]) -> list[tuple[str, float]]:
    """Rank what the visitor may have meant: FAQ topics and other intents.

    A FAQ topic's score is the `faq` intent's confidence times the response
    selector's confidence for that topic.
    """
    scores: dict[str, float] = {}
    ranked_topics = topic_ranking(latest_message)
    for item in latest_message.get("intent_ranking") or []:
        name, confidence = item.get("name"), float(item.get("confidence") or 0.0)
        if name == FAQ_INTENT:
            for key, topic_confidence in ranked_topics:
                if key.startswith(FAQ_INTENT + "/"):
                    guess = key.split("/", 1)[1]
                    score = confidence * topic_confidence
                    scores[guess] = max(scores.get(guess, 0.0), score)
        elif isinstance(name, str) and name != FALLBACK_INTENT:
            scores[name] = confidence
    return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)


def _button_for(guess: str) -> dict[str, str] | None:
    titles = topic_titles()
    if guess in titles:
        return {"title": titles[guess], "payload": faq_payload(guess)}
    if guess in INTENT_BUTTONS:
        title, payload = INTENT_BUTTONS[guess]
        return {"title": title, "payload": payload}
    return None


def _previous_user_intent(tracker: Tracker) -> str | None:
    """The intent of the user message before the latest one, if any."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if not seen_latest:
            seen_latest = True
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        name = intent.get("name")
        return str(name) if name else None
    return None


class ActionDidYouMean(Action):
    """Low NLU confidence: offer the two most likely topics, and "Something else".

    "Something else" leads to the honest reply (utter_not_covered) and
    admissions; "Talk to a person" stays for a visitor who wants one now.

    A second miss in a row hands the visitor to admissions (the same reply and
    stored handoff as action_handoff_admissions).
    """

    def name(self) -> str:
        return "action_did_you_mean"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        if _previous_user_intent(tracker) == "nlu_fallback":
            dispatcher.utter_message(
                text="I'm sorry, I'm still not sure I understand. "
                "A person from our admissions team can help you."
            )
            return await ActionHandoffAdmissions().run(dispatcher, tracker, domain)

        guesses = ranked_guesses(tracker.latest_message)
        buttons: list[dict[str, str]] = []
        for guess, _score in guesses:
            button = _button_for(guess)
            if button and button["payload"] != TALK_TO_A_PERSON["payload"]:
                buttons.append(button)
            if len(buttons) == 2:
                break
        buttons += [SOMETHING_ELSE, TALK_TO_A_PERSON]
        text = "Sorry, I'm not sure I understood. Did you mean one of these?"
        if any(guess in URGENT_INTENTS for guess, _ in guesses[:3]):
            text = f"{URGENT_LINE} {text}"
        dispatcher.utter_message(text=text, buttons=buttons)
        return []
