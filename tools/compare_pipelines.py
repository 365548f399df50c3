"""Compare NLU pipelines on both held-out sets, with several seeds each.

``python -m tools.compare_pipelines`` (``make compare-pipelines``; slow: one
NLU training per pipeline and seed) derives each pipeline from config.yml, so
a variant can never drift from the chosen one:

- ``chosen``: config.yml as it is;
- ``neighbours_reader``: TopicScorer reading the encoder's nearest training
  phrasings instead of its softmax regression (the reader before 2026-12-07);
- ``no_scorer``: without TopicScorer (the ResponseSelector's topic alone);
- ``encoder_features``: plus the all-MiniLM-L6-v2 sentence features
  (rasa_server/nlu/encoder_featurizer.py) for DIET and the ResponseSelector;
- ``no_topic_threshold``: without TopicFallback (only Rasa's
  FallbackClassifier on the ``faq`` intent's confidence).

For each seed (the seed of DIET and the ResponseSelector) it trains the first
pipeline's NLU from an empty cache, timed; the other pipelines of that seed
share that cache, so the components they have in common (everything up to the
ResponseSelector) are not trained again and only what differs is (their
training time is not a figure: "cached"). Then it scores each model with the same scripts as
the build: held-out phrasings (tools/evaluate_nlu.py) and real visitors'
questions (tools/evaluate_real.py). It records the held-out FAQ accuracy and
macro-F1, the real-visitor right-topic and honest shares, the confidently
wrong rate (messages of both sets answered with another topic's answer) and
the milliseconds per message of parsing (one message at a time, after a
warm-up). Writes results/variants/comparison.json and
results/pipeline-comparison.md; copy the table into
docs/pipeline-comparison.md when it changes.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from common.paths import ROOT

OUT = ROOT / "results" / "variants"
SEEDS = (42, 7, 2024)
Pipeline = list[dict[str, Any]]


def _without(*names: str) -> Callable[[Pipeline], Pipeline]:
    def derive(pipeline: Pipeline) -> Pipeline:
        return [c for c in pipeline if not str(c["name"]).endswith(names)]

    return derive


def _with_encoder(pipeline: Pipeline) -> Pipeline:
    out: Pipeline = []
    for component in pipeline:
        out.append(component)
        if component["name"] == "SpacyFeaturizer":
            out.append(
                {"name": "rasa_server.nlu.encoder_featurizer.SentenceEncoderFeaturizer"}
            )
    return out


def _neighbours_reader(pipeline: Pipeline) -> Pipeline:
    return [
        {**c, "reader": "neighbours"} if str(c["name"]).endswith(".TopicScorer") else c
        for c in pipeline
    ]


VARIANTS: dict[str, Callable[[Pipeline], Pipeline]] = {
    "chosen": lambda pipeline: pipeline,
    "neighbours_reader": _neighbours_reader,
    "no_scorer": _without(".TopicScorer"),
    "encoder_features": _with_encoder,
    "no_topic_threshold": _without(".TopicFallback"),
}


def derive(config: dict[str, Any], variant: str, seed: int) -> dict[str, Any]:
    """config.yml's content turned into ``variant`` with ``seed``."""
    derived = copy.deepcopy(config)
    derived["pipeline"] = VARIANTS[variant](derived["pipeline"])
    for component in derived["pipeline"]:
        if component["name"] in ("DIETClassifier", "ResponseSelector"):
            component["random_seed"] = seed
    return derived


def _train(config: Path, name: str, log: Path, cache: str) -> float:
    env = dict(os.environ, RASA_CACHE_DIRECTORY=cache)
    started = time.monotonic()
    with open(log, "w") as f:
        done = subprocess.run(
            [str(ROOT / ".venv/bin/rasa"), "train", "nlu", "-c", str(config),
             "--fixed-model-name", name, "--out", str(OUT)],
            cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT,
        )  # fmt: skip
    if done.returncode:
        sys.exit(f"compare-pipelines: training {name} failed -- see {log}")
    return time.monotonic() - started


async def _ms_per_message(model: Path, texts: list[str]) -> float:
    from rasa_server.model_load import load_agent

    agent = load_agent(str(model))
    for text in texts[:20]:  # warm-up: TensorFlow traces its graphs on first use
        await agent.parse_message(text)
    started = time.perf_counter()
    for text in texts:
        await agent.parse_message(text)
    return (time.perf_counter() - started) * 1000 / len(texts)


def _score(model: Path, slug: str) -> dict[str, Any]:
    from tools.evaluate_real import load

    for tool, extra in (("evaluate_nlu", ["--min-f1", "0"]), ("evaluate_real", [])):
        subprocess.run([sys.executable, "-m", f"tools.{tool}", "--model", str(model),
                        "--out", str(OUT / slug / tool), *extra],
                       cwd=ROOT, stdout=subprocess.DEVNULL, check=True)  # fmt: skip
    nlu = json.loads((OUT / slug / "evaluate_nlu" / "report.json").read_text())
    real = json.loads((OUT / slug / "evaluate_real" / "report.json").read_text())
    held_out_wrong = sum(
        e["predicted"].startswith("faq/") and e["predicted"] != e["expected"]
        for e in nlu["errors"]
    )
    real_wrong = sum(r["outcome"] == "wrong" for r in real["rows"])
    texts = [q["text"] for q in load()]
    return {
        "faq_accuracy": nlu["sets"]["faq_accuracy"],
        "macro_f1": nlu["macro_f1"],
        "urgent_recall": nlu["urgent_recall"],
        "real_right_topic": real["summary"]["right_topic"],
        "real_honest": real["summary"]["honest_when_not_in_article"],
        "real_other_topic": real["summary"]["other_topic_answer_overall"],
        "confidently_wrong": round(
            (held_out_wrong + real_wrong) / (nlu["examples"] + len(real["rows"])), 4
        ),
        "ms_per_message": round(asyncio.run(_ms_per_message(model, texts)), 1),
    }


FIGURES = ["faq_accuracy", "macro_f1", "real_right_topic", "real_honest",
           "real_other_topic", "confidently_wrong", "ms_per_message", "train_s"]  # fmt: skip


def table(runs: dict[str, list[dict[str, Any]]]) -> str:
    """Mean (min-max over seeds) of each figure, one row per pipeline."""
    lines = [
        "| pipeline | held-out FAQ accuracy | held-out macro-F1 | real: right topic | "
        "real: honest | real: another topic's answer | confidently wrong (both sets) | "
        "ms / message | NLU training (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, results in runs.items():
        cells = []
        for figure in FIGURES:
            values = [float(r[figure]) for r in results if r[figure] is not None]
            if not values:
                cells.append("cached")
                continue
            digits = (
                0 if figure == "train_s" else 1 if figure == "ms_per_message" else 3
            )
            mean = f"{statistics.mean(values):.{digits}f}"
            spread = f" ({min(values):.{digits}f}–{max(values):.{digits}f})"
            cells.append(mean + (spread if len(values) > 1 else ""))
        lines.append(f"| {name} ({len(results)} seeds) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS),
                        default=["chosen", "neighbours_reader", "no_scorer"])  # fmt: skip
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    results_file = OUT / "comparison.json"
    runs: dict[str, list[dict[str, Any]]] = {}
    for seed in args.seeds:
        cache = tempfile.mkdtemp(prefix="rasa-cache-")
        try:
            for index, variant in enumerate(args.variants):
                slug = f"{variant}-seed{seed}"
                derived = OUT / f"{slug}.yml"
                derived.write_text(
                    yaml.safe_dump(derive(config, variant, seed), sort_keys=False)
                )
                print(f"== {slug}: training", flush=True)
                seconds = _train(
                    derived, f"nlu-{slug}", OUT / f"train-{slug}.log", cache
                )
                result = {
                    "seed": seed,
                    # the first of a seed trains everything; the others reuse it
                    "train_s": round(seconds) if index == 0 else None,
                    **_score(OUT / f"nlu-{slug}.tar.gz", slug),
                }
                print(f"   {json.dumps(result)}", flush=True)
                runs.setdefault(variant, []).append(result)
                results_file.write_text(json.dumps(runs, indent=2))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    text = table(runs)
    (ROOT / "results" / "pipeline-comparison.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
