"""`make tune-scorer`: choose TopicScorer's blend settings on held-out data only.

The trained model parses every held-out phrasing (tests/nlu/). For each message
the classifier reads as a FAQ question, the ResponseSelector's own ranking and
the encoder reader's distribution over the topics (TopicScorer's
``encoder_distribution``: the trained softmax regression, or the nearest
phrasings) are recorded before the blend, so any ``weight`` and
``trust_selector_above`` can be replayed without retraining (TopicScorer's own
``blend``), followed by TopicFallback's threshold.

The held-out phrasings in visitors' style (tests/nlu/visitors_test.yml: long,
personal, other drugs named) are the held-out set closest to real questions,
and the one where another topic's answer is commonest, so the choice is made
there: the best settings are the most accurate on that set among those that
answer at most ``MAX_WRONG`` (3 %) of its FAQ answers with another topic's
answer and keep the held-out macro-F1 gate (``MIN_F1``, 0.90; every "Did you
mean" counts as a miss there).

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
from tools.evaluate_nlu import label_of, load_examples, macro_f1_of
from tools.evaluate_real import FALLBACK, answerable, honest_topics, judge, summarise
from tools.evaluate_real import load as load_real

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
THRESHOLDS = (0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
TRUSTS = (None, 0.8, 0.9)
#: the held-out set the choice is made on, and its limits
VISITORS = "visitors_test.yml"
MAX_WRONG = 0.03
MIN_F1 = 0.90


@dataclass(frozen=True)
class Settings:
    weight: float
    threshold: float
    #: TopicScorer's trust_selector_above (None: the encoder always asked)
    trust: float | None = None


@dataclass
class Parsed:
    """One message: Rasa's final label, and what the blend saw (FAQ only)."""

    label: str
    selector: dict[str, float] | None = None
    encoder: dict[str, float] | None = None


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
        float(scorer["weight"]), threshold, None if trust is None else float(trust)
    )


async def parse_all(model: Path, texts: list[str]) -> list[Parsed]:
    """Parse every text, recording the blend's inputs."""
    from rasa_server.model_load import load_agent
    from rasa_server.nlu.topic_scorer import TopicScorer

    seen: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
    original, sure = TopicScorer._blend_into, TopicScorer._sure

    def recording(self: TopicScorer, message: Any, vector: np.ndarray) -> None:
        seen[str(message.get("text"))] = (
            dict(topic_ranking(message)),
            self.encoder_distribution(vector),
        )
        original(self, message, vector)

    TopicScorer._blend_into = recording  # type: ignore[method-assign]
    # the encoder is asked for every FAQ question here, so that any
    # trust_selector_above can be replayed too
    TopicScorer._sure = lambda self, message: False  # type: ignore[method-assign]
    try:
        agent = load_agent(str(model))
        parsed = []
        for text in texts:
            parse = await agent.parse_message(text)
            selector, encoder = seen.pop(text, (None, None))
            # the blend decides only FAQ answers and TopicFallback's "Did you
            # mean"; Rasa's FallbackClassifier and the safety net come after
            # it and overrule it whatever the settings
            if selector_choice(parse) is None:
                selector = encoder = None
            parsed.append(Parsed(label_of(parse), selector, encoder))
    finally:
        TopicScorer._blend_into = original  # type: ignore[method-assign]
        TopicScorer._sure = sure  # type: ignore[method-assign]
    return parsed


def replay(parsed: Parsed, s: Settings) -> str:
    """The label the pipeline would give with settings ``s``."""
    from rasa_server.nlu.topic_scorer import blend, selector_is_sure

    if parsed.selector is None or parsed.encoder is None:
        return parsed.label
    if selector_is_sure(parsed.selector, s.trust):
        top, confidence = max(parsed.selector.items(), key=lambda tp: tp[1])
        return top if confidence >= s.threshold else FALLBACK
    top, confidence = blend(parsed.selector, parsed.encoder, s.weight)[0]
    return top if confidence >= s.threshold else FALLBACK


def held_out_figures(
    parsed: list[Parsed],
    expected: list[str],
    s: Settings,
    files: list[str] | None = None,
) -> dict[str, float]:
    """Accuracy and another topic's answers (of all messages); with ``files``,
    also the macro-F1 and the visitors'-style set's accuracy and its share of
    FAQ answers that are another topic's."""
    got = [replay(p, s) for p in parsed]
    right = sum(g == e for g, e in zip(got, expected, strict=True))
    wrong = sum(
        g.startswith("faq/") and g != e for g, e in zip(got, expected, strict=True)
    )
    n = len(expected)
    figures = {"accuracy": right / n, "other_topic_answer": wrong / n}
    if files is None:
        return figures
    visitors = [
        (g, e) for g, e, f in zip(got, expected, files, strict=True) if f == VISITORS
    ]
    answers = [(g, e) for g, e in visitors if g.startswith("faq/")]
    return figures | {
        "macro_f1": macro_f1_of(expected, got),
        "visitors_accuracy": (
            sum(g == e for g, e in visitors) / len(visitors) if visitors else 0.0
        ),
        "visitors_wrong_of_answers": (
            sum(g != e for g, e in answers) / len(answers) if answers else 0.0
        ),
    }


def acceptable(figures: dict[str, float]) -> bool:
    """Within the choice's limits (module docstring)."""
    return (
        figures["macro_f1"] >= MIN_F1
        and figures["visitors_wrong_of_answers"] <= MAX_WRONG
    )


def real_figures(
    parsed: list[Parsed],
    questions: list[dict[str, Any]],
    s: Settings,
    honest: set[str],
) -> dict[str, Any]:
    rows = [
        judge(q, replay(p, s), honest) for p, q in zip(parsed, questions, strict=True)
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
    parsed: list[Parsed], expected: list[str], honest: set[str]
) -> dict[str, Any]:
    """How far choosing between these two readers can go: on the messages
    whose right answer is an article topic (the questions issue 11's
    right-topic gate counts: not an honest "can't answer" topic), how often
    that topic is the selector's first choice, the encoder's, either one's,
    or in the encoder's first three.

    "either" bounds any rule that picks one reader's first choice (a blend
    nearly always does; it can also rank a topic both put second first).
    """
    counts = {"selector": 0, "encoder": 0, "either": 0, "encoder_top3": 0}
    total = 0
    for p, want in zip(parsed, expected, strict=True):
        if not answerable(want, honest):
            continue
        total += 1
        if p.selector is None or p.encoder is None:
            continue  # not read as a FAQ question: no blend can answer it
        encoder = p.encoder
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


def grid() -> Iterable[Settings]:
    for w, th, trust in itertools.product(WEIGHTS, THRESHOLDS, TRUSTS):
        yield Settings(w, th, trust)


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
    parsed = asyncio.run(parse_all(args.model, texts))
    if not any(p.encoder for p in parsed):
        raise SystemExit("the model's TopicScorer saw no FAQ question: nothing to tune")
    held_parsed, real_parsed = parsed[: len(held)], parsed[len(held) :]
    expected = [label for _, label, _ in held]
    honest = honest_topics()

    files = [f for _, _, f in held]
    now = current_settings()
    current = held_out_figures(held_parsed, expected, now, files)
    scored = sorted(
        (
            ((f["visitors_accuracy"], f["accuracy"]), s, f)
            for s in grid()
            for f in [held_out_figures(held_parsed, expected, s, files)]
            if acceptable(f)
        ),
        key=lambda x: (-x[0][0], -x[0][1]),
    )
    result: dict[str, Any] = {
        "held_out_examples": len(held),
        "real_questions": len(questions),
        "grid": len(scored),
        "current": {
            "settings": now.__dict__,
            "held_out": current,
            "real": real_figures(real_parsed, questions, now, honest),
        },
        "best": [
            {
                "settings": s.__dict__,
                "held_out": f,
                "real": real_figures(real_parsed, questions, s, honest),
            }
            for _, s, f in scored[: args.top]
        ],
    }
    real_expected = [str(q["label"]) for q in questions]
    result["ceiling"] = {
        "held_out": reader_ceiling(held_parsed, expected, honest),
        "real": reader_ceiling(real_parsed, real_expected, honest),
    }
    out = paths.ROOT / "results" / "tune-scorer.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))

    def line(name: str, entry: dict[str, Any]) -> str:
        s, h, r = entry["settings"], entry["held_out"], entry["real"]
        return (
            f"{name:8} w={s['weight']:.1f} th={s['threshold']:.2f} "
            f"trust={s['trust']} | held-out acc {h['accuracy']:.3f} other "
            f"{h['other_topic_answer']:.3f} F1 {h['macro_f1']:.3f} visitors acc "
            f"{h['visitors_accuracy']:.3f} wrong {h['visitors_wrong_of_answers']:.3f}"
            f" | real right "
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
