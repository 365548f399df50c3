"""Score a trained model on the held-out NLU test set and gate the build.

Each test phrasing in tests/nlu/*.yml has a label: an intent (`admissions`) or a
FAQ topic (`faq/withdrawal`). The model's label for a message is its intent, or,
for `faq`, the topic the ResponseSelector picked. We report per-label precision,
recall and F1, the confusion matrix (PNG) and every error, then fail when

* the macro-F1 over the test labels is below --min-f1 (default 0.90), or
* any emergency / crisis test message is not routed to emergency or crisis
  (urgent recall must be 100%).
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

from common.data import read_examples
from common.parse import selected_topic
from common.paths import ROOT

URGENT = {"emergency", "crisis"}


def load_examples(test_dir: Path) -> list[tuple[str, str, str]]:
    """(text, label, file) for every example in the YAML NLU files of test_dir."""
    return [
        (p.text, p.intent, p.path.name)
        for p in read_examples(sorted(test_dir.glob("*.yml")))
    ]


def macro_f1_of(expected: list[str], predicted: list[str]) -> float:
    """The mean F1 over the expected labels (the held-out gate's figure)."""
    from sklearn.metrics import precision_recall_fscore_support

    _, _, f1, _ = precision_recall_fscore_support(
        expected, predicted, labels=sorted(set(expected)), zero_division=0
    )
    return float(sum(f1) / len(f1))


def label_of(parse: dict[str, Any]) -> str:
    intent = (parse.get("intent") or {}).get("name") or "none"
    if intent == "faq":
        return selected_topic(parse)[0] or "faq"
    return str(intent)


async def predict(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    from rasa_server.model_load import load_agent

    agent = load_agent(str(model))
    return [await agent.parse_message(text) for text in texts]


def plot_confusion(labels: list[str], matrix: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = max(8, len(labels) * 0.42)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i][j]:
                ax.text(j, i, str(matrix[i][j]), ha="center", va="center", fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("expected")
    ax.set_title("Held-out NLU test set: confusion matrix")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description="Held-out NLU evaluation gate")
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--tests", default=ROOT / "tests" / "nlu", type=Path)
    parser.add_argument("--out", default=ROOT / "results" / "nlu", type=Path)
    parser.add_argument("--min-f1", default=0.90, type=float)
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING)
    os.chdir(ROOT)  # config.yml names the spaCy pipeline by a relative path

    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    examples = load_examples(args.tests)
    if not examples:
        print(f"No test examples found in {args.tests}")
        return 1
    texts = [t for t, _, _ in examples]
    expected = [label for _, label, _ in examples]
    parses = asyncio.run(predict(args.model, texts))
    predicted = [label_of(p) for p in parses]

    labels = sorted(set(expected))
    precision, recall, f1, support = precision_recall_fscore_support(
        expected, predicted, labels=labels, zero_division=0
    )
    macro_f1 = float(sum(f1) / len(f1))  # as macro_f1_of, from the F1s above
    accuracy = sum(e == p for e, p in zip(expected, predicted, strict=False)) / len(
        expected
    )
    urgent = [(e, p) for e, p in zip(expected, predicted, strict=False) if e in URGENT]
    urgent_missed = [
        (t, e, p)
        for t, e, p in zip(texts, expected, predicted, strict=False)
        if e in URGENT and p not in URGENT
    ]
    false_urgent = [
        (t, e, p)
        for t, e, p in zip(texts, expected, predicted, strict=False)
        if e not in URGENT and p in URGENT
    ]
    urgent_recall = 1 - len(urgent_missed) / len(urgent) if urgent else 1.0
    errors = [
        {"text": t, "expected": e, "predicted": p, "file": f,
         "confidence": round(float((parse.get("intent") or {}).get("confidence") or 0), 3),
         "safety_net": parse.get("safety_net")}
        for (t, e, f), p, parse in zip(examples, predicted, parses, strict=False) if e != p
    ]  # fmt: skip

    args.out.mkdir(parents=True, exist_ok=True)
    per_label = {
        label: {"precision": round(float(p), 3), "recall": round(float(r), 3),
                "f1": round(float(f), 3), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=False)
    }  # fmt: skip
    def accuracy_of(file: str) -> float:
        pairs = [
            (e, p)
            for (_, e, f), p in zip(examples, predicted, strict=True)
            if f == file
        ]
        return round(sum(e == p for e, p in pairs) / len(pairs), 4) if pairs else 1.0

    def recall_of(label: str) -> float:
        return (
            round(float(per_label[label]["recall"]), 4) if label in per_label else 1.0
        )

    # the figures the regression gate (tools/regression_gate.py) compares
    sets = {
        "faq_accuracy": accuracy_of("faq_test.yml"),
        "crisis_recall": recall_of("crisis"),
        "emergency_recall": recall_of("emergency"),
        "traps_accuracy": accuracy_of("traps_test.yml"),
        "mixing_accuracy": accuracy_of("mixing_test.yml"),
        "running_out_accuracy": accuracy_of("running_out_test.yml"),
        "visitors_accuracy": accuracy_of("visitors_test.yml"),
    }
    report = {
        "model": str(args.model),
        "sets": sets,
        "examples": len(examples),
        "macro_f1": round(macro_f1, 4),
        "accuracy": round(accuracy, 4),
        "urgent_recall": round(urgent_recall, 4),
        "false_urgent": len(false_urgent),
        "per_label": per_label,
        "errors": errors,
    }
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    all_labels = sorted(set(expected) | set(predicted))
    matrix = confusion_matrix(expected, predicted, labels=all_labels)
    plot_confusion(all_labels, matrix.tolist(), args.out / "confusion_matrix.png")

    print(f"{'label':28} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>4}")
    for label, row in per_label.items():
        print(
            f"{label:28} {row['precision']:6.2f} {row['recall']:6.2f} {row['f1']:6.2f} {row['support']:4d}"
        )
    print(
        f"\nexamples: {len(examples)}  accuracy: {accuracy:.3f}  macro-F1: {macro_f1:.3f}"
    )
    print(
        f"urgent recall: {urgent_recall:.3f}  non-urgent messages routed as urgent: {len(false_urgent)}"
    )
    for e in errors:
        print(
            f"  miss: {e['text']!r}: expected {e['expected']}, got {e['predicted']} ({e['confidence']})"
        )
    print(
        f"Report: {args.out / 'report.json'}, confusion matrix: {args.out / 'confusion_matrix.png'}"
    )

    failed = False
    if macro_f1 < args.min_f1:
        print(f"FAIL: macro-F1 {macro_f1:.3f} is below {args.min_f1:.2f}")
        failed = True
    if urgent_missed:
        print(
            f"FAIL: {len(urgent_missed)} emergency/crisis message(s) not routed as urgent:"
        )
        for text, want, got in urgent_missed:
            print(f"  {text!r}: expected {want}, got {got}")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
