"""Train the NLU of config.yml and of each config/variants/*.yml, score each on the
held-out test set (tools/evaluate_nlu.py), and print a Markdown table.

Slow (one NLU training per variant); run by hand with `make compare-pipelines`.
The table goes to results/pipeline-comparison.md; copy it into
docs/pipeline-comparison.md when it changes.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common.paths import ROOT

OUT = ROOT / "results" / "variants"


def run(cmd: list[str], log: Path) -> None:
    # an empty training cache per run, so every variant is timed from scratch
    env = dict(os.environ, RASA_CACHE_DIRECTORY=tempfile.mkdtemp(prefix="rasa-cache-"))
    with open(log, "w") as f:
        done = subprocess.run(
            cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT
        )
        shutil.rmtree(env["RASA_CACHE_DIRECTORY"], ignore_errors=True)
        if done.returncode:
            sys.exit(f"failed: {' '.join(cmd)} (see {log})")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    configs = {"config.yml (chosen)": ROOT / "config.yml"}
    configs.update(
        {p.stem: p for p in sorted((ROOT / "config" / "variants").glob("*.yml"))}
    )
    rows = []
    for name, config in configs.items():
        slug = config.stem if config.parent.name == "variants" else "chosen"
        start = time.monotonic()
        run([str(ROOT / ".venv/bin/rasa"), "train", "nlu", "-c", str(config),
             "--fixed-model-name", f"nlu-{slug}", "--out", str(OUT)], OUT / f"train-{slug}.log")  # fmt: skip
        seconds = time.monotonic() - start
        subprocess.run([sys.executable, "-m", "tools.evaluate_nlu",
                        "--model", str(OUT / f"nlu-{slug}.tar.gz"), "--out", str(OUT / slug),
                        "--min-f1", "0"], cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
        report = json.loads((OUT / slug / "report.json").read_text())
        rows.append((name, report, seconds))
    lines = [
        "| pipeline | macro-F1 | accuracy | urgent recall | errors | NLU training (s) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r, seconds in rows:
        lines.append(f"| {name} | {r['macro_f1']:.3f} | {r['accuracy']:.3f} | "
                     f"{r['urgent_recall']:.3f} | {len(r['errors'])} | {seconds:.0f} |")  # fmt: skip
    table = "\n".join(lines)
    (ROOT / "results" / "pipeline-comparison.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
