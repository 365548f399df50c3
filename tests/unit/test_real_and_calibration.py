"""The real-visitor measure (tools/evaluate_real) and the topic calibration."""

from __future__ import annotations

from typing import Any

import pytest

from tools.calibrate_topic import calibrate, selector_choice
from tools.evaluate_real import check_gates, offered, outcome, summarise

HONEST = {"faq/in_body", "faq/dosage"}


@pytest.mark.parametrize(
    "expected, predicted, result",
    [
        ("faq/withdrawal", "faq/withdrawal", "right"),
        ("faq/withdrawal", "faq/stopping", "wrong"),
        ("faq/withdrawal", "nlu_fallback", "honest"),
        ("not_in_article/drug_test", "faq/in_body", "honest"),
        ("not_in_article/dosing_taper", "faq/dosage", "honest"),
        ("not_in_article/drug_test", "faq/how_it_works", "wrong"),
        ("not_in_article/pregnancy", "crisis", "urgent"),
        ("urgent/emergency", "crisis", "right"),
        ("urgent/crisis", "faq/overdose", "wrong"),
    ],
)
def test_outcome(expected: str, predicted: str, result: str) -> None:
    assert outcome(expected, predicted, HONEST) == result


def fallback_parse(topics: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "intent": {"name": "nlu_fallback", "confidence": 0.3},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.3},
            {"name": "faq", "confidence": 0.95},
        ],
        "response_selector": {"faq": {
            "response": {"intent_response_key": topics[0][0], "confidence": topics[0][1]},
            "ranking": [{"intent_response_key": k, "confidence": c} for k, c in topics],
        }},  # fmt: skip
        "topic_fallback": {"topic": topics[0][0], "confidence": topics[0][1]},
    }


def test_did_you_mean_offers_only_the_top_two() -> None:
    parse = fallback_parse(
        [("faq/stopping", 0.3), ("faq/withdrawal", 0.25), ("faq/signs", 0.2)]
    )
    assert offered(parse, "faq/withdrawal")
    assert not offered(parse, "faq/signs")
    assert not offered(parse, "not_in_article/other")


def row(expected: str, result: str, offer: bool = False) -> dict[str, Any]:
    return {
        "text": "a question",
        "expected": expected,
        "outcome": result,
        "offered": offer,
    }


def test_summary_and_gates() -> None:
    rows = [row("faq/a", "right")] * 9 + [row("faq/a", "honest", True)]
    rows += [row("not_in_article/x", "honest")] * 9 + [row("not_in_article/x", "wrong")]
    summary = summarise(rows)
    assert summary["right_topic"] == 0.9
    assert summary["right_or_offered"] == 1.0
    assert summary["honest_when_not_in_article"] == 0.9
    assert summary["other_topic_answer_overall"] == 0.05
    missed = check_gates(summary)
    assert len(missed) == 1 and "other_topic_answer_overall is 0.050" in missed[0]
    rows[-1] = row("not_in_article/x", "honest")
    assert check_gates(summarise(rows)) == []


def test_an_equivalent_answer_counts_only_in_the_second_figures() -> None:
    from tools.evaluate_real import judge

    question = {"text": "q", "label": "faq/stopping", "also": ["faq/home_detox"]}
    equivalent = judge(question, "faq/home_detox", set())
    other = judge(question, "faq/signs", set())
    assert equivalent["outcome"] == "wrong" and equivalent["answered"]
    assert other["outcome"] == "wrong" and not other["answered"]
    summary = summarise([equivalent, other])
    assert summary["right_topic"] == 0.0 and summary["right_answer"] == 0.5
    assert summary["other_topic_answer_overall"] == 1.0
    assert summary["other_answer_overall"] == 0.5


def test_selector_choice_reads_the_set_aside_topic() -> None:
    parse = fallback_parse([("faq/stopping", 0.3)])
    assert selector_choice(parse) == ("faq/stopping", 0.3)
    assert selector_choice({"intent": {"name": "greet"}}) is None


def test_calibration_bands_and_the_suggested_threshold() -> None:
    points = [(0.95, True)] * 50 + [(0.35, True)] * 3 + [(0.35, False)] * 7
    result = calibrate(points, max_wrong=0.03)
    bands = {b["band"]: b for b in result["bands"]}
    assert bands["0.9-1.0"] == {"band": "0.9-1.0", "messages": 50, "right": 1.0}
    assert bands["0.3-0.4"]["right"] == 0.3
    assert result["suggested"] == 0.4  # the first threshold above the wrong ones
    at = {r["threshold"]: r for r in result["thresholds"]}
    assert at[0.0]["wrong"] == 7 and at[0.4]["did_you_mean"] == 10


def test_the_compared_pipelines_are_derived_from_config_yml() -> None:
    import yaml

    from common.paths import ROOT
    from tools.compare_pipelines import derive

    config = yaml.safe_load((ROOT / "config.yml").read_text())
    names = [c["name"].rsplit(".", 1)[-1] for c in config["pipeline"]]
    assert "TopicScorer" in names and "TopicFallback" in names

    def of(variant: str) -> list[str]:
        return [
            c["name"].rsplit(".", 1)[-1] for c in derive(config, variant, 7)["pipeline"]
        ]

    assert of("chosen") == names
    assert (
        of("encoder_features").index("SentenceEncoderFeaturizer")
        == names.index("SpacyFeaturizer") + 1
    )
    assert "TopicScorer" in names and "TopicScorer" not in of("no_scorer")
    assert "TopicFallback" not in of("no_topic_threshold")
    seeds = {c.get("random_seed") for c in derive(config, "chosen", 7)["pipeline"]
             if c["name"] in ("DIETClassifier", "ResponseSelector")}  # fmt: skip
    assert seeds == {7}
    assert config == yaml.safe_load(
        (ROOT / "config.yml").read_text()
    ), "config untouched"
