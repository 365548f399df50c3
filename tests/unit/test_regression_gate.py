"""The regression gate (tools/regression_gate.py) refuses a worse model."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools import regression_gate as gate

ROOT = Path(__file__).resolve().parents[2]

BASE = {
    "faq_accuracy": 0.93,
    "crisis_recall": 1.0,
    "emergency_recall": 1.0,
    "traps_accuracy": 0.96,
}


def files(
    tmp_path: Path,
    new: dict[str, float],
    accepted: dict[str, float] | None = BASE,
    real: dict[str, float] | None = None,
) -> list[str]:
    real_report = tmp_path / "real.json"
    if real is not None:
        real_report.write_text(json.dumps({"summary": real}))
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {"model": "models/new.tar.gz", "examples": 10, "macro_f1": 0.9, "sets": new}
        )
    )
    args = ["--report", str(report), "--accepted", str(tmp_path / "accepted.json"),
            "--real-report", str(real_report)]  # fmt: skip
    if accepted is not None:
        (tmp_path / "accepted.json").write_text(
            json.dumps({"model": "old.tar.gz", "sets": accepted})
        )
    return args


@pytest.mark.parametrize(
    "change, passes",
    [
        ({}, True),
        ({"faq_accuracy": 0.921}, True),  # 0.9 point down: allowed
        ({"faq_accuracy": 0.95}, True),
        ({"faq_accuracy": 0.919}, False),  # 1.1 points down
        ({"crisis_recall": 0.98}, False),  # any drop in crisis recall
        ({"emergency_recall": 0.99}, False),
        ({"traps_accuracy": 0.94}, False),
    ],
)
def test_the_gate(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, float],
    passes: bool,
) -> None:
    assert gate.main(files(tmp_path, {**BASE, **change})) == (0 if passes else 1)
    out = capsys.readouterr().out
    assert "faq_accuracy" in out and "0.9300" in out, "the figures are printed"
    assert ("REFUSED" in out) == (not passes)


REAL = {"right_topic": 0.9, "honest_when_not_in_article": 0.92,
        "other_topic_answer_overall": 0.02}  # fmt: skip
ACCEPTED_REAL = {
    **BASE,
    "real_right_topic": 0.9,
    "real_honest": 0.92,
    "real_other_topic": 0.02,
}


@pytest.mark.parametrize(
    "change, passes",
    [
        ({}, True),
        ({"right_topic": 0.881}, True),  # 1.9 points down: allowed
        ({"right_topic": 0.879}, False),
        ({"honest_when_not_in_article": 0.89}, False),
        ({"other_topic_answer_overall": 0.029}, True),  # 0.9 points up: allowed
        ({"other_topic_answer_overall": 0.031}, False),  # lower is better
        ({"other_topic_answer_overall": 0.0}, True),
    ],
)
def test_the_gate_compares_the_real_visitor_figures(
    tmp_path: Path, change: dict[str, float], passes: bool
) -> None:
    args = files(tmp_path, BASE, ACCEPTED_REAL, {**REAL, **change})
    assert gate.main(args) == (0 if passes else 1)


def test_the_figures_with_equivalent_answers_are_compared_too(tmp_path: Path) -> None:
    accepted = {**ACCEPTED_REAL, "real_right_answer": 0.95, "real_other_answer": 0.01}
    real = {**REAL, "right_answer": 0.95, "other_answer_overall": 0.01}
    assert gate.main(files(tmp_path, BASE, accepted, real)) == 0
    worse = {**real, "other_answer_overall": 0.025}
    assert gate.main(files(tmp_path, BASE, accepted, worse)) == 1
    fewer = {**real, "right_answer": 0.92}
    assert gate.main(files(tmp_path, BASE, accepted, fewer)) == 1


def test_a_figure_the_accepted_record_lacks_is_shown_not_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = files(tmp_path, {**BASE, "mixing_accuracy": 0.5}, BASE, REAL)
    assert gate.main(args) == 0
    out = capsys.readouterr().out
    assert "mixing_accuracy" in out and "new figure" in out
    assert "real_other_topic" in out


def test_a_deliberate_trade_is_accepted_only_with_a_recorded_reason(
    tmp_path: Path,
) -> None:
    worse = {**BASE, "faq_accuracy": 0.80}
    assert gate.main([*files(tmp_path, worse), "--accept"]) == 1
    assert json.loads((tmp_path / "accepted.json").read_text())["sets"] == BASE
    assert gate.main([*files(tmp_path, worse), "--because", "x"]) == 2  # needs --accept
    args = [*files(tmp_path, worse), "--accept", "--because", "Did you mean instead"]
    assert gate.main(args) == 0
    record = json.loads((tmp_path / "accepted.json").read_text())
    assert record["sets"]["faq_accuracy"] == 0.80
    assert record["accepted_despite_the_gate"] == {
        "because": "Did you mean instead",
        "replaced": {"model": "old.tar.gz", "sets": BASE},
    }


def test_accepting_the_same_model_again_keeps_the_recorded_reason(
    tmp_path: Path,
) -> None:
    worse = {**BASE, "faq_accuracy": 0.80}
    args = [*files(tmp_path, worse), "--accept", "--because", "a trade"]
    assert gate.main(args) == 0
    reason = json.loads((tmp_path / "accepted.json").read_text())[
        "accepted_despite_the_gate"
    ]
    report = tmp_path / "report.json"
    again = {**worse, "traps_accuracy": 0.97}  # same model, a test set grew
    report.write_text(json.dumps({"model": "models/new.tar.gz", "sets": again}))
    assert gate.main(args[:-2]) == 0  # --accept, no reason needed
    record = json.loads((tmp_path / "accepted.json").read_text())
    assert record["sets"] == again
    assert record["accepted_despite_the_gate"] == reason
    report.write_text(json.dumps({"model": "models/newer.tar.gz", "sets": again}))
    assert gate.main(args[:-2]) == 0  # another model: the old reason does not apply
    assert "accepted_despite_the_gate" not in json.loads(
        (tmp_path / "accepted.json").read_text()
    )


def test_accept_records_a_passing_model_only(tmp_path: Path) -> None:
    args = files(tmp_path, {**BASE, "crisis_recall": 0.5})
    assert gate.main([*args, "--accept"]) == 1
    assert json.loads((tmp_path / "accepted.json").read_text())["sets"] == BASE
    better: dict[str, Any] = {**BASE, "faq_accuracy": 0.95}
    args = files(tmp_path, better)
    assert gate.main([*args, "--accept"]) == 0
    record = json.loads((tmp_path / "accepted.json").read_text())
    assert record["sets"] == better and record["model"] == "new.tar.gz"


def test_first_model_and_missing_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gate.main(files(tmp_path, BASE, accepted=None)) == 0
    assert "no accepted model yet" in capsys.readouterr().out
    assert gate.main(["--report", str(tmp_path / "none.json")]) == 2


def test_the_committed_accepted_figures_are_complete() -> None:
    record = json.loads(gate.ACCEPTED.read_text())
    assert set(record["sets"]) == set(gate.RULES)
    assert all(0 <= value <= 1 for value in record["sets"].values())
