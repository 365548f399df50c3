"""The regression gate: a new model must not be worse than the last accepted one.

Compares the held-out figures of the new model (results/nlu/report.json, written
by `make nlu-gate`) with those of the last accepted model
(config/accepted-model.json, committed), and fails when
- crisis or emergency recall drops at all, or
- FAQ or trap accuracy falls by more than one point (0.01), or mixing,
  running-out or visitors'-style accuracy by more than about one phrasing of
  its set (0.03, 0.07, 0.02), or
- on the real-visitor set (results/real/report.json, written by
  tools/evaluate_real), the right-topic or honest share falls by more than two
  points, or the share answered with another topic's answer rises by more
  than one.
A figure the accepted record lacks (recorded before the figure existed) is
shown and not compared.
With --accept (`make accept-model`), a model that passes becomes the accepted one.
A deliberate trade (a drop the project wants, e.g. "Did you mean" instead of an
unsure answer) is accepted only with --accept --because "<why>"
(`make accept-model WHY="..."`): the reason and the figures it replaced are
recorded in the accepted file, for review.
The figures are printed either way.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from common.paths import ROOT

REPORT = ROOT / "results" / "nlu" / "report.json"
REAL_REPORT = ROOT / "results" / "real" / "report.json"
ACCEPTED = ROOT / "config" / "accepted-model.json"

# metric -> largest drop allowed
RULES = {
    "crisis_recall": 0.0,
    "emergency_recall": 0.0,
    "faq_accuracy": 0.01,
    "traps_accuracy": 0.01,
    # small sets: about one phrasing's worth (40, 15 and 138 phrasings)
    "mixing_accuracy": 0.03,
    "running_out_accuracy": 0.07,
    "visitors_accuracy": 0.02,
    "real_right_topic": 0.02,
    "real_honest": 0.02,
    "real_other_topic": 0.01,
    # the same two, counting an equivalent answer (a question's ``also``)
    "real_right_answer": 0.02,
    "real_other_answer": 0.01,
}
#: figures where lower is better: the allowed change is a rise
LOWER_IS_BETTER = {"real_other_topic", "real_other_answer"}
#: the real-visitor figures, from tools/evaluate_real's summary
REAL_FIGURES = {
    "real_right_topic": "right_topic",
    "real_honest": "honest_when_not_in_article",
    "real_other_topic": "other_topic_answer_overall",
    "real_right_answer": "right_answer",
    "real_other_answer": "other_answer_overall",
}


def compare(
    accepted: dict[str, float], new: dict[str, float]
) -> tuple[bool, list[str]]:
    lines = [
        f"{'held-out figure':18} {'accepted':>9} {'new':>9} {'change':>8}  verdict"
    ]
    ok = True
    for metric, allowed in RULES.items():
        if metric not in new:
            continue
        if metric not in accepted:
            lines.append(
                f"{metric:18} {'-':>9} {float(new[metric]):9.4f} {'':>8}  new figure"
            )
            continue
        old_value, new_value = float(accepted[metric]), float(new[metric])
        change = new_value - old_value
        worse = change if metric in LOWER_IS_BETTER else -change
        passed = worse <= allowed + 1e-9
        ok &= passed
        word = "rise" if metric in LOWER_IS_BETTER else "drop"
        limit = f"no {word} allowed" if allowed == 0 else f"max {word} {allowed:.2f}"
        verdict = "ok" if passed else f"WORSE ({limit})"
        lines.append(
            f"{metric:18} {old_value:9.4f} {new_value:9.4f} {change:+8.4f}  {verdict}"
        )
    return ok, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--accepted", type=Path, default=ACCEPTED)
    parser.add_argument("--real-report", type=Path, default=REAL_REPORT)
    parser.add_argument(
        "--accept",
        action="store_true",
        help="record the new model as accepted if it passes",
    )
    parser.add_argument(
        "--because",
        default="",
        help="with --accept: accept a model that fails, for this recorded reason",
    )
    args = parser.parse_args(argv)
    if not args.report.is_file():
        print(
            f"gate: {args.report} not found -- run `make nlu-gate` first",
            file=sys.stderr,
        )
        return 2
    report: dict[str, Any] = json.loads(args.report.read_text())
    new = report.get("sets")
    if not isinstance(new, dict) or {
        "crisis_recall",
        "emergency_recall",
        "faq_accuracy",
    } - set(new):
        print(
            f"gate: {args.report} has no held-out set figures -- rerun `make nlu-gate`",
            file=sys.stderr,
        )
        return 2
    new = dict(new)
    if args.real_report.is_file():
        summary = json.loads(args.real_report.read_text()).get("summary") or {}
        new.update({k: summary[v] for k, v in REAL_FIGURES.items() if v in summary})
    if not args.accepted.is_file():
        print(
            f"gate: no accepted model yet ({args.accepted}); run `make accept-model` to record this one"
        )
        ok = True
    else:
        accepted = json.loads(args.accepted.read_text())
        ok, lines = compare(accepted["sets"], new)
        print(
            f"Regression gate: {report.get('model')} against the accepted {accepted.get('model')}"
        )
        print("\n".join(lines))
    if args.because and not args.accept:
        print("gate: --because only goes with --accept", file=sys.stderr)
        return 2
    overridden = not ok and args.accept and bool(args.because.strip())
    if not ok and not overridden:
        print(
            "gate: REFUSED -- the new model is worse than the accepted one on the held-out sets."
        )
        print("      Look at the misses above (make nlu-gate), fix the data, retrain.")
        return 1
    if args.accept:
        record = {
            "model": Path(str(report.get("model"))).name,
            "accepted_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "examples": report.get("examples"),
            "macro_f1": report.get("macro_f1"),
            "sets": {k: new[k] for k in RULES if k in new},
        }
        previous = (
            json.loads(args.accepted.read_text()) if args.accepted.is_file() else {}
        )
        # the same model again (e.g. the real set grew): keep why it was accepted
        kept = previous.get("accepted_despite_the_gate")
        if not overridden and previous.get("model") == record["model"] and kept:
            record["accepted_despite_the_gate"] = kept
        if overridden:
            record["accepted_despite_the_gate"] = {
                "because": args.because.strip(),
                "replaced": {
                    "model": previous.get("model"),
                    "sets": previous.get("sets"),
                },
            }
        args.accepted.write_text(json.dumps(record, indent=2) + "\n")
        print(f"gate: accepted; figures recorded in {args.accepted} (commit it)")
    else:
        print("gate: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
