"""The one reader of the assistant's data files: NLU phrasings, answers, stories,
the domain's intents, and the held-out test sets (the same format).

Every phrasing and answer keeps its file and line, so a check can say
``file:line: what -- how to fix``. Pure YAML: no Rasa import, so the tools, the
tests and both servers can use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: libyaml's parser when PyYAML was built with it (the pinned wheel is): the
#: same safe loading and line marks, about ten times faster on these files
LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with the fast loader."""
    return yaml.load(text, Loader=LOADER)  # noqa: S506 (a safe loader)


def compose_yaml(text: str) -> Any:
    """``yaml.compose`` (nodes with line marks) with the fast loader."""
    return yaml.compose(text, Loader=LOADER)


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
    button_titles: list[tuple[str, int]] = field(default_factory=list)


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _mapping_items(
    node: yaml.Node | None,
) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield str(key.value), key, value


def read_phrasings(path: Path) -> list[Phrasing]:
    """Every example of every intent in an NLU file, with its line number."""
    root = compose_yaml(path.read_text(encoding="utf-8"))
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
    root = compose_yaml(path.read_text(encoding="utf-8"))
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
                    title = fields.get("title")
                    if isinstance(title, yaml.ScalarNode):
                        answer.button_titles.append(
                            (str(title.value), title.start_mark.line + 1)
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
    data: Any = load_yaml(domain.read_text(encoding="utf-8")) or {}
    intents: set[str] = set()
    for item in data.get("intents") or []:
        intents.add(next(iter(item)) if isinstance(item, dict) else str(item))
    return intents


def read_examples(paths: list[Path]) -> list[Phrasing]:
    """Every phrasing of every NLU file in ``paths``, in order."""
    return [p for path in paths for p in read_phrasings(path)]


def phrasings_by_intent(paths: list[Path]) -> dict[str, list[str]]:
    """{intent: [phrasing, ...]} over ``paths``, in file order."""
    out: dict[str, list[str]] = {}
    for phrasing in read_examples(paths):
        out.setdefault(phrasing.intent, []).append(phrasing.text)
    return out
