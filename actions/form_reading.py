"""Reading a message while the callback form waits for an answer.

The form asks for a name, a phone number, a best time and consent. Whatever the
visitor types next is read as the answer to that question, whatever the
classifier thought of it ("Zebulon Quartermaine" is not a question about GABA,
"after 6pm on weekdays please" is not an emergency). Only three things
interrupt (:func:`read_turn`):

* a clear danger message: the safety net (``rasa_server/safety_net``) fired, or
  the classifier is sure of emergency / crisis and the text is no answer to the
  question -> the emergency / crisis rules (911 / 988);
* a clear question: shaped like one, not shaped like the answer, and the
  classifier is sure it is an FAQ (or "are you a bot", "what can I ask") ->
  answered, then the form resumes;
* stop or cancel.

:func:`correction` reads "no, my number is ..." so a visitor can fix a field.
Pure functions: no Rasa, no I/O; ``actions/callback.py`` uses them.
"""

from __future__ import annotations

import re
from typing import Any

ANSWER = "answer"
EMERGENCY = "emergency"
CRISIS = "crisis"
QUESTION = "question"
STOP = "stop"

NAME_SLOT = "callback_name"
PHONE_SLOT = "callback_phone"
TIME_SLOT = "callback_time"
CONSENT_SLOT = "callback_consent"

#: Intents whose in-form rule answers and then resumes the form (data/rules/).
QUESTION_INTENTS = frozenset({"faq", "help", "bot_challenge"})
URGENT_INTENTS = frozenset({EMERGENCY, CRISIS})
#: The classifier alone must be this sure for a non-answer to interrupt.
QUESTION_CONFIDENCE = 0.5
URGENT_CONFIDENCE = 0.8
STOP_CONFIDENCE = 0.9

_STOP_RE = re.compile(
    r"^(?:(?:ok|okay|no|nah|actually|please|sorry|um+|hmm+|oh)[\s,.!]+)*"
    r"(?:stop|cancel|quit|exit|never\s?mind|nvm|forget (?:it|about it|the (?:call|callback))|"
    r"scratch that|i changed my mind|i(?:'ve| have) changed my mind|"
    r"(?:i )?(?:don'?t|do not) (?:call|bother)(?: me)?|"
    r"i (?:don'?t|do not) want (?:a |the |you to |to )?(?:call|callback|call back|phone call)"
    r"(?:\s\w+){0,3}|"
    r"(?:stop|cancel|quit|end) (?:it|this|that|the form|the callback|the call(?:back)?|"
    r"my request|the request|asking(?: me)?(?: questions)?))"
    r"(?:[\s,.!]+(?:please|thanks|thank you|now|then|it|that))*[\s.!]*$",
    re.IGNORECASE,
)

_QUESTION_START_RE = re.compile(
    r"^(?:what|what's|whats|how|how's|why|where|who|which|is|are|can|could|do|does|"
    r"did|should|would|am|isn't|aren't|will (?:it|i|you|he|she|they|this|that|my|klonopin|"
    r"clonazepam)|when (?:is|are|do|does|can|will|should|did))\b",
    re.IGNORECASE,
)

#: Words that make a text "not a name": function words and this assistant's topics.
_NOT_NAME_WORDS = frozenset(
    """
    is it if the what whats how why when where who which can could do does did you
    your me am are to of or for with not dont don't about that this there they have
    has get want need number phone call time help yes no ok okay sure thanks thank hi
    hello hey bye please should would i'm my we our us was were be been
    klonopin clonazepam benzo benzos benzodiazepine benzodiazepines withdrawal detox
    rehab addiction addicted addictive pill pills dose doses dosage overdose
    overdosing treatment insurance symptoms symptom effects side anxiety seizure
    seizures panic drug drugs medication medicine meds xanax valium ativan alcohol
    kpins pins bars taper tapering tomorrow today tonight morning evening afternoon
    anytime asap
    """.split()
)
_NAME_PREFIX_RE = re.compile(
    r"^(?:(?:my|the)\s+name(?:'s|\s+is)|name(?:'s|\s+is)|i\s+am|i'm|im|it'?s|"
    r"it\s+is|this\s+is|call\s+me|ask\s+for|you\s+can\s+call\s+me|just)\s*[:,]?\s+",
    re.IGNORECASE,
)
_NAME_RE = re.compile(r"[^\W\d_]+(?:[ .'\-]+[^\W\d_]+)*\.?")
NAME_MAX_WORDS = 6

_TIME_WORDS_RE = re.compile(
    r"\d|\b(?:now|right away|asap|a\.s\.a\.p|soon|soonest|immediately|today|tonight|"
    r"tomorrow|tmrw|tmr|tomorow|morning|mornings|morn|afternoon|afternoons|evening|"
    r"evenings|night|nights|noon|midday|lunch|lunchtime|breakfast|dinner|midnight|"
    r"weekday|weekdays|weekend|weekends|week|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|mondays|tuesdays|"
    r"wednesdays|thursdays|fridays|saturdays|sundays|anytime|any time|whenever|"
    r"whatever time|all day|any|later|early|earlier|late|after|before|between|around|"
    r"until|till|til|by|from|am|pm|a\.m|p\.m|o'?clock|hour|hours|hr|hrs|minutes|mins|"
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|half|quarter|"
    r"next|this|day|days|daytime|nighttime|work|school|shift|available|free|"
    r"no preference|doesn'?t matter|does not matter|don'?t care|flexible|either)\b",
    re.IGNORECASE,
)

_FIELD_WORDS = (
    (NAME_SLOT, r"name"),
    (PHONE_SLOT, r"(?:phone|cell|mobile)?\s*(?:number|phone|cell|mobile|no\.?)"),
    (TIME_SLOT, r"(?:best |good |a good |the best )?time(?: to call(?: me)?)?"),
)
_CORRECTION_RE = re.compile(
    r"^(?:(?:no|nope|sorry|oops|wait|actually|correction|hold on|change|fix|update)"
    r"[\s,.!:-]+)*(?:(?:it|that)(?:'s| is| was)\s+)?(?:my|the)\s+"
    r"(?P<field>"
    + "|".join(f"(?P<{slot}>{words})" for slot, words in _FIELD_WORDS)
    + r")"
    r"\s*(?:is|should be|'s|was|=|:|to|,)\s*(?:actually\s+)?(?P<value>\S.*)$",
    re.IGNORECASE,
)
_CHANGE_RE = re.compile(
    r"^(?:(?:no|sorry|oops|wait|actually)[\s,.!:-]+)*(?:please\s+)?"
    r"(?:change|fix|update|correct)\s+(?:my|the)\s+"
    r"(?P<field>"
    + "|".join(f"(?P<{slot}>{words})" for slot, words in _FIELD_WORDS)
    + r")"
    r"\s+to\s+(?P<value>\S.*)$",
    re.IGNORECASE,
)


def normalise_text(text: Any) -> str:
    return " ".join(str(text or "").replace("\u2019", "'").split())


def strip_name_prefix(text: str) -> str:
    return _NAME_PREFIX_RE.sub("", normalise_text(text)).strip(" ,;!?")


def looks_like_name(text: str) -> bool:
    """A name as people type one: letters of any script, initials, hyphens,
    apostrophes; up to six words; no question words or topic words."""
    name = strip_name_prefix(text)
    if not name or not _NAME_RE.fullmatch(name):
        return False
    words = [w for w in re.split(r"[\s.]+", name.lower()) if w]
    if not words or len(words) > NAME_MAX_WORDS:
        return False
    return not any(len(w) > 1 and w.strip("'-") in _NOT_NAME_WORDS for w in words)


def looks_like_phone(text: str) -> bool:
    return sum(ch.isdigit() for ch in text) >= 7


def looks_like_time(text: str) -> bool:
    return bool(_TIME_WORDS_RE.search(normalise_text(text)))


def looks_like_question(text: str) -> bool:
    text = normalise_text(text)
    return text.endswith("?") or bool(_QUESTION_START_RE.match(text))


def is_stop(text: str) -> bool:
    return bool(_STOP_RE.match(normalise_text(text)))


def looks_like_answer(slot: str, text: str) -> bool:
    text = normalise_text(text)
    if slot == NAME_SLOT:
        return looks_like_name(text)
    if slot == PHONE_SLOT:
        return looks_like_phone(text)
    if slot == TIME_SLOT:
        return looks_like_time(text)
    return False


def _intent(parse: dict[str, Any]) -> tuple[str, float]:
    intent = parse.get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def safety_net_level(parse: dict[str, Any]) -> str | None:
    level = (parse.get("safety_net") or {}).get("level")
    return str(level) if level in URGENT_INTENTS else None


def read_turn(slot: str | None, text: str, parse: dict[str, Any]) -> str:
    """What a message is while the form asks for ``slot``: ANSWER or an interruption.

    ``parse`` is the message's parse data (intent, confidence, ``safety_net``).
    """
    level = safety_net_level(parse)
    if level:
        return level
    text = normalise_text(text)
    intent, confidence = _intent(parse)
    if is_stop(text):
        return STOP
    if slot == CONSENT_SLOT:
        answer_shaped = intent in ("affirm", "deny")
    else:
        answer_shaped = looks_like_answer(slot or "", text)
    if slot == TIME_SLOT and answer_shaped and looks_like_question(text):
        # "can you call after 5?" is an answer; "what time do you close?" is not
        answer_shaped = intent not in QUESTION_INTENTS or confidence < 0.8
    if answer_shaped:
        return ANSWER
    if intent in URGENT_INTENTS and confidence >= URGENT_CONFIDENCE:
        return intent
    if intent == STOP and confidence >= STOP_CONFIDENCE:
        return STOP
    if intent in QUESTION_INTENTS and (
        confidence >= QUESTION_CONFIDENCE or looks_like_question(text)
    ):
        return QUESTION
    return ANSWER


def correction(text: str) -> tuple[str, str] | None:
    """``(slot, new value)`` when the visitor fixes a field: "no, my number is ..."."""
    text = normalise_text(text)
    match = _CORRECTION_RE.match(text) or _CHANGE_RE.match(text)
    if not match:
        return None
    for slot, _ in _FIELD_WORDS:
        if match.group(slot):
            value = match.group("value").strip(" ,;")
            return (slot, value) if value else None
    return None


def strip_time_prefix(text: str) -> str:
    """ "the best time is after 5" -> "after 5"."""
    fixed = correction(text)
    if fixed and fixed[0] == TIME_SLOT:
        return fixed[1]
    return normalise_text(text)
