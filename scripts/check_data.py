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
  SAMHSA) are allowed everywhere.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MIN_TRAINING = 14
MIN_HELD_OUT = 10
MAX_ANSWER_WORDS = 90

PUBLIC_NUMBERS = {"18002221222", "18006624357"}  # Poison Help, SAMHSA
PHONE_RE = re.compile(
    r"(?<![\w/])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}(?!\d)"
)
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
OPEN_FAQ_RE = re.compile(r'^/open_faq\{"faq_topic": "([a-z0-9_]+)"\}$')
INTENT_RE = re.compile(r"^/([a-z0-9_]+)$")


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


@dataclass
class Phrasing:
    text: str
    intent: str
    path: Path
    line: int


@dataclass
class Answer:
    name: str
    path: Path
    line: int
    text: str
    buttons: list[tuple[str, int]] = field(default_factory=list)


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


# --------------------------------------------------------------------------- reading


def _mapping_items(
    node: yaml.Node | None,
) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield str(key.value), key, value


def read_phrasings(path: Path) -> list[Phrasing]:
    """Every example of every intent in an NLU file, with its line number."""
    root = yaml.compose(path.read_text(encoding="utf-8"))
    out: list[Phrasing] = []
    for name, _, blocks in _mapping_items(root):
        if name != "nlu" or not isinstance(blocks, yaml.SequenceNode):
            continue
        for block in blocks.value:
            items = {k: v for k, _, v in _mapping_items(block)}
            intent, examples = items.get("intent"), items.get("examples")
            if intent is None or not isinstance(examples, yaml.ScalarNode):
                continue
            # a block scalar starts on the line after its "|" indicator
            first = examples.start_mark.line + 2
            for offset, raw in enumerate(str(examples.value).splitlines()):
                stripped = raw.strip()
                if stripped.startswith("- "):
                    out.append(
                        Phrasing(
                            stripped[2:].strip(),
                            str(intent.value),
                            path,
                            first + offset,
                        )
                    )
    return out


def read_answers(path: Path) -> list[Answer]:
    root = yaml.compose(path.read_text(encoding="utf-8"))
    out: list[Answer] = []
    for name, _, responses in _mapping_items(root):
        if name != "responses":
            continue
        for response, key, variants in _mapping_items(responses):
            if not isinstance(variants, yaml.SequenceNode) or not variants.value:
                continue
            first = variants.value[0]
            items = {k: v for k, _, v in _mapping_items(first)}
            text = items.get("text")
            answer = Answer(
                response,
                path,
                key.start_mark.line + 1,
                str(text.value) if isinstance(text, yaml.ScalarNode) else "",
            )
            buttons = items.get("buttons")
            if isinstance(buttons, yaml.SequenceNode):
                for button in buttons.value:
                    fields = {k: v for k, _, v in _mapping_items(button)}
                    payload = fields.get("payload")
                    if isinstance(payload, yaml.ScalarNode):
                        answer.buttons.append(
                            (str(payload.value), payload.start_mark.line + 1)
                        )
            out.append(answer)
    return out


def story_intents(paths: list[Path]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        for match in re.finditer(
            r"^\s*intent:\s*(\S+)\s*$", path.read_text(encoding="utf-8"), re.M
        ):
            found.add(match.group(1))
    return found


def domain_intents(domain: Path) -> set[str]:
    data: Any = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}
    intents: set[str] = set()
    for item in data.get("intents") or []:
        intents.add(next(iter(item)) if isinstance(item, dict) else str(item))
    return intents


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
    for p in held_out:
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
                f"topic faq/{topic} has {len(held)} held-out test phrasings in tests/nlu/faq_test.yml, "
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
    grounding: Any = yaml.safe_load(grounding_file.read_text(encoding="utf-8")) or {}
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
            entry.get("kind") not in ("service", "cannot_answer", "safety")
            and len(entry.get("facts") or []) < 2
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
        for payload, line in answer.buttons:
            problems += check_payload(payload, answer, line, set(by_topic), intents)

    problems += check_contacts(root)
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
    data: Any = yaml.safe_load(
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
