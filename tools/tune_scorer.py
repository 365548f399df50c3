"""`make tune-scorer`: choose TopicScorer's blend settings on held-out data only.

The trained model parses every held-out phrasing (tests/nlu/). For each message
the classifier reads as a FAQ question, the ResponseSelector's own ranking and
the encoder's similarities to the training phrasings are recorded before the
blend, so any ``weight``, ``temperature`` and ``neighbours`` can be replayed
without retraining (TopicScorer's own ``topic_distribution`` and ``blend``),
followed by TopicFallback's threshold. The best settings are the most accurate
on held-out data among those that answer no more held-out phrasings with
another topic's answer than the current ones do.

The real-visitor set (tests/real/) is replayed for the best settings and the
current ones, and printed beside them: it is *reported*, never used to choose
(issue 11: measure on what real people write, but don't tune on it).
Writes results/tune-scorer.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from common import paths
from common.parse import topic_ranking
from tools.calibrate_topic import selector_choice
from tools.evaluate_nlu import label_of, load_examples
from tools.evaluate_real import FALLBACK, answerable, honest_topics, judge, summarise
from tools.evaluate_real import load as load_real

WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
TEMPERATURES = (0.02, 0.03, 0.05, 0.08)
NEIGHBOURS = (1, 2, 3, 5)
THRESHOLDS = (0.2, 0.3, 0.4)


@dataclass(frozen=True)
class Settings:
    weight: float
    temperature: float
    neighbours: int
    threshold: float
    #: TopicScorer's trust_selector_above (None: the encoder always asked)
    trust: float | None = None


@dataclass
class Parsed:
    """One message: Rasa's final label, and what the blend saw (FAQ only)."""

    label: str
    selector: dict[str, float] | None = None
    similarities: np.ndarray | None = None


def current_settings() -> Settings:
    """TopicScorer's and TopicFallback's settings in config.yml."""
    from rasa_server.nlu.topic_scorer import TopicScorer

    pipeline = yaml.safe_load((paths.ROOT / "config.yml").read_text())["pipeline"]
    scorer = {**TopicScorer.get_default_config()}
    threshold = None
    for step in pipeline:
        if step["name"].endswith("TopicScorer"):
            scorer.update(step)
        if step["name"].endswith("TopicFallback"):
            threshold = float(step["threshold"])
    if threshold is None:
        raise SystemExit("config.yml: no TopicFallback in the pipeline")
    trust = scorer["trust_selector_above"]
    return Settings(
        float(scorer["weight"]),
        float(scorer["temperature"]),
        int(scorer["neighbours"]),
        threshold,
        None if trust is None else float(trust),
    )


async def parse_all(model: Path, texts: list[str]) -> tuple[list[Parsed], list[str]]:
    """Parse every text, recording the blend's inputs; also the encoder's labels."""
    from rasa_server.model_load import load_agent
    from rasa_server.nlu.topic_scorer import TopicScorer

    seen: dict[str, tuple[dict[str, float], np.ndarray]] = {}
    labels: list[str] = []
    original, sure = TopicScorer._blend_into, TopicScorer._sure

    def recording(self: TopicScorer, message: Any, similarities: np.ndarray) -> None:
        labels[:] = self._labels
        seen[str(message.get("text"))] = (dict(topic_ranking(message)), similarities)
        original(self, message, similarities)

    TopicScorer._blend_into = recording  # type: ignore[method-assign]
    # the encoder is asked for every FAQ question here, so that any
    # trust_selector_above can be replayed too
    TopicScorer._sure = lambda self, message: False  # type: ignore[method-assign]
    try:
        agent = load_agent(str(model))
        parsed = []
        for text in texts:
            parse = await agent.parse_message(text)
            selector, similarities = seen.pop(text, (None, None))
            # the blend decides only FAQ answers and TopicFallback's "Did you
            # mean"; Rasa's FallbackClassifier and the safety net come after
            # it and overrule it whatever the settings
            if selector_choice(parse) is None:
                selector = similarities = None
            parsed.append(Parsed(label_of(parse), selector, similarities))
    finally:
        TopicScorer._blend_into = original  # type: ignore[method-assign]
        TopicScorer._sure = sure  # type: ignore[method-assign]
    return parsed, labels


def replay(parsed: Parsed, labels: list[str], s: Settings) -> str:
    """The label the pipeline would give with settings ``s``."""
    from rasa_server.nlu.topic_scorer import (
        blend,
        selector_is_sure,
        topic_distribution,
    )

    if parsed.selector is None or parsed.similarities is None:
        return parsed.label
    if selector_is_sure(parsed.selector, s.trust):
        top, confidence = max(parsed.selector.items(), key=lambda tp: tp[1])
        return top if confidence >= s.threshold else FALLBACK
    encoder = topic_distribution(
        parsed.similarities, labels, s.neighbours, s.temperature
    )
    top, confidence = blend(parsed.selector, encoder, s.weight)[0]
    return top if confidence >= s.threshold else FALLBACK


def held_out_figures(
    parsed: list[Parsed], expected: list[str], labels: list[str], s: Settings
) -> dict[str, float]:
    got = [replay(p, labels, s) for p in parsed]
    right = sum(g == e for g, e in zip(got, expected, strict=True))
    wrong = sum(
        g.startswith("faq/") and g != e for g, e in zip(got, expected, strict=True)
    )
    n = len(expected)
    return {"accuracy": right / n, "other_topic_answer": wrong / n}


def real_figures(
    parsed: list[Parsed],
    questions: list[dict[str, Any]],
    labels: list[str],
    s: Settings,
    honest: set[str],
) -> dict[str, Any]:
    rows = [
        judge(q, replay(p, labels, s), honest)
        for p, q in zip(parsed, questions, strict=True)
    ]
    summary = summarise(rows)
    return {
        k: summary[k]
        for k in (
            "right_topic",
            "honest_when_not_in_article",
            "other_topic_answer_overall",
            "right_topic_long",
        )
    }


def reader_ceiling(
    parsed: list[Parsed],
    expected: list[str],
    labels: list[str],
    s: Settings,
    honest: set[str],
) -> dict[str, Any]:
    """How far choosing between these two readers can go: on the messages
    whose right answer is an article topic (the questions issue 11's
    right-topic gate counts: not an honest "can't answer" topic), how often
    that topic is the selector's first choice, the encoder's, either one's,
    or in the encoder's first three.

    "either" bounds any rule that picks one reader's first choice (a blend
    nearly always does; it can also rank a topic both put second first).
    """
    from rasa_server.nlu.topic_scorer import topic_distribution

    counts = {"selector": 0, "encoder": 0, "either": 0, "encoder_top3": 0}
    total = 0
    for p, want in zip(parsed, expected, strict=True):
        if not answerable(want, honest):
            continue
        total += 1
        if p.selector is None or p.similarities is None:
            continue  # not read as a FAQ question: no blend can answer it
        encoder = topic_distribution(
            p.similarities, labels, s.neighbours, s.temperature
        )
        by_encoder = sorted(encoder, key=lambda t: -encoder[t])
        selector = p.selector
        selector_first = max(selector, key=lambda t: selector[t])
        counts["selector"] += selector_first == want
        counts["encoder"] += by_encoder[0] == want
        counts["either"] += want in (selector_first, by_encoder[0])
        counts["encoder_top3"] += want in by_encoder[:3]
    return {"questions": total} | {
        k: round(v / total, 3) if total else 0.0 for k, v in counts.items()
    }


def grid(trust: float | None) -> Iterable[Settings]:
    for w, t, n, th in itertools.product(WEIGHTS, TEMPERATURES, NEIGHBOURS, THRESHOLDS):
        yield Settings(w, t, n, th, trust)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--top", type=int, default=5, help="settings to print")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING)
    os.chdir(paths.ROOT)  # config.yml names the spaCy pipeline by a relative path

    held = load_examples(paths.TESTS / "nlu")
    questions = load_real()
    texts = [t for t, _, _ in held] + [q["text"] for q in questions]
    parsed, labels = asyncio.run(parse_all(args.model, texts))
    if not labels:
        raise SystemExit("the model's TopicScorer saw no FAQ question: nothing to tune")
    held_parsed, real_parsed = parsed[: len(held)], parsed[len(held) :]
    expected = [label for _, label, _ in held]
    honest = honest_topics()

    now = current_settings()
    current = held_out_figures(held_parsed, expected, labels, now)
    scored = sorted(
        (
            (f["accuracy"], s, f)
            for s in grid(now.trust)
            for f in [held_out_figures(held_parsed, expected, labels, s)]
            if f["other_topic_answer"] <= current["other_topic_answer"]
        ),
        key=lambda x: -x[0],
    )
    result: dict[str, Any] = {
        "held_out_examples": len(held),
        "real_questions": len(questions),
        "grid": len(scored),
        "current": {
            "settings": now.__dict__,
            "held_out": current,
            "real": real_figures(real_parsed, questions, labels, now, honest),
        },
        "best": [
            {
                "settings": s.__dict__,
                "held_out": f,
                "real": real_figures(real_parsed, questions, labels, s, honest),
            }
            for _, s, f in scored[: args.top]
        ],
    }
    real_expected = [str(q["label"]) for q in questions]
    result["ceiling"] = {
        "held_out": reader_ceiling(held_parsed, expected, labels, now, honest),
        "real": reader_ceiling(real_parsed, real_expected, labels, now, honest),
    }
    out = paths.ROOT / "results" / "tune-scorer.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))

    def line(name: str, entry: dict[str, Any]) -> str:
        s, h, r = entry["settings"], entry["held_out"], entry["real"]
        return (
            f"{name:8} w={s['weight']:.1f} t={s['temperature']:.2f} "
            f"n={s['neighbours']} th={s['threshold']:.1f} trust={s['trust']} | held-out acc "
            f"{h['accuracy']:.3f} other {h['other_topic_answer']:.3f} | real right "
            f"{r['right_topic']:.3f} honest {r['honest_when_not_in_article']:.3f} "
            f"other {r['other_topic_answer_overall']:.3f} long {r['right_topic_long']:.3f}"
        )

    print(
        f"{len(held)} held-out phrasings choose; {len(questions)} real ones are only reported."
    )
    print(line("current", result["current"]))
    for rank, entry in enumerate(result["best"], 1):
        print(line(f"best {rank}", entry))
    for name, c in result["ceiling"].items():
        print(
            f"ceiling  {name}: of {c['questions']} questions on article topics, first choice right: "
            f"selector {c['selector']:.3f}, encoder {c['encoder']:.3f}, either "
            f"{c['either']:.3f} (the most that picking one of them can get); the "
            f"encoder's first three {c['encoder_top3']:.3f}"
        )
    print(f"Written: {out.relative_to(paths.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
