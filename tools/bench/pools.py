"""The questions `make bench` sends: a repeated pool and a never-twice stream.

Two pools, because caches make them differ (issue 16):

- **repeated**: the held-out FAQ phrasings (tests/nlu/faq_test.yml, about 270
  wordings the model never saw in training), cycled. Each visitor's
  conversation is a greeting, four questions drawn from the pool and "thanks",
  as the bench of 2026-11-26 sent them; after a while every cache is warm. Each
  visitor draws with its own seeded generator, so both assistants get the same
  conversations.
- **never twice**: distinct texts, none sent twice in a whole run, the same
  texts in the same order for both assistants. Built, deterministically, from
  the project's own held-out phrasings (every tests/nlu/*.yml example whose
  intent is a question: no emergency or crisis, which page staff, no callback
  form, no greetings, yes / no or thanks), and the real visitors' questions
  (tests/real/questions.yml, except crisis ones). Round 0 sends the phrasings
  as written, except those in the repeated pool; each later round puts a short
  natural lead-in before every phrasing ("hi, ...", "quick question: ...",
  :data:`LEAD_INS`), in its own seeded order, so consecutive texts change
  topic. Two texts count as the same when they have the same words
  (:func:`text_key`: case, spaces and punctuation aside), so no lead-in
  variant is a repeat of another text, of the repeated pool, of a greeting or
  of the warm-up. About 7,000 distinct texts are available.

A run takes its never-twice texts as consecutive slices of this one stream,
one slice per measurement, in the same order for both assistants
(:func:`slices`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from common.data import read_phrasings
from common.paths import ROOT

NLU_TESTS = ROOT / "tests" / "nlu"
REAL_QUESTIONS = ROOT / "tests" / "real" / "questions.yml"

GREETINGS = ("hi", "hello", "hey", "good morning")
THANKS = "thanks"
QUESTIONS_PER_CONVERSATION = 4
#: messages per conversation in the never-twice stream (as many as a repeated one)
NEVER_TWICE_PER_CONVERSATION = QUESTIONS_PER_CONVERSATION + 2

#: intents (and real-question labels) never sent: emergencies and crises page
#: staff; a callback request starts a form that would read the next questions as
#: its answers; the rest are not questions (and repeat across visitors)
EXCLUDED_INTENTS = frozenset(
    {
        "emergency",
        "crisis",
        "request_callback",
        "admissions",
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "stop",
    }
)
EXCLUDED_LABEL_WORDS = ("crisis", "emergency", "suicid")
#: both channels refuse texts over 2,000 characters; with a lead-in, stay under
MAX_CHARS = 1500

#: round 0 sends each phrasing as written; round k puts LEAD_INS[k] before it
LEAD_INS = (
    "",
    "hi, ",
    "hello, ",
    "quick question: ",
    "hey, ",
    "sorry to bother you, ",
    "good morning, ",
    "i was wondering, ",
    "hi there. ",
    "one more question: ",
    "good evening, ",
    "excuse me, ",
    "ok, ",
    "hello again. ",
    "can i ask something? ",
)


def text_key(text: str) -> str:
    """What makes two texts the same for the never-twice rule: their words."""
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def held_out_questions() -> list[str]:
    """The repeated pool: tests/nlu/faq_test.yml's phrasings, in file order."""
    return [p.text for p in read_phrasings(NLU_TESTS / "faq_test.yml")]


def conversation(rng: random.Random, questions: Sequence[str]) -> list[str]:
    """One repeated-pool conversation: a greeting, four questions, thanks."""
    return [
        rng.choice(GREETINGS),
        *rng.sample(list(questions), QUESTIONS_PER_CONVERSATION),
        THANKS,
    ]


def _excluded(intent: str) -> bool:
    base = intent.split("/")[0]
    return base in EXCLUDED_INTENTS or any(w in intent for w in EXCLUDED_LABEL_WORDS)


def base_phrasings(
    nlu_dir: Path = NLU_TESTS, real: Path | None = REAL_QUESTIONS
) -> list[str]:
    """Every held-out question phrasing (tests/nlu/*.yml, then the real visitors'
    questions), in file order, without exact duplicates."""
    texts: list[str] = []
    for path in sorted(nlu_dir.glob("*.yml")):
        texts += [p.text for p in read_phrasings(path) if not _excluded(p.intent)]
    if real is not None and real.is_file():
        for item in yaml.safe_load(real.read_text(encoding="utf-8")) or []:
            if (
                isinstance(item, dict)
                and isinstance(item.get("text"), str)
                and not _excluded(str(item.get("label", "")))
            ):
                texts.append(item["text"].strip())
    seen: set[str] = set()
    out = []
    for text in texts:
        if text and text_key(text) and len(text) <= MAX_CHARS and text not in seen:
            seen.add(text)
            out.append(text)
    return out


def never_twice(
    count: int,
    bases: Sequence[str],
    exclude: Iterable[str] = (),
    lead_ins: Sequence[str] = LEAD_INS,
) -> list[str]:
    """``count`` texts whose :func:`text_key` are all different, and different
    from those of ``exclude``. Deterministic: the same arguments give the same
    list. A ``ValueError`` when the bases and lead-ins cannot give that many."""
    seen = {text_key(t) for t in exclude}
    out: list[str] = []
    if count <= 0:
        return out
    for number, lead in enumerate(lead_ins):
        order = list(bases)
        random.Random(f"never-twice-{number}").shuffle(order)  # noqa: S311
        for base in order:
            text = lead + base
            key = text_key(text)
            if key in seen:
                continue
            seen.add(key)
            out.append(text)
            if len(out) == count:
                return out
    raise ValueError(
        f"only {len(out)} distinct texts from {len(bases)} phrasings and "
        f"{len(lead_ins)} lead-ins; {count} asked"
    )


def repeated_texts(questions: Sequence[str]) -> list[str]:
    """Every text the repeated pool and the warm-up can send."""
    return [*questions, *GREETINGS, THANKS]


def slices(texts: Sequence[str], sizes: Sequence[int]) -> list[list[str]]:
    """Consecutive slices of ``texts``, one per size; a ``ValueError`` when the
    texts run out (a text may never serve two measurements)."""
    if sum(sizes) > len(texts):
        raise ValueError(f"{sum(sizes)} texts needed, {len(texts)} available")
    out, start = [], 0
    for size in sizes:
        out.append(list(texts[start : start + size]))
        start += size
    return out


#: the order of a run's measurements; socket.io is always a persistent connection
POOLS = ("never_twice", "repeated")
CHANNELS = ("rest", "socketio")
PATTERNS = ("persistent", "new")


def segment_plan(
    levels: Sequence[int],
    pools: Sequence[str] = POOLS,
    channels: Sequence[str] = CHANNELS,
    patterns: Sequence[str] = PATTERNS,
) -> list[dict[str, object]]:
    """The measurements of a run, never-twice ones first (on a fresh server),
    each at every level. socket.io runs when ``persistent`` is asked for."""
    plan: list[dict[str, object]] = []
    for pool in POOLS:
        for channel in CHANNELS:
            for pattern in PATTERNS:
                if pool not in pools or channel not in channels:
                    continue
                if pattern not in patterns or (channel, pattern) == ("socketio", "new"):
                    continue
                for visitors in levels:
                    plan.append(
                        {"pool": pool, "channel": channel, "pattern": pattern,
                         "visitors": visitors}  # fmt: skip
                    )
    return plan


def never_twice_requests(visitors: int, quick: bool = False) -> int:
    """How many never-twice texts one measurement sends: enough for a steady
    state at that level (1: 120, 10: 600, 50: 750; --quick: 30, 150, 250)."""
    if quick:
        return min(max(30, 15 * visitors), 250)
    return min(max(120, 60 * visitors), 750)


def assign(
    plan: Sequence[dict[str, object]], texts: Sequence[str], quick: bool = False
) -> list[list[str]]:
    """Each measurement's never-twice texts (an empty list for a repeated-pool
    one): consecutive slices of ``texts`` in plan order."""
    sizes = [
        never_twice_requests(int(str(s["visitors"])), quick)
        if s["pool"] == "never_twice"
        else 0
        for s in plan
    ]
    return slices(texts, sizes)


def needed(plan: Sequence[dict[str, object]], quick: bool = False) -> int:
    return sum(
        never_twice_requests(int(str(s["visitors"])), quick)
        for s in plan
        if s["pool"] == "never_twice"
    )
