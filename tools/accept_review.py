"""`make accept-review`: add the messages staff labelled in var/review/review.yml
to the training data, each under its intent in the right file of data/nlu/.

- ``topic: faq/<topic>`` for an existing topic: appended to that topic's examples;
- ``topic: faq/<new_topic>``: a new block at the end of data/nlu/faq.yml
  (`make check-data` then lists what the new topic still needs: an answer,
  held-out phrasings, a test story; docs/staff-guide.md says how);
- ``topic: <intent>`` (admissions, emergency, ...): appended under that intent;
- empty: skipped.

Skipped, with the reason: a message already in the training or test data, and a
message with masked personal data in it ([name], [phone], [email]). Accepted
items are removed from review.yml, so running it twice adds nothing twice.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from common.data import domain_intents, normalise, read_phrasings
from common.paths import ROOT

TOPIC_RE = re.compile(r"^(faq/)?[a-z][a-z0-9_]*$")
MASKS = ("[name]", "[phone]", "[email]")


def known_phrasings(root: Path) -> set[str]:
    """Every training and test phrasing, normalised as check-data compares them."""
    files = [
        *(root / "data" / "nlu").glob("*.yml"),
        *(root / "tests" / "nlu").glob("*.yml"),
    ]
    return {normalise(p.text) for path in files for p in read_phrasings(path)}


def find_block(root: Path, intent: str) -> tuple[Path, int] | None:
    """(file, index of the line after the intent's last example) or None.

    An intent can have blocks in several files (a topic's follow-up phrasings
    sit in data/nlu/conversation.yml); new phrasings go to its largest block,
    its home."""
    found: list[tuple[int, Path, int]] = []
    for path in sorted((root / "data" / "nlu").glob("*.yml")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if line.strip() == f"- intent: {intent}":
                last = i + 1  # the "examples: |" line
                end = i + 1
                count = 0
                while end < len(lines) and not lines[end].strip().startswith(
                    "- intent:"
                ):
                    if lines[end].strip().startswith("- "):
                        last = end
                        count += 1
                    end += 1
                found.append((count, path, last + 1))
    if not found:
        return None
    _, path, index = max(found, key=lambda item: item[0])
    return path, index


def insert_examples(
    path: Path, index: int, examples: list[str], indent: str = "      "
) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[index:index] = [f"{indent}- {text}" for text in examples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def accept(
    root: Path, review_file: Path, domain_intents: set[str]
) -> tuple[list[str], list[str]]:
    """Returns (what was added, problems)."""
    data: Any = yaml.safe_load(review_file.read_text(encoding="utf-8")) or {}
    items = data.get("items") or []
    known = known_phrasings(root)
    by_intent: dict[str, list[str]] = {}
    added, problems, remaining = [], [], []
    for item in items:
        topic = str(item.get("topic") or "").strip()
        text = " ".join(str(item.get("text") or "").split())
        if not topic:
            remaining.append(item)
            continue
        where = f"{review_file.name} item {item.get('id')}"
        if not TOPIC_RE.match(topic):
            problems.append(
                f"{where}: topic '{topic}' -- use faq/<topic> or an intent name, in lowercase_with_underscores"
            )
            remaining.append(item)
            continue
        if not topic.startswith("faq/") and topic not in domain_intents:
            problems.append(
                f"{where}: '{topic}' is not an intent in domain.yml (FAQ topics start with faq/)"
            )
            remaining.append(item)
            continue
        if any(mask in text for mask in MASKS):
            problems.append(
                f"{where}: '{text}' contains masked personal data; add a reworded phrasing by hand"
            )
            continue
        if normalise(text) in known or not text:
            added.append(f"skipped (already in the data): {text}")
            continue
        known.add(normalise(text))
        by_intent.setdefault(topic, []).append(text)

    for intent, examples in by_intent.items():
        block = find_block(root, intent)
        if block is None:
            if not intent.startswith("faq/"):
                problems.append(f"intent {intent} has no training block in data/nlu/")
                continue
            path = root / "data" / "nlu" / "faq.yml"
            text = path.read_text(encoding="utf-8").rstrip("\n")
            body = "\n".join(f"      - {e}" for e in examples)
            path.write_text(
                f"{text}\n\n  - intent: {intent}\n    examples: |\n{body}\n",
                encoding="utf-8",
            )
            added += [f"{intent} (NEW topic) <- {e}" for e in examples]
        else:
            path, index = block
            insert_examples(path, index, examples)
            added += [f"{intent} <- {e}  ({path.relative_to(root)})" for e in examples]

    header = "".join(
        line + "\n"
        for line in review_file.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    )
    review_file.write_text(
        header
        + yaml.safe_dump({"items": remaining}, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return added, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Add labelled review messages to the training data"
    )
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument(
        "--review",
        type=Path,
        default=None,
        help="default: <root>/var/review/review.yml",
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    review_file = args.review or root / "var" / "review" / "review.yml"
    if not review_file.is_file():
        print(
            f"accept-review: {review_file} not found -- run `make review` first",
            file=sys.stderr,
        )
        return 2
    try:
        added, problems = accept(root, review_file, domain_intents(root / "domain.yml"))
    except yaml.YAMLError as error:
        print(
            f"accept-review: {review_file} is not valid YAML: {error}", file=sys.stderr
        )
        return 2
    for line in added:
        print(f"  {line}")
    for problem in problems:
        print(f"  PROBLEM {problem}", file=sys.stderr)
    new = sum(1 for line in added if not line.startswith("skipped"))
    print(f"accept-review: {new} phrasing(s) added, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
