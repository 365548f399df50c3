"""How the assistant does on questions real people wrote (tests/real/).

``python -m tools.evaluate_real --model models/<model>.tar.gz`` parses every
question of tests/real/questions.yml with the trained model and prints, for the
questions the article answers, how often the right topic comes back, and for the
questions it cannot answer, how often the reply is honest (the "Did you mean"
fallback, or a topic whose answer says it can't answer: ``kind: cannot_answer``
in knowledge/grounding.yml) rather than another topic's answer. Writes
results/real/report.json.

A measurement, not a gate yet: issue 11 sets the gates this set must pass.
These questions are test-only (make check-data refuses a copy in training).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from common import paths
from tools.evaluate_nlu import label_of, predict

URGENT = {"emergency", "crisis"}
FALLBACK = "nlu_fallback"


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
    """right / honest / urgent / wrong for one question."""
    if predicted == expected:
        return "right"
    if predicted in URGENT:
        return "urgent"
    if predicted == FALLBACK or predicted in honest:
        return "honest"
    return "wrong"


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["expected"].startswith("faq/")]
    outside = [r for r in rows if not r["expected"].startswith("faq/")]

    def share(items: list[dict[str, Any]], kinds: set[str]) -> float:
        return (
            round(sum(r["outcome"] in kinds for r in items) / len(items), 4)
            if items
            else 0.0
        )

    long = [r for r in rows if len(r["text"].split()) > 20]
    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "not_in_article": len(outside),
        "longer_than_20_words": len(long),
        "right_topic": share(answerable, {"right"}),
        "honest_when_not_in_article": share(outside, {"honest"}),
        "other_topic_answer_overall": share(rows, {"wrong"}),
        "right_topic_long": share([r for r in long if r in answerable], {"right"}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--out", default=paths.ROOT / "results" / "real", type=Path)
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
            "id": question["id"], "text": question["text"],
            "expected": question["label"], "predicted": predicted,
            "confidence": round(float((parse.get("intent") or {}).get("confidence") or 0), 3),
            "outcome": outcome(question["label"], predicted, honest),
        })  # fmt: skip
    summary = summarise(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"model": str(args.model), "summary": summary, "rows": rows}
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    for key, value in summary.items():
        print(f"{key:30} {value}")
    print(f"Report: {args.out / 'report.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
