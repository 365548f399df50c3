"""How the assistant does on questions real people wrote (tests/real/).

``python -m tools.evaluate_real --model models/<model>.tar.gz`` parses every
question of tests/real/questions.yml with the trained model and prints, for the
questions the article answers, how often the right topic comes back, and for the
questions it cannot answer, how often the reply is honest (the "Did you mean"
fallback, or a topic whose answer says it can't answer: ``kind: cannot_answer``
in knowledge/grounding.yml) rather than another topic's answer. Writes
results/real/report.json.

``make nlu-gate`` runs it and prints which of issue 11's gates are missed; with
``--gate`` it also fails on a miss (to be added to ``make nlu-gate`` once the
gates are met; until then the regression gate fails on any drop). The gates:
the right topic for at least 90 % of the questions the article answers, the
honest reply for at least 90 % of those it doesn't, and another topic's answer
for at most 3 % of all questions. "Did you mean ...?" is not counted as right,
even when it offers the right topic (``offered`` in the report).

Some answers overlap (stopping and home_detox both say "a slow taper planned
with your prescriber"). A question's ``also`` lists the other topics whose
answer, too, answers what was asked, judged by a reader who saw the
questions and the answer texts but no prediction. The gates count the label
alone; ``right_answer`` and ``other_answer_overall`` count ``also`` too, and
are printed beside them.
These questions are test-only (make check-data refuses a copy in training).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml

from common import paths
from tools.evaluate_nlu import label_of, predict

URGENT = {"emergency", "crisis"}
FALLBACK = "nlu_fallback"
#: issue 11's gates: figure -> (at least / at most, value)
GATES: dict[str, tuple[str, float]] = {
    "right_topic": ("min", 0.90),
    "honest_when_not_in_article": ("min", 0.90),
    "other_topic_answer_overall": ("max", 0.03),
}


def load(path: Path = paths.TESTS / "real" / "questions.yml") -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8")) or [])


def honest_topics(grounding: Path = paths.GROUNDING) -> set[str]:
    """faq/<topic> labels whose answer says it can't answer (and who can)."""
    topics = (yaml.safe_load(grounding.read_text(encoding="utf-8")) or {})["topics"]
    return {
        f"faq/{name}"
        for name, spec in topics.items()
        if isinstance(spec, dict) and spec.get("kind") == "cannot_answer"
    }


def outcome(expected: str, predicted: str, honest: set[str]) -> str:
    """right / honest / urgent / wrong for one question.

    A question labelled ``urgent/<level>`` is right when either urgent level
    answers it (both lead to 911 and 988).
    """
    if predicted == expected or (
        expected.startswith("urgent/") and predicted in URGENT
    ):
        return "right"
    if predicted in URGENT:
        return "urgent"
    if predicted == FALLBACK or predicted in honest:
        return "honest"
    return "wrong"


def answerable(expected: str, honest: Collection[str] = frozenset()) -> bool:
    """Whether the label is an article topic (not an honest "can't answer")."""
    return expected.startswith("faq/") and expected not in honest


def _group(expected: str, honest: frozenset[str] = frozenset()) -> str:
    """answerable / not_in_article / urgent: what kind of reply the question needs."""
    if expected.startswith("urgent/"):
        return "urgent"
    if answerable(expected, honest):
        return "answerable"
    return "not_in_article"


def judge(question: dict[str, Any], predicted: str, honest: set[str]) -> dict[str, Any]:
    """One question's row for ``summarise``: its outcome and the reply it needs;
    ``answered``: the label's answer or one of ``also`` was given."""
    return {
        "text": question["text"],
        "expected": question["label"],
        "outcome": outcome(question["label"], predicted, honest),
        "answered": predicted == question["label"]
        or predicted in (question.get("also") or ()),
        "group": _group(question["label"], frozenset(honest)),
    }


def offered(parse: dict[str, Any], expected: str) -> bool:
    """Whether "Did you mean ...?" would offer the expected topic (top two)."""
    from actions.faq import ranked_guesses

    if label_of(parse) != FALLBACK or not expected.startswith("faq/"):
        return False
    topics = [g for g, _ in ranked_guesses(parse) if g not in URGENT][:2]
    return expected.split("/", 1)[1] in topics


def check_gates(summary: dict[str, Any]) -> list[str]:
    """The gates missed, as lines to print (empty when all pass)."""
    missed = []
    for figure, (kind, limit) in GATES.items():
        value = float(summary[figure])
        if (kind == "min" and value < limit) or (kind == "max" and value > limit):
            word = "at least" if kind == "min" else "at most"
            missed.append(
                f"real-visitor gate: {figure} is {value:.3f}, needs {word} {limit:.2f}"
            )
    return missed


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    # a question whose right reply is a cannot_answer topic (faq/in_body, ...)
    # is one the article doesn't answer: any honest reply counts for it
    answerable = [
        r for r in rows if r.get("group", _group(r["expected"])) == "answerable"
    ]
    outside = [
        r for r in rows if r.get("group", _group(r["expected"])) == "not_in_article"
    ]
    urgent = [r for r in rows if r["expected"].startswith("urgent/")]

    def portion(items: list[dict[str, Any]], test: Any) -> float:
        return (
            round(sum(bool(test(r)) for r in items) / len(items), 4) if items else 0.0
        )

    def share(items: list[dict[str, Any]], kinds: set[str]) -> float:
        return portion(items, lambda r: r["outcome"] in kinds)

    long = [r for r in rows if len(r["text"].split()) > 20]
    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "not_in_article": len(outside),
        "urgent": len(urgent),
        "longer_than_20_words": len(long),
        "right_topic": share(answerable, {"right"}),
        "right_or_offered": portion(
            answerable, lambda r: r["outcome"] == "right" or r.get("offered", False)
        ),
        "urgent_recall": share(urgent, {"right"}),
        "honest_when_not_in_article": share(outside, {"honest", "right"}),
        "other_topic_answer_overall": share(rows, {"wrong"}),
        "right_topic_long": share([r for r in long if r in answerable], {"right"}),
        # the label's answer or an equivalent one (``also``)
        "right_answer": portion(answerable, lambda r: r.get("answered", False)),
        "other_answer_overall": portion(
            rows, lambda r: r["outcome"] == "wrong" and not r.get("answered", False)
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--out", default=paths.ROOT / "results" / "real", type=Path)
    parser.add_argument(
        "--gate", action="store_true", help="fail below issue 11's gates"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING)
    os.chdir(paths.ROOT)  # config.yml names the spaCy pipeline by a relative path

    questions = load()
    honest = honest_topics()
    parses = asyncio.run(predict(args.model, [q["text"] for q in questions]))
    rows = []
    for question, parse in zip(questions, parses, strict=True):
        predicted = label_of(parse)
        rows.append({
            "id": question["id"], **judge(question, predicted, honest),
            "predicted": predicted,
            "confidence": round(float((parse.get("intent") or {}).get("confidence") or 0), 3),
            "offered": offered(parse, question["label"]),
        })  # fmt: skip
    summary = summarise(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"model": str(args.model), "summary": summary, "rows": rows}
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    for key, value in summary.items():
        print(f"{key:30} {value}")
    print(f"Report: {args.out / 'report.json'}")
    missed = check_gates(summary)
    for line in missed:
        print(line, file=sys.stderr)
    return 1 if args.gate and missed else 0


if __name__ == "__main__":
    sys.exit(main())
