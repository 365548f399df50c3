"""Follow-ups and repair: the conversation keeps its last topic (slot last_topic).

* ``action_follow_up``: a short follow-up ("and long term?", "how long does that
  last", "is that dangerous", "tell me more") is read with the last topic in
  mind (:func:`resolve_follow_up`); with no topic, "Did you mean", as before.
* ``action_repair``: "no, that's not what I asked": apologise, offer the next
  likeliest topics and a person; a second miss in a row leads to admissions.
* ``action_answer_faq``: a question right after an answer or a repair. A
  rephrasing that lands on the topic just given (or just rejected) is not
  answered with the same answer again: it is treated as a miss.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import FAQ_PREFIX, ActionDidYouMean, ranked_guesses
from actions.handoff import ActionHandoffAdmissions
from common.buttons import TALK_TO_A_PERSON, faq_payload, topic_titles
from common.parse import selected_topic

LAST_TOPIC = "last_topic"
MISSED_TOPIC = "missed_topic"

#: Words that name a topic outright ("what about withdrawal"), checked in order.
EXPLICIT: tuple[tuple[str, str], ...] = (
    (r"long[\s-]?term|over time|years", "long_term"),
    (r"withdraw", "withdrawal"),
    (r"prescribed|used for|what(?:'s| is) it for|treat(?:s)? what", "uses"),
    (r"side effects?|effects", "effects"),
    (r"addictive|hooked|habit forming", "is_addictive"),
    (r"overdos|too much|too many", "overdose"),
    (r"at home|home detox|by myself|on my own", "home_detox"),
    (r"stop|quit|taper|come off|get off", "stopping"),
    (r"cost|insurance|pay|price|covered", "cost_insurance"),
    (r"where|address|visit|location", "location_visiting"),
    (r"medication|medicine|meds", "mat"),
    (r"treat|rehab|program|help with|options", "treatment"),
    (r"mental health|depress|dual", "dual_diagnosis"),
    (r"family|son|daughter|husband|wife|mom|dad|friend|loved one", "family"),
    (r"how common|how many people|common", "prevalence"),
    (r"forms?|look like|tablets?|pills? look", "forms"),
    (r"how does it work|work in the brain|gaba", "how_it_works"),
    (r"why do people|abuse it|misuse it", "why_abused"),
    (r"dose|dosage|how much should", "dosage"),
)
#: Follow-ups that point back ("how long does that last", "is that dangerous").
DURATION = r"how long|last|take to"
DANGER = r"dangerous|danger|safe|risky|risk|serious|deadly|kill|harm"
SIGNS = r"signs|symptoms|how do (?:i|you) (?:know|tell)|how can (?:i|you) tell|look for"
MORE = r"more|go on|continue|explain|details|else|and\??$|what then|then what"

#: {aspect: {last topic: topic that answers it}}; "*" for any other topic.
BY_TOPIC: dict[str, dict[str, str]] = {
    "duration": {
        "withdrawal": "withdrawal",
        "stopping": "withdrawal",
        "home_detox": "withdrawal",
        "effects": "long_term",
        "long_term": "long_term",
        "treatment": "treatment",
        "mat": "mat",
        "*": "withdrawal",
    },
    "danger": {
        "withdrawal": "home_detox",
        "stopping": "home_detox",
        "home_detox": "home_detox",
        "effects": "long_term",
        "long_term": "long_term",
        "overdose": "overdose",
        "why_abused": "is_addictive",
        "is_addictive": "is_addictive",
        "dosage": "overdose",
        "*": "overdose",
    },
    "signs": {
        "overdose": "overdose",
        "withdrawal": "withdrawal",
        "stopping": "withdrawal",
        "home_detox": "withdrawal",
        "family": "family",
        "*": "signs",
    },
    "more": {
        "what_is": "how_it_works",
        "uses": "effects",
        "forms": "what_is",
        "how_it_works": "effects",
        "effects": "long_term",
        "why_abused": "is_addictive",
        "is_addictive": "signs",
        "signs": "treatment",
        "withdrawal": "home_detox",
        "home_detox": "treatment",
        "stopping": "withdrawal",
        "long_term": "treatment",
        "overdose": "signs",
        "treatment": "mat",
        "dual_diagnosis": "treatment",
        "mat": "treatment",
        "prevalence": "is_addictive",
        "family": "treatment",
        "about_center": "treatment",
        "cost_insurance": "treatment",
        "location_visiting": "about_center",
        "dosage": "stopping",
        "*": "treatment",
    },
}
ASPECTS = (("duration", DURATION), ("danger", DANGER), ("signs", SIGNS), ("more", MORE))


def resolve_follow_up(last_topic: str | None, text: str) -> str | None:
    """The topic a follow-up asks about, given the conversation's last topic."""
    lowered = " ".join(str(text or "").lower().replace("\u2019", "'").split())
    for aspect, pattern in ASPECTS[:3]:
        if re.search(pattern, lowered) and last_topic:
            table = BY_TOPIC[aspect]
            return table.get(last_topic, table["*"])
    for pattern, topic in EXPLICIT:
        if re.search(pattern, lowered):
            if topic == "withdrawal" and last_topic in ("stopping", "home_detox"):
                return topic
            return topic
    if last_topic and re.search(MORE, lowered):
        table = BY_TOPIC["more"]
        return table.get(last_topic, table["*"])
    return None


def _answer(
    dispatcher: CollectingDispatcher, domain: dict[str, Any], topic: str
) -> bool:
    response = f"{FAQ_PREFIX}{topic}"
    if response not in (domain.get("responses") or {}):
        return False
    dispatcher.utter_message(response=response)
    return True


def answered_topic(parse: dict[str, Any]) -> str | None:
    """The topic a message was answered with: faq/<topic> from the ResponseSelector."""
    if ((parse.get("intent") or {}).get("name")) != "faq":
        return None
    key = selected_topic(parse)[0] or ""
    return key.split("/", 1)[1] if key.startswith("faq/") else None


def _previous_topic(tracker: Tracker) -> str | None:
    """The conversation's last topic before the latest message: the last_topic
    slot as last set, or the topic a plain FAQ answer (utter_faq) gave."""
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                topic = answered_topic(event.get("parse_data") or {})
                if topic:
                    return topic
            seen_user = True
        elif kind == "slot" and event.get("name") == LAST_TOPIC and seen_user:
            value = event.get("value")
            return str(value) if value else None
    return None


def _previous_action(tracker: Tracker) -> str | None:
    """The last bot action before the latest message."""
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            seen_user = True
        elif kind == "action" and seen_user:
            name = event.get("name")
            if name in ("action_listen", "action_extract_slots"):
                continue
            return str(name) if name else None
    return None


def _previous_parse(tracker: Tracker) -> dict[str, Any]:
    """The parse data of the message before the latest one."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    return (users[-2].get("parse_data") or {}) if len(users) >= 2 else {}


async def _miss(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    missed: str | None,
    ranking_from: dict[str, Any],
) -> list[EventType]:
    """Apologise and offer the next likeliest topics and a person (first miss),
    or hand over to admissions (second miss in a row)."""
    if _previous_action(tracker) in ("action_repair", "action_did_you_mean") or (
        _previous_action(tracker) == "action_answer_faq"
        and tracker.get_slot(MISSED_TOPIC)
    ):
        dispatcher.utter_message(
            text="I'm sorry I keep missing your question. A person from our "
            "admissions team can help you."
        )
        events = await ActionHandoffAdmissions().run(dispatcher, tracker, domain)
        return [*events, SlotSet(MISSED_TOPIC, None)]
    titles = topic_titles()
    buttons = []
    for guess, _ in ranked_guesses(ranking_from):
        if guess != missed and guess in titles:
            buttons.append({"title": titles[guess], "payload": faq_payload(guess)})
        if len(buttons) == 2:
            break
    buttons.append(TALK_TO_A_PERSON)
    dispatcher.utter_message(
        text="Sorry, I got that wrong. Was it one of these? You can also ask "
        "it another way, or talk to a person.",
        buttons=buttons,
    )
    return [SlotSet(MISSED_TOPIC, missed)]


class ActionFollowUp(Action):
    def name(self) -> str:
        return "action_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        last = _previous_topic(tracker)
        text = (tracker.latest_message or {}).get("text") or ""
        topic = resolve_follow_up(last, text)
        if topic and _answer(dispatcher, domain, topic):
            return [SlotSet(LAST_TOPIC, topic), SlotSet(MISSED_TOPIC, None)]
        return await ActionDidYouMean().run(dispatcher, tracker, domain)


class ActionRepair(Action):
    def name(self) -> str:
        return "action_repair"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        missed = _previous_topic(tracker)
        return await _miss(
            dispatcher, tracker, domain, missed, _previous_parse(tracker)
        )


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        topic = answered_topic(message)
        given = _previous_topic(tracker)
        missed = tracker.get_slot(MISSED_TOPIC)
        if (
            topic
            and topic not in (given, missed)
            and _answer(dispatcher, domain, topic)
        ):
            return [SlotSet(LAST_TOPIC, topic), SlotSet(MISSED_TOPIC, None)]
        # The same answer again would not help: the last one missed.
        return await _miss(dispatcher, tracker, domain, topic, message)
