"""Crisis safety net: a lexicon/regex check for emergency and crisis language.

The assistant of The Detox Center of Los Angeles must never miss someone in danger,
so this component does not trust the trained classifier alone. It runs after
DIETClassifier / ResponseSelector and before FallbackClassifier::

    - name: rasa_server.safety_net.component.SafetyNet

and re-reads the raw text with hand-written, deterministic rules. When the text
describes a *present* emergency (overdose, too many pills, mixing with alcohol or
opioids, a seizure, not breathing, unresponsive, blue lips, hallucinations or a
racing heart after stopping) or a crisis (suicidal thoughts, wanting to die,
self-harm, hopelessness; about the visitor or someone else), the intent is set to that level with confidence 1.0: overridden when the
classifier said something else, confirmed when it said the same level with a
confidence low enough for the FallbackClassifier to discard it.

Design (see ``assess``):

* The text is capped at ``MAX_CHARS``, normalised (case, accents, apostrophes,
  "o.d." -> "od", stretched letters, punctuation) and split into sentences.
* Every sentence gets a small *context*: is it a question, does it mention a
  person (I / my son / she ...), an acute marker (right now, what do I do ...),
  a distant past (last year, used to ...), a chronic pattern (every day ...),
  or is it hypothetical (can I ..., what happens if ...)?
* Every ``Rule`` has a *gate* saying how much context it needs:
  ``ALWAYS`` (intrinsically personal and present: "not breathing", "kill myself"),
  ``STATEMENT`` (fires unless the sentence is a generic or hypothetical question:
  "he is having a seizure" vs "can withdrawal cause seizures"), ``PERSONAL``,
  ``ACUTE`` and ``PERSONAL_ACUTE`` (bare topics such as "overdose" only count with
  an acute marker such as "right now" or "what do I do").
* Negation ("I'm not suicidal") and, for some rules, fear-of phrasing ("scared of
  having a seizure") are checked in a short window before the match. Emergency
  rules are also silenced by a distant past ("had a seizure two years ago").
* Emergency beats crisis: "I took all my pills because I want to die" is an
  emergency (911), not only a crisis (988).

When in doubt the rules prefer recall, especially for crisis language.
``assess`` is pure Python and usable without a running Rasa.

Layout: :mod:`.vocabulary` (words and levels), :mod:`.text` (normalisation and
sentence context), this module (the rules and :func:`assess`) and
:mod:`.component` (the Rasa NLU component).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rasa_server.safety_net.text import (
    Sentence,
    split_sentences,
)
from rasa_server.safety_net.vocabulary import (
    ACUTE,
    ALWAYS,
    BENZO,
    BENZO_RE,
    BREATH,
    CLAUSE_BREAKS,
    CRISIS,
    DEPRESSANT_RE,
    EMERGENCY,
    FEAR_OF_RE,
    FEAR_RE,
    LEVEL_RANK,
    NEGATION_IDIOMS_RE,
    NEGATION_WINDOW,
    NEGATION_WORDS,
    PERSONAL,
    PERSONAL_ACUTE,
    RELATION,
    SEIZURE,
    SELF,
    STATEMENT,
    SUBJECT,
    SUICIDE,
    UNNEGATE_AFTER_RE,
    alt,
    rx,
)

# --------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------

Span = tuple[int, int]
Finder = Callable[[Sentence], Iterator[Span]]


@dataclass(frozen=True)
class Rule:
    """A named check for one danger signal.

    Attributes:
        name: Stable identifier, reported as ``matched``.
        level: ``emergency`` or ``crisis``.
        finder: Yields candidate (start, end) spans in a sentence's text.
        gate: How much sentence context the rule needs (see ``Sentence.passes``).
        negatable: Cancelled by a negation just before the match ("not suicidal").
        past_sensitive: Cancelled by a distant past without a recent marker.
        fear_of: Cancelled by fear-of / prevention phrasing before the match.
        fear: Cancelled by any fear phrasing before the match (stated intents).
    """

    name: str
    level: str
    finder: Finder
    gate: str = STATEMENT
    negatable: bool = False
    past_sensitive: bool = False
    fear_of: bool = False
    fear: bool = False

    def first_match(self, sentence: Sentence) -> str | None:
        """Return the matched snippet if the rule fires on ``sentence``."""
        if not sentence.passes(self.gate):
            return None
        if self.past_sensitive and sentence.distant_past and not sentence.recent:
            return None
        for start, end in self.finder(sentence):
            before = sentence.text[:start]
            if self.negatable and _negated(before, sentence.text[end:]):
                continue
            if self.fear_of and FEAR_OF_RE.search(before):
                continue
            if self.fear and FEAR_RE.search(before):
                continue
            return sentence.text[start:end].strip()
        return None


def _negated(before: str, after: str) -> bool:
    """Whether a negation cue sits in the few words before a match."""
    if UNNEGATE_AFTER_RE.search(after):
        return False
    words = NEGATION_IDIOMS_RE.sub(" , ", before).split()
    window = words[-NEGATION_WINDOW:]
    for index, word in enumerate(reversed(window)):
        if word in CLAUSE_BREAKS:
            return False
        if word in NEGATION_WORDS or (word == "no" and index == 0):
            return True
        if word == "longer" and index + 1 < len(window) and window[-index - 2] == "no":
            return True
    return False


def _regex(*parts: str) -> Finder:
    """A finder yielding every match of the alternation of ``parts``."""
    pattern = rx(*parts)

    def find(sentence: Sentence) -> Iterator[Span]:
        for match in pattern.finditer(sentence.text):
            yield match.span()

    return find


# --- quantity of pills --------------------------------------------------------------

NUMBER_WORDS: dict[str, float] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "dozen": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
}
#: Pills counted at once that make "I took N" an emergency.
MIN_PILLS = 5
#: Milligrams of clonazepam at once that make "I took N mg" an emergency.
MIN_MG = 5.0
TOOK_STRONG = r"(?:took|taken|tooken|swallowed|popped|downed|snorted|chewed|crushed)"
WEAK_VERBS = frozenset({"had", "did", "used", "ate", "done"})
TOOK_WEAK = alt(*sorted(WEAK_VERBS))
_QTY_FILLER = (
    r"(?:(?:like|about|around|maybe|probably|prob|almost|over|at least|nearly|roughly|"
    r"close to|more than|upwards of|a|an|another|my|his|her|the|last)\s+)*"
)
_TOOK_NUMBER_RE = re.compile(
    r"\b(?P<verb>"
    + TOOK_STRONG
    + "|"
    + TOOK_WEAK
    + r")\s+"
    + _QTY_FILLER
    + r"(?P<qty>\d+(?:\.\d+)?|"
    + alt(*NUMBER_WORDS)
    + r")\s*"
    + r"(?P<mg>mgs?|milligrams?)?\b"
)
_NOT_PILLS_RE = re.compile(
    r"^\s*(?:years?|yrs?|months?|weeks?|days?|hours?|hrs?|minutes?|mins?|seconds?|"
    r"secs?|times?|am|pm|oclock|o clock|beers?|drinks?|shots?|glasses|cups?|steps|"
    r"kids|dollars|bucks|percent|miles?|lbs?|pounds|classes|tries|attempts|days)\b"
)
_PILL_NOUN_RE = re.compile(
    r"^\s*(?:of\s+)?(?:(?:my|his|her|their|the|those|these)\s+)?"
    r"(?:" + BENZO + r"|them|it|those|these)\b"
)
_QUANTITY_RE = re.compile(
    r"\b(?P<verb>"
    + TOOK_STRONG
    + "|"
    + TOOK_WEAK
    + r"|(?:after|from|since) (?:taking|swallowing|popping|eating|downing))\s+"
    r"(?:like\s+|about\s+|maybe\s+|probably\s+|prob\s+|just\s+|accidentally\s+|"
    r"accidently\s+)*"
    + alt(
        r"(?:way\s+|far\s+|a\s+lot\s+|like\s+)?t(?:oo|o|ooo)\s+(?:many|much|mutch|manny)",
        r"(?:the|a|my|his|her|their) whole",
        r"(?:an|the|my|his|her) entire",
        r"all (?:of )?(?:my|his|her|their|the|them|those|these|it|of them)",
        r"(?:them|it|those|these) all",
        r"the rest of (?:my|his|her|their|the)",
        r"(?:a|the|an entire|a full|my|his|her|their|half a) (?:bottle|script|"
        r"prescription|pack|strip|blister pack|months supply|month supply|"
        r"weeks supply|week supply)(?= of (?:my |his |her |their )?(?:"
        + BENZO
        + r")\b|$| at once| in one go)",
        r"everything (?:in (?:the|my|his|her|their) (?:bottle|pill bottle|cabinet|script|"
        r"prescription|pill box|pillbox)|(?:i|he|she|they) had left)",
        r"half (?:of )?(?:a|the|my|his|her) (?:bottle|script|prescription|pack)",
        r"(?:a |my |his |her )?double dose",
        r"(?:my|his|her|a) (?:\w+ )?(?:dose|doses|pills?|meds|" + BENZO + r") twice",
        r"twice (?:my|his|her|the) dose",
        r"(?:\w+ )?times (?:my|his|her|the) (?:dose|usual|prescription)",
        r"more than (?:i|he|she|they|we) (?:should|was|were|am|is|are|meant|"
        r"shouldve)",
        r"(?:way |a lot |much |far )?more (?:\w+ ){0,3}?than (?:i|he|she|they|we) "
        r"(?:should|was supposed|were supposed|meant|shouldve|am supposed|"
        r"is supposed)",
        r"more than (?:prescribed|the prescribed|my prescribed|recommended|usual|"
        r"normal|my usual|my normal|i was prescribed)",
        r"(?:a lot|alot|a bunch|a handful|handful|a fistful|a ton|tons|a shit ton|"
        r"loads)(?= (?:of )?(?:(?:my|his|her|their|the|those|these) )?"
        r"(?:" + BENZO + r"|them|it|those|these)\b| at once| in one go|$)",
    )
    + r"\b"
)


def _find_took_too_many(sentence: Sentence) -> Iterator[Span]:
    """Past-tense intake of an obviously excessive quantity ("took 20 kpins")."""
    if sentence.chronic and not sentence.recent:
        return
    text = sentence.text
    for match in _QUANTITY_RE.finditer(text):
        rest = text[match.end() :]
        if match.group("verb") in WEAK_VERBS and not (
            _PILL_NOUN_RE.search(rest) or not rest.strip()
        ):
            continue
        yield match.span()
    for match in _TOOK_NUMBER_RE.finditer(text):
        qty_text = match.group("qty")
        qty = NUMBER_WORDS.get(qty_text) or float(qty_text)
        rest = text[match.end() :]
        if _NOT_PILLS_RE.search(rest):
            continue
        weak = match.group("verb") in WEAK_VERBS
        if weak and not match.group("mg") and not _PILL_NOUN_RE.search(rest):
            continue
        if match.group("mg"):
            if qty >= MIN_MG:
                yield match.span()
        elif qty >= MIN_PILLS:
            yield match.span()


# --- mixing with other depressants ----------------------------------------------------

_MIX_VERB_RE = rx(r"mixed", r"mixing", r"mixin", r"combined", r"combining")
_USE_PAST_RE = rx(
    r"took",
    r"taken",
    r"popped",
    r"swallowed",
    r"snorted",
    r"did",
    r"had",
    r"drank",
    r"drunk",
    r"smoked",
    r"shot up",
    r"injected",
    r"been drinking",
    r"was drinking",
    r"were drinking",
    r"is drinking",
    r"im drinking",
    r"am drinking",
    r"hes drinking",
    r"shes drinking",
)
_MIX_EXCLUDE_RE = rx(
    r"alcohol (?:withdrawal|detox|use disorder|addiction|dependence|abuse|problem)",
    r"for (?:my |his |her |their )?(?:drinking|alcohol)",
    r"(?:to|help) (?:me |him |her )?(?:stop|quit|cut down|come off|get off) "
    r"(?:drinking|alcohol)",
    r"(?:quit|stopped) drinking",
    r"sober",
    r"(?:dont|do not|didnt|never|havent|not) (?:drink|drinking|drank|had a drink|"
    r"mix|mixed)",
    r"no alcohol",
    r"without (?:alcohol|drinking)",
)


def _find_mixed(sentence: Sentence) -> Iterator[Span]:
    """A benzo taken together with alcohol, opioids or other depressants."""
    text = sentence.text
    if _MIX_EXCLUDE_RE.search(text):
        return
    if (sentence.chronic or sentence.distant_past) and not sentence.recent:
        return
    benzo_spans = [m.span() for m in BENZO_RE.finditer(text)]
    depressant = next(
        (
            m
            for m in DEPRESSANT_RE.finditer(text)
            if not any(s <= m.start() < e for s, e in benzo_spans)
        ),
        None,
    )
    if depressant is None:
        return
    mix_verb = _MIX_VERB_RE.search(text)
    if mix_verb and (sentence.personal or mix_verb.group().endswith("ed")):
        yield min(mix_verb.start(), depressant.start()), max(
            mix_verb.end(), depressant.end()
        )
        return
    use = _USE_PAST_RE.search(text)
    if use and benzo_spans:
        spans = [use.span(), depressant.span(), *benzo_spans]
        yield min(s for s, _ in spans), max(e for _, e in spans)


# --- rule table ---------------------------------------------------------------------

#: Emergencies first, in priority order; the first firing rule names the match.
RULES: tuple[Rule, ...] = (
    # ---- emergency: someone is physically in danger now -----------------------------
    Rule(
        "not_breathing",
        EMERGENCY,
        _regex(
            r"(?<!\byou )(?<!\byoure )(?<!\bu )"
            r"(?:not|isnt|is not|aint|wasnt|stopped|cant|can not|cannot|cnt|couldnt|"
            r"could not|barely|hardly|wont|no longer)\s+"
            r"(?:even\s+|really\s+|hardly\s+|properly\s+|fully\s+|seem to\s+|"
            r"seem to be\s+|seems to be\s+)?" + BREATH,
            r"cant catch (?:my|his|her|their) breath",
        ),
        gate=ALWAYS,
        past_sensitive=True,
    ),
    Rule(
        "unresponsive",
        EMERGENCY,
        _regex(
            r"(?<!\bi )(?<!\bi just )(?:wont|will not|wnt|isnt|is not|aint|doesnt|"
            r"didnt|(?<!\band )(?<!\bto )not)\s+(?:\w+\s+)?"
            r"(?:wake|waking|wakin|woke|waken)(?:\s+up)?",
            r"(?:cant|can not|cannot|couldnt|unable to|trying to|tried to|try to|"
            r"cant seem to)\s+(?:get\s+)?(?:wake|waken|rouse)\s+(?!up\b)\w+",
            r"cant get (?:him|her|them|my \w+) to (?:wake|respond)",
            r"cant keep (?:him|her|them|my \w+) awake",
            r"(?:hard|difficult|impossible) to wake(?: (?:him|her|them|up))?",
            r"no pulse",
            r"cant find (?:a|his|her|their) pulse",
        ),
        gate=ALWAYS,
        past_sensitive=True,
    ),
    Rule(
        "not_responding",
        EMERGENCY,
        _regex(
            r"unresponsive",
            r"(?:not|isnt|is not|arent|stopped|wasnt) (?:responding|responsive|reacting)",
            r"wont respond",
            r"unconscious",
            r"passed out",
            r"collapsed",
            r"not moving",
            r"out cold",
            r"barely (?:conscious|awake)",
        ),
        gate=PERSONAL,
        past_sensitive=True,
        fear_of=True,
    ),
    Rule(
        "blue_lips",
        EMERGENCY,
        _regex(
            r"(?:lips?|face|fingers?|fingertips|finger tips|nails|skin|mouth|toes)\s+"
            r"(?:\w+\s+){0,2}?(?:blue|purple|gr[ae]y|bluish|blueish)",
            r"(?:turning|turned|going|gone|looks?|looking)\s+(?:\w+\s+)?"
            r"(?:blue|bluish|purple)",
            r"blue (?:lips|face|fingers)",
            r"(?:hes|shes|he is|she is|theyre|they are|(?:my |his |her )?"
            + RELATION
            + r" is)\s+(?:all |so |kinda |a bit |turning |going |looking )?"
            r"(?:blue|bluish|purple)",
        ),
        gate=STATEMENT,
        past_sensitive=True,
    ),
    Rule(
        "seizure_now",
        EMERGENCY,
        _regex(
            r"(?:having|had|has had|have had|is having|am having|started having|"
            r"keeps having|keep having|been having|going into|went into|gone into|"
            r"in the middle of|just had|got|getting)\s+(?!no\b|any\b|never\b)"
            r"(?:a\s+|an\s+|another\s+|multiple\s+|some\s+|two\s+|2\s+|three\s+|3\s+|"
            r"bad\s+|big\s+|grand mal\s+|full\s+|like\s+|what looks like\s+)*"
            r"(?:\w+\s+)?" + SEIZURE,
            r"seizing",
            r"seizin",
            r"siezing",
            r"convulsing",
            r"convulsed",
            r"(?:shaking|jerking|twitching) (?:uncontrollably|all over|violently)",
            r"(?:about to|gonna|going to) have (?:a\s+)?" + SEIZURE,
        ),
        gate=STATEMENT,
        past_sensitive=True,
        fear_of=True,
    ),
    Rule(
        "is_this_an_overdose",
        EMERGENCY,
        _regex(
            r"is (?:this|that|he|she|it) (?:an? |having an? )?"
            r"(?:overdose|od|overdosing|oding|seizure)",
            r"is this an emergency",
        ),
        gate=ALWAYS,
    ),
    Rule(
        "overdosed",
        EMERGENCY,
        _regex(
            r"overdosed",
            r"oded",
            r"over dosed",
            r"(?<!\babout )(?<!\bof )(?<!\bto )"
            r"(?:overdosing|overdosin|oding|odeing|over dosing)",
            r"overdozed",
            r"ovrdosed",
            r"(?<!\bcan )(?<!\bcould )(?<!\bwill )(?<!\bwould )(?<!\bmight )"
            r"(?<!\bmay )(?<!\bshould )(?<!\bto )(?<!\bif )(?<!\bwhen )(?<!\bu )"
            + SUBJECT
            + r"\s+(?:just\s+|prob\s+|probably\s+|might have\s+|might of\s+|"
            r"may have\s+|must have\s+|think\s+|thinks\s+|accidentally\s+|"
            r"accidently\s+)?(?:od|overdose)",
            r"(?:had|having|has had|is having|am having|in) an? (?:overdose|od)",
        ),
        gate=STATEMENT,
        past_sensitive=True,
        fear_of=True,
    ),
    Rule(
        "took_on_purpose",
        EMERGENCY,
        _regex(
            r"(?:took|swallowed|popped|oded|overdosed|downed)(?:\s+\w+){0,7}\s+"
            r"on purpose",
        ),
        gate=ALWAYS,
    ),
    Rule(
        "took_too_many",
        EMERGENCY,
        _find_took_too_many,
        gate=ALWAYS,
        negatable=True,
        past_sensitive=True,
    ),
    Rule("mixed_depressants", EMERGENCY, _find_mixed, gate=STATEMENT),
    Rule(
        "dying",
        EMERGENCY,
        _regex(
            r"(?:i think|i feel like|feel like|feels like|pretty sure|im scared|"
            r"im afraid|scared|afraid|worried)\s+(?:that\s+)?"
            r"(?:i|im|i am|he|hes|he is|she|shes|she is|they|theyre|they are|"
            r"my \w+(?: is)?)\s+(?:is\s+|am\s+|are\s+)?"
            r"(?:dying|going to die|gonna die|about to die)",
            r"(?:im|i am|hes|he is|shes|she is|theyre|they are)\s+"
            r"(?:literally\s+|actually\s+|really\s+)?dying"
            r"(?!\s+(?:to|for|of laughter|laughing|lol|lmao|inside|of boredom))",
            r"am i dying",
            r"is (?:he|she|my \w+) dying",
        ),
        gate=STATEMENT,
    ),
    Rule(
        "hallucinating",
        EMERGENCY,
        _regex(
            r"hall?ucinat(?:ing|ed|in|e)",
            r"(?:seeing|hearing|see|hear|saw|heard)\s+(?:things|stuff|bugs|spiders|"
            r"voices|shadows)(?:\s+that\s+(?:arent|isnt|werent|are not|is not)"
            r"\s+there)?",
            r"(?:having|had|been having|started having|getting|experiencing|has|"
            r"have)\s+(?:\w+\s+)?hall?ucinations?",
            r"delirious",
            r"psychotic",
            r"in psychosis",
            r"talking to (?:people|someone|things) (?:who|that) (?:isnt|arent) there",
        ),
        gate=STATEMENT,
        past_sensitive=True,
        fear_of=True,
    ),
    Rule(
        "racing_heart",
        EMERGENCY,
        _regex(
            r"heart\s+(?:is\s+|keeps\s+|has been\s+|been\s+|s\s+|feels like its\s+|"
            r"just\s+|wont stop\s+|keeps on\s+|rate is\s+)*"
            r"(?:racing|pounding|beating (?:so |really |very |too |super |crazy |"
            r"insanely )?(?:fast|hard|weird|irregular)|skipping(?: beats)?|"
            r"going crazy|out of (?:my|his|her) chest|"
            r"(?:about to|going to|gonna) (?:explode|burst|beat out)|fluttering|"
            r"jumping)",
            r"chest (?:pains?|hurts|is (?:tight|hurting)|tightness|pressure|"
            r"feels tight)",
            r"(?:pulse|heart rate) (?:is\s+)?(?:racing|\d{3}|over \d{3}|super high|"
            r"really high|through the roof)",
            r"(?:bp|blood pressure) (?:is\s+)?(?:through the roof|super high|"
            r"really high|sky high|\d{3} over)",
        ),
        gate=STATEMENT,
        past_sensitive=True,
        fear_of=True,
    ),
    Rule(
        "racing_heart_noun",
        EMERGENCY,
        _regex(
            r"(?:racing|pounding|rapid|irregular)\s+(?:heart|heartbeat|heart beat|pulse)",
            r"palpitations",
        ),
        gate=PERSONAL,
        past_sensitive=True,
        fear_of=True,
    ),
    Rule(
        "breathing_trouble",
        EMERGENCY,
        _regex(
            r"(?:trouble|difficulty|difficulties|hard time|struggling|struggle|"
            r"labou?red|shallow|slow|slowed|weird|funny|irregular|short(?:ness)? of)"
            r"\s+(?:\w+\s+)?" + BREATH,
            r"breathing\s+(?:is\s+|got\s+|has gotten\s+|seems\s+|sounds\s+|so\s+|"
            r"really\s+|very\s+|super\s+|too\s+|all\s+)*"
            r"(?:slow|slowed|shallow|weird|funny|labou?red|raspy|irregular|strange)",
            r"gasping",
            r"hard to " + BREATH,
            r"choking on (?:\w+\s+)?(?:vomit|puke|throw up|throwup)",
            r"foaming",
            r"(?:vomiting|throwing up|puking) blood",
        ),
        gate=STATEMENT,
        past_sensitive=True,
        fear_of=True,
    ),
    Rule(
        "call_911",
        EMERGENCY,
        _regex(
            r"(?:call|calling|dial|dialing|phone)\s+(?:911|9 1 1|nine one one|"
            r"an ambulance|ambulance|the ambulance|paramedics|emts?|poison control|"
            r"poison help)",
            r"(?:take|bring|rush|drive|get)\s+(?:him|her|them|me|my\s+\w+|us)\s+to\s+"
            r"(?:the\s+|an?\s+)?(?:er|e r|emergency room|emergency|hospital|"
            r"urgent care)(?! (?:for|to) (?:detox|treatment|rehab))",
            r"^(?:emergency|911|sos|mayday|ambulance)(?: \w+)?$",
            r"(?:need|send|get|want) (?:an? |the )?(?:ambulance|paramedics)",
        ),
        gate=ALWAYS,
    ),
    Rule(
        "emergency_statement",
        EMERGENCY,
        _regex(
            r"go to (?:the\s+)?(?:er|emergency room|hospital)"
            r"(?! (?:for|to) (?:detox|treatment|rehab))",
            r"(?:this|it) is an emergency",
            r"its an emergency",
            r"medical emergency",
        ),
        gate=STATEMENT,
    ),
    Rule(
        "child_ingestion",
        EMERGENCY,
        _regex(
            r"(?:toddler|baby|infant|kid|child|little one|grandkid|grandchild|"
            r"(?:\d+|one|two|three|four|five|six) (?:year|yr|month) old)s?\s+"
            r"(?:got into|got ahold of|got a hold of|found|ate|swallowed|chewed|"
            r"might have (?:eaten|swallowed|taken)|may have (?:eaten|swallowed|taken))"
            r"\s+(?:\w+\s+){0,4}?(?:" + BENZO + r"|them)",
        ),
        gate=ALWAYS,
    ),
    Rule(
        "overdose_topic",
        EMERGENCY,
        _regex(
            r"(?<!\bgonna )(?<!\bwanna )(?<!\bto )(?:overdoses?|ods?|o d)",
        ),
        gate=ACUTE,
        past_sensitive=True,
        fear_of=True,
    ),
    Rule(
        "symptom_topic",
        EMERGENCY,
        _regex(SEIZURE, r"hall?ucinations?", r"psychosis"),
        gate=PERSONAL_ACUTE,
        past_sensitive=True,
        fear_of=True,
    ),
    Rule(
        "spanish_emergency",
        EMERGENCY,
        _regex(
            r"no (?:respira|puede respirar|puedo respirar|despierta|reacciona|"
            r"responde)",
            r"(?:tuvo|tiene|le dio|esta teniendo) (?:una )?(?:sobredosis|convulsion)",
            r"convulsionando",
            r"tom(?:o|e) (?:muchas|demasiadas|todas (?:las|mis|sus)) pastillas",
        ),
        gate=ALWAYS,
    ),
    # ---- crisis: suicidal thoughts, self-harm, hopelessness --------------------------
    Rule(
        "kill_self",
        CRISIS,
        _regex(
            r"(?:kill|kil|kll|off|unalive|hang|hung|shoot|shot|drown|poison|end|hurt|"
            r"harm|cut|burn|starve)(?:s|ed|d|ing|ting|ning)?\s?" + SELF,
            r"kms",
            r"kmsf",
            r"unalive",
            r"sewer ?slide",
            r"take (?:my|his|her|their) (?:own )?life",
            r"end(?:ing)? (?:it all|my life|his life|her life|their life|things)",
            r"slit (?:my|his|her|their) wrists?",
        ),
        gate=STATEMENT,
        negatable=True,
    ),
    Rule(
        "method_seeking",
        CRISIS,
        _regex(
            r"how (?:to|do i|can i|could i|would i|should i) (?:kill (?:my|your)\s?self|"
            r"die|end it|end my life|commit suicide|overdose on purpose|"
            r"od on purpose)",
            r"how (?:many|much)(?:\s+\w+){0,6}\s+(?:to|would|will|could|does it take "
            r"to|it take to|do i need to|to make me)\s+(?:kill (?:me|my\s?self|you|"
            r"your\s?self|a person|someone)|die|end it|never wake up|not wake up)",
            r"(?:painless|easiest|quickest|fastest|best|surest) (?:way|ways|method) to "
            r"(?:die|kill|end it|od|overdose)",
            r"(?:suicide|goodbye) (?:note|letter)",
            r"jump(?:ing)? (?:off|from) (?:a|the|this|that) (?:bridge|building|roof|"
            r"cliff|balcony|overpass)",
            r"(?:step|walk|jump)(?:ing)? in front of (?:a|the) (?:train|bus|car|truck)",
            r"(?:put|putting) a gun to (?:my|his|her) head",
            r"blow (?:my|his|her) brains out",
        ),
        gate=ALWAYS,
    ),
    Rule(
        "suicidal",
        CRISIS,
        _regex(SUICIDE),
        gate=STATEMENT,
        negatable=True,
    ),
    Rule(
        "self_harm",
        CRISIS,
        _regex(
            r"self[\s-]?(?:harm|harming|injury|injure|injuring|mutilat\w*)",
            r"selfharm\w*",
            r"(?:been|is|was|started|start|keep|keeps|still|am|im|hes|shes|"
            r"caught (?:him|her|them)|found out (?:he|she|they)s?)\s+cutting"
            r"(?:\s+again)?(?!\s+(?:back|down|out|off|my|his|her|the|dose|doses|pills?|"
            r"tabs?|tablets?|it|them|in half|bars?|klon\w*|meds|corners|class|school|"
            r"people|ties|hair|grass|wood|weight|carbs|sugar|alcohol))",
            r"cutting again",
            r"cut (?:my|his|her|their) (?:wrists?|arms?|legs?|skin|thighs?)",
            r"cuts on (?:my|his|her|their) (?:wrists?|arms?|legs?|thighs?)",
        ),
        gate=STATEMENT,
        negatable=True,
    ),
    Rule(
        "want_to_die",
        CRISIS,
        _regex(
            r"(?:want|wanna|wants|wanted|wanting|wish|wishes|wishing|ready|trying|try|"
            r"tried|plan|planning|plans|decided|deserve|deserves|hope|hoping|"
            r"would rather|rather|need|going|gonna|about|should)\s+(?:to\s+|2\s+)?"
            r"(?:just\s+|really\s+|finally\s+|honestly\s+|literally\s+|simply\s+)?"
            r"(?:die|be dead|end it(?: all)?|end things|end everything|"
            r"end (?:my|his|her|their) life|not exist|not be alive|not be here|"
            r"disappear forever|sleep forever|go to sleep forever|never wake up|"
            r"(?:go to )?sleep and (?:not|never) wake(?: up)?|"
            r"not wake up|stop (?:living|existing)(?! like| this way| in| with)|"
            r"be gone|leave this world|"
            r"leave this earth|do it tonight)",
            r"want (?:it|this|everything|it all|this all) (?:all )?to (?:end|be over)"
            r"(?: forever| for good| permanently)?",
            r"want out of (?:this life|life|this world)",
            r"feel(?:ing|s)? like (?:ending it|ending things|ending (?:my|his|her) life|"
            r"ending it all|dying|killing " + SELF + r")",
            r"(?:thinking|thought|thinks|think|talking|talks|talked|talk|"
            r"dreaming|fantasi[sz]ing) (?:about|of) (?:ending it|ending things|"
            r"ending (?:my|his|her|their) life|dying|death|killing " + SELF + "|"
            r"not (?:being here|being around|waking up|existing|being alive)|"
            r"taking (?:my|his|her|their) (?:own )?life|hurting " + SELF + ")",
        ),
        gate=STATEMENT,
        negatable=True,
    ),
    Rule(
        "hopeless",
        CRISIS,
        _regex(
            r"(?:no|zero|not any|isnt any|is no|theres no) (?:reason|point|purpose) "
            r"(?:to|in|of|for) (?:live|living|life|go on|going on|keep going|"
            r"being alive|being here|wake up|waking up|stay alive|staying alive|"
            r"carry on|try anymore|trying anymore|any of this)",
            r"(?:no|zero|isnt any|is no|theres no) point (?:to|in|of) (?:anything|"
            r"any of it)(?: anymore)?",
            r"nothing (?:left )?to live for",
            r"(?:no|lost the|lost my|lost all) will to live",
            r"not worth living",
            r"lifes? (?:isnt|is not|aint|not|really not) worth (?:living|it)",
            r"better off (?:dead|without me|without him|without her|gone|"
            r"if i (?:was|were|wasnt|werent) (?:gone|here|around))",
            r"wish (?:i|he|she) (?:was|were|had|could be) (?:dead|gone|"
            r"never (?:been )?born|not (?:alive|born|here))",
            r"wish i (?:could )?(?:just )?(?:die|disappear|not wake up|never wake up|"
            r"wouldnt wake up)",
            r"(?:cant|can not|cannot) (?:go on(?! (?:vacation|a |the |trips?|holiday|with|"
            r"my |dates|walks|runs|medication|meds))|keep going(?! to\b| back| out)|"
            r"do this anymore|do it anymore|take (?:it|this) (?:anymore|any more|"
            r"any longer)|take anymore|live like this|handle (?:it|this|life) anymore)",
            r"giv(?:e|ing) up on (?:life|living|everything)",
            r"(?:tired|sick|done) (?:of|with) (?:living|life|being alive|existing|"
            r"being here)"
            r"(?! with)",
            r"done living",
            r"(?:whats|what is) the point (?:of|in) (?:even )?(?:living|life|anything|"
            r"going on|trying|being alive|being here)",
            r"whats the point anymore",
            # passive suicidal thoughts (988 Lifeline, AFSP, NIMH warning signs):
            # no point, wanting it all to stop, not waking up, being a burden,
            # nobody would notice, better off without me
            r"(?:no|the) point (?:to |in |of )?(?:anything |it |any of it |living |"
            r"life |going on |trying )?anymore",
            r"(?:dont|cant|do not|cannot) see the point$",
            r"nothing matters anymore",
            r"(?:life|living|my life|existence) (?:is|feels|seems) (?:so |completely |"
            r"totally |just )?(?:pointless|meaningless)",
            r"(?:life|my life) has no (?:point|purpose|meaning)",
            r"why (?:even )?(?:bother|keep) (?:living|going on|being alive)",
            r"(?:want|wants|wanna|need|needs|wish|just want) (?:everything|it all|"
            r"all of (?:it|this)|this all|all this|the world) (?:all )?to (?:stop|end|"
            r"be over|go away)",
            r"wants? (?:the|this) pain to (?:stop|end) (?:forever|for good|"
            r"permanently)",
            r"(?:wish|wishes|wishing|hope|hoping|pray|want|wanna)(?: i| he| she)?"
            r"(?: could| would)?(?: to)?(?: just)? (?:go to sleep|fall asleep|sleep) and "
            r"(?:not|never) wake(?: up)?",
            r"(?:sleep|asleep) and (?:not|never) (?:waking|wake)(?: up)? (?:sounds|"
            r"seems|would be) (?:nice|good|great|peaceful|better)",
            r"(?:wouldnt|would not|dont|do not) (?:mind|care) if (?:i|he|she) "
            r"(?:didnt|did not|never|dont|wont|wouldnt) (?:wake|woke)(?: up)?",
            r"(?:dont|do not|wouldnt|would not) care (?:if|whether) (?:i|he|she) "
            r"(?:live|lives|die|dies|died|wake up)",
            r"wish(?:es|ed|ing)? (?:i|he|she|they) (?:could |would )?(?:just )?"
            r"(?:die|disappear|not wake up|never wake up|wouldnt wake up|"
            r"didnt wake up)",
            r"(?:hoping|hope|praying|pray) (?:i|he|she) (?:dont|doesnt|never|wont|"
            r"will not|doesnt ever) wake up",
            r"(?:dont|do not) (?:really )?(?:want|wanna) (?:to )?do (?:this|any of "
            r"this|this life|life) (?:anymore|any more)",
            r"cant keep living like this",
            r"better off (?:not existing|not being here|not alive|not around)",
            r"(?:be|is|are) (?:all )?(?:happier|fine|better|easier)(?: off)? "
            r"without (?:me|him|her)",
            r"(?:happier|fine|better|easier)(?: off)? if (?:i|he|she) (?:was|were|"
            r"wasnt|werent) (?:dead|gone|here|around|alive)",
            r"if (?:i|he|she) (?:was|were) (?:gone|dead|not here|not around)"
            r"(?: \w+){0,2} (?:would|will) be (?:happier|fine|better|easier)",
            r"if (?:i|he|she) (?:died|disappeared|was gone|were gone)(?: \w+)?"
            r" (?:nobody|no one|noone) (?:would|will) (?:care|notice|miss (?:me|him|"
            r"her))",
            r"(?:nobody|no one|noone)(?: \w+){0,2}? (?:miss|notice|care|mourn)(?: "
            r"about)?(?: me| him| her)? (?:if|when) (?:i|he|she) (?:was|were|am|is|"
            r"died|disappeared|left)\b",
            r"(?:nobody|no one|noone) (?:would|will|is going to|gonna) "
            r"(?:even |really |ever )?miss (?:me|him|her)\b",
            r"(?:hes|shes|he is|she is|he feels like|she feels like|feels like|"
            r"they feel like) (?:such |just |only |nothing but )?a burden",
            r"giving (?:all )?(?:my|his|her) (?:stuff|things|belongings) away",
            r"(?:letters?|notes?|messages?) (?:to say|saying) goodbye",
            r"so (?:that )?(?:i|he|she) (?:could|can|would|will|wont|dont|doesnt|"
            r"wouldnt|never)(?: have to)? (?:die|not wake up|never wake up|wake up)",
            r"(?:took|swallowed|popped|downed|overdosed|oded)(?: \w+){0,8} to end "
            r"(?:it|this|things|it all|my life)",
            r"(?:dont|do not|doesnt|does not|didnt|not)\s+(?:even\s+|really\s+)?"
            r"(?:want|wanna|wanting|wish)\s+(?:to\s+)?(?:live|be alive|exist|"
            r"be here|wake up|go on|keep living|keep going|be around|"
            r"be (?:on|in) this (?:earth|world|planet))",
            r"(?:hope|hoping|wish|pray) (?:i|he|she) (?:dont|doesnt|never|wont) "
            r"wake up",
            r"no way out",
            r"(?:dont|cant|do not|cannot|dont even) see (?:a|any|the) (?:way out|future|"
            r"reason to (?:live|go on|keep going)|point (?:in|of) (?:living|life|going on|anything|"
            r"being alive))",
            r"(?:nobody|no one|noone) (?:cares|would care|will care|gives a \w+) "
            r"(?:if|whether) i (?:live|die|died|am gone|was gone|disappear)",
            r"(?:note|letter|text|message) saying goodbye",
            r"^(?:just |please |pls |somebody |someone )?kill me"
            r"(?: now| already| please| pls)?$",
            r"(?:nobody|no one|noone|nobody here) (?:would|will|is going to|gonna) "
            r"(?:miss me|care if i (?:die|died|was gone|were gone|was dead|disappeared))",
            r"(?:happier|better|easier) (?:off )?if i (?:was|were|wasnt|werent) "
            r"(?:dead|gone|here|around|alive)",
            r"(?:im|i am|i feel like|feel like|im just|i am just) (?:such |just |only |"
            r"nothing but )?a burden",
            r"(?:everyone|everybody|the world|my family) (?:would be|is|will be) "
            r"better (?:off )?without me",
            r"goodbye forever",
            r"this is (?:my )?goodbye",
            r"say(?:ing)? goodbye to (?:everyone|everybody|my family|my kids)",
            r"giving away (?:all )?my (?:stuff|things)",
            r"stockpil\w*",
            r"saving up (?:my|his|her) (?:pills|klon\w*|meds)",
        ),
        gate=ALWAYS,
    ),
    Rule(
        "feels_hopeless",
        CRISIS,
        _regex(
            r"(?:feel|feeling|feels|im|i am|so|am) (?:so |really |completely |"
            r"totally |just )?(?:hopeless|worthless and alone)",
        ),
        gate=STATEMENT,
        negatable=True,
    ),
    Rule(
        "intends_overdose",
        CRISIS,
        _regex(
            r"(?:want|wanna|wants|going|gonna|plan|planning|about|thinking about|"
            r"thinking of|think about|ready|decided|considering|tempted)\s+"
            r"(?:to\s+|on\s+)?(?:just\s+)?(?:od|o d|overdose|overdosing|"
            r"(?:take|taking|swallow|swallowing|down|pop|popping) (?:all|every|"
            r"the whole|the rest|them all|it all|a whole bottle))",
            r"(?:od|overdose) on purpose",
            r"intentional(?:ly)? (?:od|overdos\w*)",
        ),
        gate=STATEMENT,
        negatable=True,
        fear=True,
    ),
    Rule(
        "spanish_crisis",
        CRISIS,
        _regex(
            r"(?:quiero|quisiera|me quiero|ganas de|voy a) (?:morir(?:me)?|matarme|"
            r"suicidarme|desaparecer)",
            r"suicid(?:arme|arse|io)",
            r"matarme",
            r"no quiero vivir",
        ),
        gate=ALWAYS,
    ),
)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    """What the safety net found in a message.

    Attributes:
        level: ``emergency`` or ``crisis`` (emergency wins if both fired).
        matched: Name of the deciding rule.
        snippet: The normalised text the deciding rule matched.
        matches: Names of every rule that fired, in priority order.
    """

    level: str
    matched: str
    snippet: str
    matches: tuple[str, ...]


def assess(text: str | None) -> Assessment | None:
    """Check ``text`` for emergency or crisis language; ``None`` if nothing found.

    Deterministic and independent of any classifier. Only the first ``MAX_CHARS``
    characters are examined, so any input (empty, huge, emoji, RTL) is safe.
    """
    if not text or not isinstance(text, str):
        return None
    fired: list[tuple[Rule, str]] = []
    for raw in split_sentences(text):
        sentence = Sentence.from_text(raw)
        for rule in RULES:
            snippet = rule.first_match(sentence)
            if snippet is not None:
                fired.append((rule, snippet))
    if not fired:
        return None
    fired.sort(key=lambda hit: -LEVEL_RANK[hit[0].level])
    rule, snippet = fired[0]
    names = tuple(dict.fromkeys(r.name for r, _ in fired))
    return Assessment(
        level=rule.level, matched=rule.name, snippet=snippet, matches=names
    )
