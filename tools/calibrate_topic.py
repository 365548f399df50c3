"""Calibrate the topic threshold of TopicFallback on held-out phrasings.

``python -m tools.calibrate_topic --model models/<model>.tar.gz`` parses every
held-out phrasing of tests/nlu/*.yml (never the real-visitor set: that one
only measures) and, for each message the classifier reads as a FAQ question,
takes the ResponseSelector's topic and its confidence. It prints

- the calibration: for each confidence band, how often the topic was right;
- for each candidate threshold, how many answers would be sent, how many of
  them right, and how many "Did you mean" instead;
- the suggested threshold: the lowest one at which at most ``--max-wrong``
  (3 %) of the answers sent are another topic's answer.

Writes results/calibration/calibration.json and calibration.md (the table in
docs/pipeline-comparison.md). The threshold in config.yml is set by hand from
this, so a change is visible in review.
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

from common import paths
from common.parse import selected_topic
from tools.evaluate_nlu import load_examples, predict

BANDS = [i / 10 for i in range(11)]
THRESHOLDS = [round(i * 0.05, 2) for i in range(0, 20)]


def selector_choice(parse: dict[str, Any]) -> tuple[str | None, float] | None:
    """(topic, confidence) when the classifier read a FAQ question, else None.

    TopicFallback may have turned ``faq`` into ``nlu_fallback``; it records the
    topic it set aside under ``topic_fallback``.
    """
    intent = (parse.get("intent") or {}).get("name")
    if intent != "faq" and not parse.get("topic_fallback"):
        return None
    return selected_topic(parse)


def calibrate(points: list[tuple[float, bool]], max_wrong: float) -> dict[str, Any]:
    """Bands, thresholds and the suggestion from (confidence, right) points."""
    bands = []
    for low, high in zip(BANDS, BANDS[1:], strict=False):
        inside = [
            right
            for c, right in points
            if low <= c < high or (high == 1.0 and c == 1.0)
        ]
        bands.append({
            "band": f"{low:.1f}-{high:.1f}", "messages": len(inside),
            "right": round(sum(inside) / len(inside), 3) if inside else None,
        })  # fmt: skip
    rows = []
    for t in THRESHOLDS:
        sent = [right for c, right in points if c >= t]
        wrong = len(sent) - sum(sent)
        rows.append({
            "threshold": t, "answered": len(sent), "right": sum(sent), "wrong": wrong,
            "did_you_mean": len(points) - len(sent),
            "wrong_share": round(wrong / len(sent), 4) if sent else 0.0,
        })  # fmt: skip
    suggested = next(
        (r["threshold"] for r in rows if r["wrong_share"] <= max_wrong), None
    )
    return {"bands": bands, "thresholds": rows, "suggested": suggested}


def markdown(result: dict[str, Any]) -> str:
    lines = ["| topic confidence | held-out messages | share right |", "|---|---|---|"]
    for band in result["bands"]:
        right = "" if band["right"] is None else f"{band['right']:.2f}"
        lines.append(f"| {band['band']} | {band['messages']} | {right} |")
    lines += [
        "",
        "| threshold | answered | right | another topic's | Did you mean |",
        "|---|---|---|---|---|",
    ]
    for r in result["thresholds"]:
        if r["threshold"] * 100 % 10 == 0 or r["threshold"] == result["suggested"]:
            lines.append(f"| {r['threshold']:.2f} | {r['answered']} | {r['right']} | "
                         f"{r['wrong']} ({r['wrong_share']:.1%}) | {r['did_you_mean']} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--tests", default=paths.TESTS / "nlu", type=Path)
    parser.add_argument("--max-wrong", default=0.03, type=float)
    parser.add_argument(
        "--out", default=paths.ROOT / "results" / "calibration", type=Path
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING)
    os.chdir(paths.ROOT)

    examples = load_examples(args.tests)
    parses = asyncio.run(predict(args.model, [text for text, _, _ in examples]))
    points: list[tuple[float, bool]] = []
    for (_text, label, _file), parse in zip(examples, parses, strict=True):
        choice = selector_choice(parse)
        if choice is not None:
            points.append((choice[1], choice[0] == label))
    if not points:
        print(f"calibrate: no held-out phrasing read as a FAQ question in {args.tests}",
              file=sys.stderr)  # fmt: skip
        return 2
    result = calibrate(points, args.max_wrong)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "calibration.json").write_text(json.dumps(result, indent=2))
    table = markdown(result)
    (args.out / "calibration.md").write_text(table)
    print(table)
    print(
        f"suggested threshold (at most {args.max_wrong:.0%} wrong): {result['suggested']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
