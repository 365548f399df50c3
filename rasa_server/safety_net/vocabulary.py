"""The safety net's vocabulary: levels, gates and the regular expressions of words.

Everything here is matched against normalised, apostrophe-free text
(:func:`rasa_server.safety_net.text.normalize`). The rules that combine these
words are in :mod:`rasa_server.safety_net.rules`.
"""

from __future__ import annotations

import re
from re import Pattern

EMERGENCY = "emergency"
CRISIS = "crisis"
#: Higher wins. Intents that are not a safety level rank 0.
LEVEL_RANK: dict[str, int] = {EMERGENCY: 2, CRISIS: 1}
#: Only the first MAX_CHARS characters of a message are examined.
MAX_CHARS = 2000
#: Key under which the component records what it did on the message.
SAFETY_NET_KEY = "safety_net"

# Gates: how much sentence context a rule needs before it may fire.
ALWAYS = "always"
STATEMENT = "statement"
PERSONAL = "personal"
ACUTE = "acute"
PERSONAL_ACUTE = "personal_acute"


def alt(*parts: str) -> str:
    """Join regex fragments into one non-capturing alternation."""
    return "(?:" + "|".join(parts) + ")"


def rx(*parts: str) -> Pattern[str]:
    """Compile fragments into a word-bounded alternation."""
    return re.compile(r"\b" + alt(*parts) + r"\b")


# --------------------------------------------------------------------------------------
# Lexicon: reusable vocabulary (all matched against normalised, apostrophe-free text)
# --------------------------------------------------------------------------------------

#: Relatives and other people a visitor writes about.
RELATION = alt(
    r"sons?",
    r"daughters?",
    r"kids?",
    r"child",
    r"children",
    r"teen(?:ager)?",
    r"mom",
    r"mother",
    r"mum",
    r"mama",
    r"dad",
    r"father",
    r"papa",
    r"husband",
    r"hubby",
    r"wife",
    r"spouse",
    r"partner",
    r"boyfriend",
    r"bf",
    r"girlfriend",
    r"gf",
    r"fiancee?",
    r"brother",
    r"bro",
    r"sister",
    r"sis",
    r"friend",
    r"buddy",
    r"roommate",
    r"roomie",
    r"cousin",
    r"aunt",
    r"uncle",
    r"grandma",
    r"grandmother",
    r"grandpa",
    r"grandfather",
    r"nephew",
    r"niece",
    r"coworker",
    r"neighbou?r",
    r"patient",
    r"client",
    r"baby",
)
#: Words that make a sentence about a particular person rather than people in general.
PERSONAL_RE = rx(
    r"i",
    r"im",
    r"ive",
    r"id",
    r"ill",
    r"me",
    r"my",
    r"mine",
    r"myself",
    r"we",
    r"us",
    r"our",
    r"ourselves",
    r"he",
    r"hes",
    r"him",
    r"his",
    r"himself",
    r"she",
    r"shes",
    r"her",
    r"hers",
    r"herself",
    r"themself",
    r"this (?:guy|person|girl|dude|lady|man|woman|kid)",
    RELATION,
)
#: Clonazepam and other benzodiazepines, including slang and common misspellings.
BENZO = alt(
    r"k ?pins?",
    r"klon\w*",
    r"clon\w*",
    r"kpin\w*",
    r"pins",
    r"benzos?",
    r"benzodiazepines?",
    r"bars?",
    r"xan\w*",
    r"zans?",
    r"zanies",
    r"valium",
    r"ativan",
    r"rivotril",
    r"pills?",
    r"meds",
    r"tabs?",
    r"tablets?",
)
BENZO_RE = rx(BENZO)
#: Other central-nervous-system depressants that are dangerous with a benzo.
DEPRESSANT_RE = rx(
    r"alcohol",
    r"booze",
    r"beers?",
    r"wine",
    r"vodka",
    r"whiske?y",
    r"tequila",
    r"rum",
    r"gin",
    r"liquor",
    r"drinks?",
    r"drinking",
    r"drank",
    r"drunk",
    r"shots",
    r"a fifth",
    r"henny",
    r"hennessy",
    r"everclear",
    r"opioids?",
    r"opiates?",
    r"oxys?",
    r"oxycodone",
    r"oxycontin",
    r"percs?",
    r"percocets?",
    r"roxys?",
    r"roxies",
    r"fent",
    r"fentanyl",
    r"fenty",
    r"heroin",
    r"dope",
    r"methadone",
    r"suboxone",
    r"subs",
    r"codeine",
    r"lean",
    r"sizzurp",
    r"promethazine",
    r"tramadol",
    r"morphine",
    r"hydrocodone",
    r"vicodin",
    r"norco",
    r"dilaudid",
    r"ambien",
    r"zolpidem",
    r"sleeping pills?",
    r"sleep meds",
    r"gabapentin",
    r"gabas?",
    r"neurontin",
    r"lyrica",
    r"soma",
    r"muscle relaxers?",
    r"xanax",
    r"xans",
    r"bars",
    r"valium",
    r"ativan",
    r"benadryl",
    r"ghb",
    r"ketamine",
    r"nyquil",
)
BREATH = alt(
    r"breath(?:e|es|ing|in|n)?",
    r"breating",
    r"brething",
    r"breth(?:ing|e)?",
    r"breahting",
    r"brathing",
    r"breathng",
)
SEIZURE = alt(
    r"seizures?",
    r"siezures?",
    r"seizers?",
    r"siezers?",
    r"seisures?",
    r"sezures?",
    r"seazures?",
    r"seziures?",
    r"convulsions?",
)
SUICIDE = alt(
    r"suicid\w*",
    r"sucid\w*",
    r"suicd\w*",
    r"suisid\w*",
    r"suecid\w*",
    r"siucid\w*",
    r"suiscid\w*",
    r"suicial",
)
SELF = r"(?:my|him|her|them|our)\s?sel(?:f|ves|fs)"
SUBJECT = alt(
    r"i",
    r"im",
    r"he",
    r"hes",
    r"she",
    r"shes",
    r"they",
    r"theyre",
    r"we",
    r"someone",
    r"somebody",
    r"(?:(?:my|his|her|our)\s+)?" + RELATION,
)

# --------------------------------------------------------------------------------------
# Sentence context markers
# --------------------------------------------------------------------------------------

#: Leading words that carry no meaning for the rules ("hi so um ...").
LEADING_FILLER_RE = re.compile(
    r"^(?:(?:hi|hey|hello|yo|so|ok|okay|um+|uh+|hm+|and|but|also|well|sorry|please|"
    r"pls|plz)\s+)+"
)
#: Leading phrases that announce a question ("I was wondering ...").
QUESTION_FILLER_RE = re.compile(
    r"^(?:(?:quick|one more|another|random|serious|honest|general|simple) )?"
    r"(?:question|q)\b|^(?:just |im |i am |i was |was )?(?:wondering|curious)\b"
    r"|^i wonder\b|^(?:i )?(?:want|wanna|need|would like|d like|id like) to know\b"
    r"|^(?:can|could) (?:you|u) (?:tell|explain|let) me\b|^tell me\b"
    r"|^explain\b|^(?:do you|does anyone|anyone) know\b|^i have a question\b"
    r"|^ive got a question\b|^real quick\b"
)
QUESTION_START_RE = re.compile(
    r"^(?:can|could|does|do|did|is|are|was|were|will|would|should|shall|may|might|"
    r"must|what|whats|how|hows|why|when|whens|where|which|who|whos|whose|at what|"
    r"any chance|anyone)\b"
)
#: Words that make a sentence a request for general information.
GENERIC_INFO_RE = rx(
    r"side effects?",
    r"symptoms? of",
    r"signs? of",
    r"risks?",
    r"dangers? of",
    r"in general",
    r"generally",
    r"typically",
    r"statistics",
    r"stats",
    r"studies",
    r"study",
    r"research",
    r"black box",
    r"fda",
    r"warning label",
)
HYPOTHETICAL_START_RE = re.compile(
    r"^(?:can|could|will|would|might|may|should|shall)\b"
    r"|^(?:when|at what point)\b"
    r"|^how (?:do|will|would|can|could) (?:i|you|u|we|one) (?:know|tell)\b"
)
HYPOTHETICAL_RE = rx(
    r"what happens",
    r"what would happen",
    r"what if",
    r"is it (?:possible|normal|safe|common|likely|dangerous|bad|true|okay|ok|risky)",
    r"how (?:likely|common|often|soon|fast|quickly|bad)",
    r"if (?:i|you|u|he|she|they|we|someone|somebody|people|one|my \w+) "
    r"(?:stop|stops|quit|quits|take|takes|mix|mixes|drink|drinks|come off|comes off|"
    r"detox|detoxes|taper|tapers|miss|misses|use|uses|double|doubles|overdose|"
    r"overdoses|go|goes|keep|keeps)",
)
#: Markers of something happening at the moment (or very recently).
ACUTE_RE = rx(
    r"right now",
    r"rn",
    r"atm",
    r"currently",
    r"at the moment",
    r"as we speak",
    r"just now",
    r"hurry",
    r"asap",
    r"urgent(?:ly)?",
    r"help me(?! (?:understand|with|find|get|figure|learn|know|decide|choose|out))",
    r"help us",
    r"help him",
    r"help her",
    r"(?:please|pls|plz|someone|somebody) help",
    r"help (?:now|asap|please|pls|plz)",
    r"(?:can|could|will) (?:someone|somebody|anyone|anybody|you) (?:please )?help"
    r"(?! me (?:understand|with|find|get|figure|learn|know|decide|choose|out))",
    r"^help",
    r"help$",
    r"what (?:do|should|can|shall) (?:i|we) do(?! about| to (?:prevent|avoid|stop))",
    r"what now",
    r"emergency",
    r"911",
    r"omg",
    r"oh my god",
    r"oh god",
    r"freaking out",
    r"panicking",
    r"wont stop",
    r"keeps? happening",
    r"again",
    r"tonight",
    r"this (?:morning|afternoon|evening)",
    r"an hour ago",
    r"(?:\d+|a few|few|couple|a couple) (?:of )?(?:minutes?|mins?|hours?|hrs?) ago",
)
#: Markers that a bad event is recent; they override a distant-past marker.
RECENT_RE = rx(
    r"right now",
    r"rn",
    r"just now",
    r"currently",
    r"at the moment",
    r"just",
    r"tonight",
    r"today",
    r"this (?:morning|afternoon|evening)",
    r"last night",
    r"an hour ago",
    r"(?:\d+|a few|few|couple|a couple) (?:of )?(?:minutes?|mins?|hours?|hrs?) ago",
    r"still",
    r"what (?:do|should|can|shall) (?:i|we) do",
    r"(?:please|pls|plz|someone|somebody) help",
    r"hurry",
    r"asap",
)
#: Markers that an event is long over.
DISTANT_PAST_RE = rx(
    r"last (?:year|month|week|summer|spring|fall|autumn|winter|christmas|time)",
    r"(?:\d+|a|one|two|three|four|five|few|a few|couple|a couple|several|many) "
    r"(?:of )?(?:years?|yrs?|months?|weeks?) ago",
    r"years ago",
    r"months ago",
    r"a while ago",
    r"(?:a )?long time ago",
    r"used to",
    r"in the past",
    r"back (?:in|when|then)",
    r"when (?:i|he|she|they) (?:was|were) (?:a |an |in )?"
    r"(?:kid|child|teen|teenager|younger|little|baby|in \w+)",
    r"as a (?:kid|child|teen|teenager|baby)",
    r"since (?:childhood|birth|he was|she was|i was)",
    r"history of",
    r"in (?:college|high school|school|my (?:teens|twenties|20s|thirties|30s))",
    r"in (?:19|20)\d\d",
    r"once before",
    r"before(?! (?:i|he|she|they|we|you|my|his|her|that|taking|stopping|it|the|this|"
    r"a|bed|anyone|someone|going|getting))",
)
#: Habitual use (addiction, not an acute event).
CHRONIC_RE = rx(
    r"a day",
    r"per day",
    r"each day",
    r"every day",
    r"everyday",
    r"daily",
    r"a night",
    r"every night",
    r"each night",
    r"nightly",
    r"a week",
    r"per week",
    r"every week",
    r"every weekend",
    r"on (?:the )?weekends?",
    r"for (?:\d+ |a few |few |several |many |two |three |four |five |six |ten |"
    r"a couple of |a couple |couple )?(?:years?|yrs?|months?|weeks?)",
    r"for (?:a while|a long time|ages)",
    r"as prescribed",
    r"usually",
    r"normally",
    r"always",
    r"sometimes",
    r"often",
    r"occasionally",
    r"regularly",
)
#: States that make a modal question about the present ("could this be why I'm ...").
PRESENT_STATE_RE = rx(
    r"im",
    r"i am",
    r"i feel",
    r"ive",
    r"i have been",
    r"i keep",
    r"i cant",
    r"been",
    r"feeling",
    r"making me",
    r"made me",
    r"lately",
    r"these days",
    r"anymore",
    r"right now",
    r"rn",
    r"now",
    r"currently",
    r"just",
    r"tonight",
    r"took",
    r"taken",
    r"drank",
    r"mixed",
    r"swallowed",
    r"popped",
    r"overdosed",
    r"oded",
    r"be (?:having|overdosing|oding|seizing|hallucinating|dying)",
)

# Negation: a cue in a short window before a match cancels a negatable rule.
NEGATION_WORDS = frozenset(
    "not never dont doesnt didnt isnt arent wasnt werent aint havent hasnt hadnt "
    "wouldnt wont nor neither without nothing nobody".split()
)
#: Words that stop the negation window ("I don't know but I want to die").
CLAUSE_BREAKS = frozenset(
    "but and so because cause bc though although yet , honestly just".split()
)
NEGATION_WINDOW = 3
#: Idioms that contain a negation word but do not negate what follows.
NEGATION_IDIOMS_RE = re.compile(
    r"\b(?:(?:not|wont|cant|aint|im not|i am not) (?:gonna |going to |to )?lie|ngl|"
    r"(?:i )?dont know|(?:i )?do not know|idk|dunno|(?:im )?not sure|no joke|no cap|"
    r"no lie)\b"
)
#: "...not suicidal until now" -> the negation does not hold.
UNNEGATE_AFTER_RE = re.compile(r"^\s*(?:until|till|til|but|except) now\b")
#: Fear-of / prevention phrasing: "scared of having a seizure", "risk of overdose".
FEAR_OF_RE = re.compile(
    r"\b(?:(?:scared|afraid|worried|terrified|nervous|fear|fearful|paranoid|concerned)"
    r" (?:of|about|that)|risk of|chances? of|danger of|dangers of|avoid|avoiding|"
    r"prevent|preventing|instead of|without|before|unless|until|in case|so that)\b"
    r"(?:\s+\w+){0,3}\s*$"
)
#: Fear phrasing that turns a stated intent into a worry: "scared I'm going to OD".
FEAR_RE = re.compile(
    r"\b(?:scared|afraid|worried|terrified|nervous|fear|fearful|paranoid|concerned|"
    r"risk|chance|accidentally|accidently|by accident|careful|dont want)\b"
    r"(?:\s+\w+){0,4}\s*$"
)
