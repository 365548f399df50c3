"""`make check-data`: the checks `rasa data validate` does not do.

Each problem is printed as ``file:line: what is wrong -- how to fix it``, so a
member of staff can open the file at that line. Exit status 1 when any problem is
found, 0 otherwise.

Checked:
- every FAQ topic (``faq/<topic>`` in data/nlu/) has an answer (``utter_faq/<topic>``)
  and every answer has training phrasings;
- every topic has at least MIN_TRAINING training phrasings, at least MIN_HELD_OUT
  held-out test phrasings (tests/nlu/faq_test.yml) and a test story (tests/stories/);
- no phrasing appears twice, under two intents, or in both training and test data
  (compared ignoring case, punctuation and spacing);
- answers stay within MAX_ANSWER_WORDS words;
- every button payload opens a topic or an intent that exists;
- contact details (phone numbers, e-mail addresses) appear only in the one
  configuration (config/contacts.yml); public numbers (911, 988, Poison Help,
  SAMHSA) are allowed everywhere;
- grounding (knowledge/grounding.yml): each fact of a topic is in the article
  and stated in its answer; each article section maps to topics; answers that
  can't answer say so and offer admissions; the article's errors are never
  repeated; answers hold only allowed numbers; danger topics carry the 911
  line; the answers' mean reading grade stays low;
- the real-visitor test set (tests/real/): every question has a label and a
  public source, and no training phrasing is a copy or near copy of one.
"""

from __future__ import annotations

import argparse
import ast
import bisect
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from common.data import (
    Answer,
    Phrasing,
    compose_yaml,
    domain_intents,
    load_yaml,
    normalise,
    read_answers,
    read_phrasings,
    story_intents,
)
from common.paths import ROOT
from tools.readability import fk_grade, words

MIN_TRAINING = 14
MAX_MEAN_GRADE = 9.0
FACT_WORDS = (1, 6)
MIN_FACTS = 2
UNGROUNDED_KINDS = ("cannot_answer", "service", "safety")
#: Every answer and safety reply reads at grade 8 or below (issue 12).
MAX_GRADE = 8.0
#: Wording a clinician objected to (issue 12): the danger is stopping suddenly
#: or without medical care, not home as such; saltwater therapy is no
#: evidence-based therapy; the "quadrupled" claim has no source; pharmacists
#: don't set doses.
OBJECTED_PHRASES = [
    "detox at home is not safe",
    "safer than detox at home",
    "saltwater",
    "quadrupled",
    "prescriber or pharmacist can decide",
    "evidence-based and holistic",
]
#: Person-first language: "misuse", not "abuse" / "abuser" / "addict".
NOT_PERSON_FIRST_RE = re.compile(r"\b(?:abuse\w*|abusing|addicts?)\b", re.IGNORECASE)
#: The safety replies in domain.yml, grounded like the answers.
SAFETY_REPLIES = [
    "utter_emergency",
    "utter_crisis",
    "utter_default",
    "utter_out_of_scope",
]
#: A safety source must name the public body that published it.
PUBLIC_BODY_RE = re.compile(
    r"\b(?:FDA|SAMHSA|CDC|NIH|NIAAA|NIMH|AFSP|HRSA|NHTSA|Red Cross|988 Suicide|"
    r"Medication Guide|911|DEA)\b"
)
CLINICAL_REVIEW = "docs/clinical-review.md"
DANGER_TOPICS = ["withdrawal", "stopping", "home_detox", "overdose", "long_term"]
DANGER_LINE = "if this is happening now, call 911"
POISON_HELP_TOPICS = ("overdose", "dosage")
#: The article's errors: never repeated in an answer.
BANNED_PHRASES = ["boosts the production", "clonazepine", "cognitive behavioral health"]
#: The only numbers an answer may contain: 911, 988, Poison Help, SAMHSA, and the
#: article's "Since 1999". Anything else (e.g. an invented center phone) fails.
ALLOWED_NUMBERS = {"911", "988", "1-800-222-1222", "1-800-662-4357", "1999"}
NUMBER_RE = re.compile(r"\d+(?:-\d+)*")
#: The article's headings every grounding file must map (the title line heads
#: the untitled intro).
REQUIRED_SECTIONS = {
    "What Is Clonazepam?",
    "Clonazepam Effects",
    "Signs of Clonazepam Abuse and Addiction",
    "Clonazepam Withdrawal Symptoms",
    "Long Term Side Effects of Clonazepam Abuse",
    "Clonazepam Addiction Treatment",
    "Clonazepam Abuse and Addiction",
}
MIN_HELD_OUT = 10
MAX_ANSWER_WORDS = 90
MIN_BUTTONS, MAX_BUTTONS = 2, 3
MIN_ADMISSIONS_SHARE = 0.75

PUBLIC_NUMBERS = {"18002221222", "18006624357"}  # Poison Help, SAMHSA
PHONE_RE = re.compile(
    r"(?<![\w/])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}(?!\d)"
)
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
OPEN_FAQ_RE = re.compile(r'^/open_faq\{"faq_topic": "([a-z0-9_]+)"\}$')
INTENT_RE = re.compile(r"^/([a-z0-9_]+)$")
ARTICLE_NAME = "clonazepam-abuse-and-addiction.txt"


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}: {self.message}"


# --------------------------------------------------------------------------- checks


def check(root: Path = ROOT) -> list[Problem]:
    problems: list[Problem] = []
    training = [
        p
        for f in sorted((root / "data" / "nlu").glob("*.yml"))
        for p in read_phrasings(f)
    ]
    held_out_file = root / "tests" / "nlu" / "faq_test.yml"
    held_out = read_phrasings(held_out_file)
    other_tests = [
        p
        for f in sorted((root / "tests" / "nlu").glob("*.yml"))
        if f != held_out_file
        for p in read_phrasings(f)
    ]
    answer_files = sorted((root / "data" / "responses").glob("*.yml")) + [
        root / "domain.yml"
    ]
    answers = [a for f in answer_files for a in read_answers(f)]
    faq_answers = {
        a.name.split("/", 1)[1]: a for a in answers if a.name.startswith("utter_faq/")
    }
    stories = story_intents(sorted((root / "tests" / "stories").glob("*.yml")))
    intents = domain_intents(root / "domain.yml")

    by_topic: dict[str, list[Phrasing]] = defaultdict(list)
    for p in training:
        if p.intent.startswith("faq/"):
            by_topic[p.intent.split("/", 1)[1]].append(p)
    held_by_topic: dict[str, list[Phrasing]] = defaultdict(list)
    # FAQ phrasings of any held-out file count (faq_test.yml, and the ones
    # written in visitors' style, visitors_test.yml)
    for p in held_out + [p for p in other_tests if p.intent.startswith("faq/")]:
        held_by_topic[p.intent.split("/", 1)[-1]].append(p)

    # topics, answers, counts, stories
    for topic, phrasings in sorted(by_topic.items()):
        first = phrasings[0]
        if topic not in faq_answers:
            problems.append(Problem(first.path, first.line - 2,
                f"topic faq/{topic} has no answer -- add utter_faq/{topic} to data/responses/faq.yml"))  # fmt: skip
        if len(phrasings) < MIN_TRAINING:
            problems.append(Problem(first.path, first.line - 2,
                f"topic faq/{topic} has {len(phrasings)} training phrasings, needs at least {MIN_TRAINING}"))  # fmt: skip
        held = held_by_topic.get(topic, [])
        if len(held) < MIN_HELD_OUT:
            where = held[0] if held else None
            problems.append(Problem(where.path if where else held_out_file, (where.line - 2) if where else 1,
                f"topic faq/{topic} has {len(held)} held-out test phrasings in tests/nlu/, "
                f"needs at least {MIN_HELD_OUT} (new wordings, not copies of training phrasings)"))  # fmt: skip
        if f"faq/{topic}" not in stories:
            problems.append(Problem(first.path, first.line - 2,
                f"topic faq/{topic} has no test story -- add one to tests/stories/test_faq.yml"))  # fmt: skip
    for topic, answer in sorted(faq_answers.items()):
        if topic not in by_topic:
            problems.append(Problem(answer.path, answer.line,
                f"answer utter_faq/{topic} has no training phrasings -- add `- intent: faq/{topic}` "
                "to data/nlu/faq.yml"))  # fmt: skip
    for topic, phrasings in sorted(held_by_topic.items()):
        if topic not in by_topic and phrasings[0].intent.startswith("faq/"):
            problems.append(Problem(phrasings[0].path, phrasings[0].line - 2,
                f"held-out phrasings for faq/{topic}, a topic with no training phrasings"))  # fmt: skip

    # each topic's entry in knowledge/grounding.yml: a title, and facts or a kind
    grounding_file = root / "knowledge" / "grounding.yml"
    grounding: Any = load_yaml(grounding_file.read_text(encoding="utf-8")) or {}
    entries = grounding.get("topics") or {}
    grounding_lines = grounding_file.read_text(encoding="utf-8").splitlines()
    for topic, phrasings in sorted(by_topic.items()):
        entry = entries.get(topic)
        if not isinstance(entry, dict):
            problems.append(Problem(phrasings[0].path, phrasings[0].line - 2,
                f"topic faq/{topic} has no entry in knowledge/grounding.yml -- add its title, and its facts "
                "or `kind: service` / `kind: cannot_answer` (docs/staff-guide.md, step 3)"))  # fmt: skip
            continue
        line = next(
            (
                i
                for i, text in enumerate(grounding_lines, start=1)
                if text == f"  {topic}:"
            ),
            1,
        )
        if not str(entry.get("title") or "").strip():
            problems.append(
                Problem(
                    grounding_file,
                    line,
                    f'topic {topic} has no title -- add `title: "..."`',
                )
            )
        if (
            entry.get("kind") not in UNGROUNDED_KINDS
            and len(entry.get("facts") or []) < MIN_FACTS
        ):
            problems.append(Problem(grounding_file, line,
                f"topic {topic} lists fewer than 2 facts from the article -- add them, or set a kind"))  # fmt: skip
        problems += check_safety_lines(grounding, topic, entry, grounding_file, line)

    # duplicates: within training, across intents, training vs test
    seen: dict[str, Phrasing] = {}
    for p in training:
        key = normalise(p.text)
        if key in seen:
            other = seen[key]
            at = f"{Problem(other.path, other.line, '')}".rstrip(": ")
            if other.intent == p.intent:
                problems.append(
                    Problem(
                        p.path,
                        p.line,
                        f"'{p.text}' repeats a phrasing of {p.intent} ({at}) -- delete one",
                    )
                )
            else:
                problems.append(Problem(p.path, p.line,
                    f"'{p.text}' is under {p.intent} and also under {other.intent} ({at}) -- keep it under one"))  # fmt: skip
        else:
            seen[key] = p
    for p in held_out + other_tests:
        key = normalise(p.text)
        if key in seen:
            other = seen[key]
            at = f"{Problem(other.path, other.line, '')}".rstrip(": ")
            problems.append(Problem(p.path, p.line,
                f"held-out phrasing '{p.text}' is also training data ({at}) -- reword it or remove one"))  # fmt: skip

    # answers: length and buttons
    for answer in answers:
        if answer.name.startswith("utter_faq/"):
            words = len(answer.text.split())
            if words > MAX_ANSWER_WORDS:
                problems.append(Problem(answer.path, answer.line,
                    f"{answer.name} has {words} words, the limit is {MAX_ANSWER_WORDS} -- shorten it"))  # fmt: skip
            if not MIN_BUTTONS <= len(answer.buttons) <= MAX_BUTTONS:
                problems.append(Problem(answer.path, answer.line,
                    f"{answer.name} has {len(answer.buttons)} buttons -- give it "
                    f"{MIN_BUTTONS} to {MAX_BUTTONS} next steps"))  # fmt: skip
        for payload, line in answer.buttons:
            problems += check_payload(payload, answer, line, set(by_topic), intents)
    with_person = [
        a for a in faq_answers.values() if any(p == "/admissions" for p, _ in a.buttons)
    ]
    if faq_answers and len(with_person) < MIN_ADMISSIONS_SHARE * len(faq_answers):
        earliest = min(faq_answers.values(), key=lambda a: a.line)
        problems.append(Problem(earliest.path, earliest.line,
            f"only {len(with_person)} of {len(faq_answers)} answers offer /admissions -- "
            f"at least {MIN_ADMISSIONS_SHARE:.0%} should offer a person"))  # fmt: skip

    problems += check_contacts(root)
    problems += check_grounding(root, faq_answers)
    problems += check_real_set(root, training, set(by_topic))
    return sorted(set(problems), key=lambda p: (str(p.path), p.line, p.message))


def check_safety_lines(
    grounding: Any, topic: str, entry: dict[str, Any], path: Path, line: int
) -> list[Problem]:
    """A fact beyond the article (`safety`) names its public source (issue 12)."""
    sources = grounding.get("sources") or {}
    lines = entry.get("safety") or []
    problems = []
    if entry.get("kind") == "safety" and not lines:
        problems.append(Problem(path, line,
            f"topic {topic} is kind: safety but lists no safety facts -- add `safety:` lines with a source"))  # fmt: skip
    for item in lines:
        item = item if isinstance(item, dict) else {}
        if not item.get("says") or item.get("source") not in sources:
            problems.append(Problem(path, line,
                f"topic {topic}: each safety line needs `says` (words of the answer) and a `source` "
                "listed under `sources` (the public body that published the fact)"))  # fmt: skip
    return problems


def check_payload(
    payload: str, answer: Answer, line: int, topics: set[str], intents: set[str]
) -> list[Problem]:
    try:
        sent = (
            payload.format()
        )  # Rasa fills {slots} in responses: JSON braces are doubled
    except (KeyError, IndexError, ValueError):
        return [Problem(answer.path, line,
            f"payload {payload} -- write its braces doubled: /open_faq{{{{\"faq_topic\": \"...\"}}}}")]  # fmt: skip
    faq = OPEN_FAQ_RE.match(sent)
    if faq:
        if faq.group(1) not in topics:
            return [
                Problem(
                    answer.path,
                    line,
                    f"button opens faq/{faq.group(1)}, which does not exist",
                )
            ]
        return []
    intent = INTENT_RE.match(sent)
    if intent:
        if intent.group(1) not in intents:
            return [
                Problem(
                    answer.path,
                    line,
                    f"button sends /{intent.group(1)}, an intent not in domain.yml",
                )
            ]
        return []
    return [
        Problem(
            answer.path,
            line,
            f"button payload {sent!r} is neither /<intent> nor an /open_faq payload",
        )
    ]


def configured_contacts(root: Path) -> tuple[set[str], set[str]]:
    """Phone digits and e-mail addresses of config/contacts.yml."""
    data: Any = load_yaml(
        (root / "config" / "contacts.yml").read_text(encoding="utf-8")
    )
    phones: set[str] = set()
    emails: set[str] = set()
    for value in (data or {}).get("admissions", {}).values():
        text = str(value)
        for match in PHONE_RE.finditer(text):
            phones.add(phone_digits(match.group(0)))
        emails.update(m.lower() for m in EMAIL_RE.findall(text))
    return phones, emails


def phone_digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def text_lines(path: Path) -> list[tuple[int, str]]:
    """The lines to scan: for Python, string literals other than docstrings."""
    source = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return list(enumerate(source.splitlines(), start=1))
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(
            node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        )
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def check_contacts(root: Path) -> list[Problem]:
    """The center's contact details come only from config/contacts.yml.

    A configured number or address written anywhere else is an error (change it
    in one place, and it must change everywhere). Other numbers must be public
    ones (911, 988, Poison Help, SAMHSA) or fictional format examples (555-0100
    to 555-0199); other e-mail addresses only @example.com examples.
    """
    phones, emails = configured_contacts(root)
    files = (
        sorted((root / "data").rglob("*.yml"))
        + [root / "domain.yml"]
        + sorted((root / "actions").glob("*.py"))
        + sorted((root / "rasa_server").rglob("*.py"))
        + sorted((root / "common").glob("*.py"))
        + sorted((root / "web" / "public").glob("*.*"))
    )
    problems: list[Problem] = []
    fix = "contact details belong in config/contacts.yml (or the environment), nowhere else"
    for path in files:
        if path.name == "config.py" and path.parent.name == "actions":
            continue  # the one configuration reader
        for number, line in text_lines(path):
            for match in PHONE_RE.finditer(line):
                digits = phone_digits(match.group(0))
                shown = match.group(0).strip()
                if digits in phones:
                    problems.append(
                        Problem(path, number, f"the configured number {shown} -- {fix}")
                    )
                elif ("1" + digits) not in PUBLIC_NUMBERS and not re.fullmatch(
                    r"\d{3}55501\d\d", digits
                ):
                    problems.append(
                        Problem(path, number, f"phone number {shown} -- {fix}")
                    )
            for match in EMAIL_RE.finditer(line):
                address = match.group(0).lower()
                if address in emails or not address.endswith("@example.com"):
                    problems.append(
                        Problem(
                            path, number, f"e-mail address {match.group(0)} -- {fix}"
                        )
                    )
    return problems


def plain(text: str) -> str:
    """Lowercase, straight quotes and single spaces: how facts are compared."""
    text = (
        text.replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
    )
    return re.sub(r"\s+", " ", text).strip().lower()


def _line_of(lines: list[str], text: str, default: int = 1) -> int:
    return next((i for i, line in enumerate(lines, 1) if line == text), default)


def check_grounding(root: Path, answers: dict[str, Answer]) -> list[Problem]:
    """The answers against the article and knowledge/grounding.yml."""
    problems: list[Problem] = []
    grounding_file = root / "knowledge" / "grounding.yml"
    raw = grounding_file.read_text(encoding="utf-8")
    lines = raw.splitlines()
    grounding: Any = load_yaml(raw) or {}
    topics: dict[str, Any] = grounding.get("topics") or {}
    sections: dict[str, Any] = grounding.get("sections") or {}
    article_raw = (root / "knowledge" / "source" / ARTICLE_NAME).read_text(
        encoding="utf-8"
    )
    article = plain(article_raw)

    def at_topic(topic: str) -> int:
        return _line_of(lines, f"  {topic}:")

    for topic, spec in topics.items():
        if not isinstance(spec, dict):
            continue
        kind = spec.get("kind")
        answer = answers.get(topic)
        said = plain(answer.text) if answer else ""
        for fact in spec.get("facts") or []:
            fact_text = plain(str(fact))
            where = Problem(grounding_file, at_topic(topic), "")
            if not FACT_WORDS[0] <= len(fact_text.split()) <= FACT_WORDS[1]:
                problems.append(Problem(where.path, where.line,
                    f"topic {topic}: fact {fact!r} should be {FACT_WORDS[0]}-{FACT_WORDS[1]} words -- quote a short key phrase"))  # fmt: skip
            if fact_text not in article:
                problems.append(Problem(where.path, where.line,
                    f"topic {topic}: fact {fact!r} is not in the article -- quote it as the article words it"))  # fmt: skip
            if answer and fact_text not in said:
                problems.append(Problem(answer.path, answer.line,
                    f"utter_faq/{topic} does not state the fact {fact!r} -- say it in the answer, or drop the fact"))  # fmt: skip
        if kind == "cannot_answer" and answer:
            if not any(w in said for w in ("can't", "cannot", "doesn't cover")):
                problems.append(Problem(answer.path, answer.line,
                    f"utter_faq/{topic} is a cannot_answer topic -- say plainly that it can't answer"))  # fmt: skip
            if "/admissions" not in [p for p, _ in answer.buttons]:
                problems.append(Problem(answer.path, answer.line,
                    f"utter_faq/{topic} is a cannot_answer topic -- offer a /admissions button"))  # fmt: skip

    article_lines = {plain(line) for line in article_raw.splitlines() if line.strip()}
    covered: set[str] = set()
    for heading, keys in sections.items():
        line = _line_of(lines, f'  "{heading}":')
        if plain(heading) not in article_lines:
            problems.append(Problem(grounding_file, line,
                f"section {heading!r} is not a heading of the article -- copy the heading exactly"))  # fmt: skip
        if not keys:
            problems.append(Problem(grounding_file, line,
                f"section {heading!r} maps to no topic -- list the topics that cover it"))  # fmt: skip
        for key in keys or []:
            covered.add(key)
            if key not in topics:
                problems.append(Problem(grounding_file, line,
                    f"section {heading!r} maps to unknown topic {key!r} -- add the topic or fix the name"))  # fmt: skip
    for missing in sorted(REQUIRED_SECTIONS - set(sections)):
        problems.append(Problem(grounding_file, _line_of(lines, "sections:"),
            f"the article's section {missing!r} is not mapped -- list the topics that cover it"))  # fmt: skip
    for topic, spec in topics.items():
        grounded = isinstance(spec, dict) and spec.get("kind") not in UNGROUNDED_KINDS
        if grounded and topic not in covered:
            problems.append(Problem(grounding_file, at_topic(topic),
                    f"topic {topic} is under no article section -- add it to the section it comes from"))  # fmt: skip

    for topic, answer in answers.items():
        said = plain(answer.text)
        for phrase in BANNED_PHRASES:
            if phrase in said:
                problems.append(Problem(answer.path, answer.line,
                    f"utter_faq/{topic} repeats the article's error {phrase!r} -- see the corrections in knowledge/grounding.yml"))  # fmt: skip
        bad = [n for n in NUMBER_RE.findall(answer.text) if n not in ALLOWED_NUMBERS]
        if bad:
            problems.append(Problem(answer.path, answer.line,
                f"utter_faq/{topic} has numbers {bad} -- only {sorted(ALLOWED_NUMBERS)}; the center's contacts come from config/contacts.yml"))  # fmt: skip
    for topic in DANGER_TOPICS:
        answer = answers.get(topic)
        if answer and DANGER_LINE not in plain(answer.text):
            problems.append(Problem(answer.path, answer.line,
                f"utter_faq/{topic} is a danger topic -- add {DANGER_LINE!r}"))  # fmt: skip
    for topic in POISON_HELP_TOPICS:
        answer = answers.get(topic)
        if answer and not ("1-800-222-1222" in answer.text and "911" in answer.text):
            problems.append(Problem(answer.path, answer.line,
                f"utter_faq/{topic} must give 911 and Poison Help (1-800-222-1222)"))  # fmt: skip
    if answers:
        grades = {t: fk_grade(a.text) for t, a in answers.items()}
        mean = sum(grades.values()) / len(grades)
        if mean > MAX_MEAN_GRADE:
            hardest = max(grades, key=lambda t: grades[t])
            answer = answers[hardest]
            problems.append(Problem(answer.path, answer.line,
                f"the answers' mean reading grade is {mean:.2f}, above {MAX_MEAN_GRADE}; the hardest is "
                f"utter_faq/{hardest} (grade {grades[hardest]:.2f}) -- use shorter sentences and words"))  # fmt: skip
    problems += check_clinical(root, grounding, grounding_file, lines, answers)
    return problems


def domain_texts(root: Path) -> dict[str, tuple[Answer, list[str]]]:
    """Every reply of domain.yml: its Answer (for the line) and all its variants."""
    domain_file = root / "domain.yml"
    data: Any = load_yaml(domain_file.read_text(encoding="utf-8")) or {}
    located = {a.name: a for a in read_answers(domain_file)}
    return {
        name: (located[name], [str(v["text"]) for v in variants or [] if v.get("text")])
        for name, variants in (data.get("responses") or {}).items()
        if name in located
    }


def check_clinical(
    root: Path,
    grounding: dict[str, Any],
    grounding_file: Path,
    lines: list[str],
    answers: dict[str, Answer],
) -> list[Problem]:
    """Issue 12's rules: wording, person-first language, grade 8, safety facts
    with a named public source, and a clinical review that shows every answer."""
    problems: list[Problem] = []
    replies = domain_texts(root)
    texts: list[tuple[str, Answer, str]] = [
        (f"utter_faq/{t}", a, a.text) for t, a in answers.items()
    ]
    for name, (answer, variants) in replies.items():
        texts += [(f"{name}[{i}]", answer, text) for i, text in enumerate(variants)]
    for name, answer, text in texts:
        said = plain(text)
        for phrase in OBJECTED_PHRASES:
            if phrase in said:
                problems.append(Problem(answer.path, answer.line,
                    f"{name} says {phrase!r}, wording a clinician objected to -- see docs/clinical-review.md"))  # fmt: skip
        found = NOT_PERSON_FIRST_RE.findall(text)
        if found:
            problems.append(Problem(answer.path, answer.line,
                f"{name} says {found} -- say misuse, or a person with an addiction"))  # fmt: skip
        if fk_grade(text) > MAX_GRADE and (
            name.startswith("utter_faq/") or name.split("[")[0] in SAFETY_REPLIES
        ):
            problems.append(Problem(answer.path, answer.line,
                f"{name} reads at grade {fk_grade(text):.1f}, above {MAX_GRADE} -- use shorter sentences and words"))  # fmt: skip
    for topic, answer in answers.items():
        titles = [title for title, _ in answer.button_titles]
        for title in titles:
            if NOT_PERSON_FIRST_RE.search(title):
                problems.append(Problem(answer.path, answer.line,
                    f"utter_faq/{topic} has the button {title!r} -- say misuse"))  # fmt: skip

    sources: dict[str, Any] = grounding.get("sources") or {}
    if not sources:
        problems.append(Problem(grounding_file, 1,
            "knowledge/grounding.yml lists no `sources` -- name the public source of each safety fact"))  # fmt: skip
    for key, text in sources.items():
        if not PUBLIC_BODY_RE.search(str(text)):
            problems.append(Problem(grounding_file, _line_of(lines, f"  {key}: >-"),
                f"source {key} names no public body -- say who published it (FDA, SAMHSA, CDC, ...)"))  # fmt: skip
    reply_entries: dict[str, Any] = grounding.get("responses") or {}
    for name in SAFETY_REPLIES:
        if name in replies and name not in reply_entries:
            problems.append(Problem(grounding_file, _line_of(lines, "responses:"),
                f"the safety reply {name} has no entry under `responses` -- list its safety lines"))  # fmt: skip
    for name, entry in reply_entries.items():
        variants = replies.get(name, (None, []))[1]
        for item in (entry or {}).get("safety") or []:
            item = item if isinstance(item, dict) else {}
            says, source = str(item.get("says") or ""), item.get("source")
            where = _line_of(lines, f"  {name}:")
            if not says or source not in sources:
                problems.append(Problem(grounding_file, where,
                    f"responses.{name}: each safety line needs `says` and a `source` listed under `sources`"))  # fmt: skip
            elif not any(plain(says) in plain(v) for v in variants):
                problems.append(Problem(grounding_file, where,
                    f"responses.{name}: {says!r} is not said in any variant of {name}"))  # fmt: skip
    for topic, spec in (grounding.get("topics") or {}).items():
        stated = answers.get(topic)
        for item in (spec or {}).get("safety") or []:
            says = str((item or {}).get("says") or "") if isinstance(item, dict) else ""
            if stated and says and plain(says) not in plain(stated.text):
                problems.append(Problem(stated.path, stated.line,
                    f"utter_faq/{topic} does not say the safety fact {says!r} -- say it, or drop the line"))  # fmt: skip

    review_file = root / CLINICAL_REVIEW
    review = (
        " ".join(words(review_file.read_text(encoding="utf-8")))
        if review_file.is_file()
        else ""
    )
    topics = grounding.get("topics") or {}
    for name, answer, text in texts:
        base = name.split("[")[0]
        faq_topic = base.split("/", 1)[1] if base.startswith("utter_faq/") else ""
        medical = (
            faq_topic != "" and (topics.get(faq_topic) or {}).get("kind") != "service"
        ) or base in SAFETY_REPLIES
        if medical and " ".join(words(text)) not in review:
            problems.append(Problem(answer.path, answer.line,
                f"{name} is not the text {CLINICAL_REVIEW} shows -- run python -m tools.clinical_review "
                "and have the clinician sign the review again"))  # fmt: skip
    return problems


NEAR_COPY_JACCARD = 0.7
REAL_LABEL_RE = re.compile(
    r"^(?:faq/([a-z0-9_]+)|not_in_article/[a-z0-9_]+|urgent/(?:emergency|crisis))$"
)


def _items_with_lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The list entries of a YAML file, each with the line it starts on."""
    text = path.read_text(encoding="utf-8")
    node = compose_yaml(text)
    data = load_yaml(text) or []
    if not isinstance(node, yaml.SequenceNode) or not isinstance(data, list):
        return []
    return [
        (item.start_mark.line + 1, entry if isinstance(entry, dict) else {})
        for item, entry in zip(node.value, data, strict=True)
    ]


def _words_of(text: str) -> tuple[str, frozenset[str]]:
    key = normalise(text)
    return key, frozenset(key.split())


def _near(a: tuple[str, frozenset[str]], b: tuple[str, frozenset[str]]) -> bool:
    (x, wa), (y, wb) = a, b
    if x == y:
        return True
    small, large = sorted((len(wa), len(wb)))
    if small < 4 or small < NEAR_COPY_JACCARD * large:
        return False  # the Jaccard index is at most small / large
    return len(wa & wb) / len(wa | wb) >= NEAR_COPY_JACCARD


def near_copy(a: str, b: str) -> bool:
    """The same words, or nearly (a training phrasing copied from a real one)."""
    return _near(_words_of(a), _words_of(b))


def check_real_set(
    root: Path, training: list[Phrasing], topics: set[str]
) -> list[Problem]:
    """tests/real/: labelled, sourced, and kept out of the training data."""
    questions_file = root / "tests" / "real" / "questions.yml"
    provenance_file = root / "tests" / "real" / "provenance.yml"
    if not questions_file.is_file():
        return []
    problems: list[Problem] = []
    questions = _items_with_lines(questions_file)
    sources = {
        str(entry.get("id")): (line, entry)
        for line, entry in (
            _items_with_lines(provenance_file) if provenance_file.is_file() else []
        )
    }
    seen: set[str] = set()
    for line, entry in questions:
        qid, text = str(entry.get("id") or ""), str(entry.get("text") or "")
        label = str(entry.get("label") or "")
        if not qid or not text.strip() or qid in seen:
            problems.append(Problem(questions_file, line,
                f"real question {qid or '?'} needs a unique id and its text -- copy it verbatim"))  # fmt: skip
        seen.add(qid)
        match = REAL_LABEL_RE.match(label)
        if not match or (match.group(1) and match.group(1) not in topics):
            problems.append(Problem(questions_file, line,
                f"real question {qid}: label {label!r} -- use faq/<topic>, not_in_article/<why> or urgent/<emergency|crisis>"))  # fmt: skip
        also = entry.get("also")
        if also is not None and (
            not isinstance(also, list)
            or not label.startswith("faq/")
            or any(
                not isinstance(t, str)
                or t == label
                or not t.startswith("faq/")
                or t.split("/", 1)[1] not in topics
                for t in also
            )
            or not str(entry.get("also_why") or "").strip()
        ):
            problems.append(Problem(questions_file, line,
                f"real question {qid}: also {also!r} -- a list of other faq/<topic> "
                "whose answer also answers it (not its label), with also_why"))  # fmt: skip
        url = str((sources.get(qid, (0, {}))[1]).get("url") or "")
        if not url.startswith(("https://", "http://")):
            problems.append(Problem(questions_file, line,
                f"real question {qid} has no public source -- add its url to tests/real/provenance.yml"))  # fmt: skip
    # by number of distinct words: a near copy has between 0.7 and 1/0.7 times
    # as many as the phrasing, so only that slice is compared
    real = sorted(
        (
            (len(words[1]), n, line, entry, words)
            for n, (line, entry) in enumerate(questions)
            for words in [_words_of(str(entry.get("text") or ""))]
        ),
        key=lambda r: r[0],
    )
    sizes = [r[0] for r in real]
    for phrasing in training:
        mine = _words_of(phrasing.text)
        size = len(mine[1])
        start = bisect.bisect_left(sizes, NEAR_COPY_JACCARD * size)
        stop = bisect.bisect_right(sizes, size / NEAR_COPY_JACCARD)
        copied = [r for r in real[start:stop] if _near(mine, r[4])]
        if copied:
            _, _, line, entry, _ = min(copied, key=lambda r: r[1])  # first in the file
            problems.append(Problem(phrasing.path, phrasing.line,
                f"'{phrasing.text}' copies real-visitor test question {entry.get('id')} "
                f"({questions_file.relative_to(root)}:{line}) -- real questions are test-only; "
                "write your own phrasing in their style"))  # fmt: skip
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check the training data beyond rasa data validate"
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="project directory (default: this one)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the problems as JSON"
    )
    args = parser.parse_args(argv)
    try:
        problems = check(args.root.resolve())
    except (OSError, yaml.YAMLError) as error:
        print(f"check-data: cannot read the data: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                [
                    {"file": str(p.path), "line": p.line, "message": p.message}
                    for p in problems
                ],
                indent=2,
            )
        )
    else:
        for problem in problems:
            print(problem)
        topics = len(
            {p.intent for p in read_phrasings(args.root / "data" / "nlu" / "faq.yml")}
        )
        print(f"check-data: {len(problems)} problem(s); {topics} FAQ topics checked")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
