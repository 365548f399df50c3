"""Print a short fingerprint of everything a trained model depends on.

`make train` names the model after it, so a model is retrained only when the
training data, domain, config, custom NLU components or spaCy vectors change.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from common.paths import ROOT

INPUTS = [
    "config.yml",
    "domain.yml",
    "data",
    "rasa_server/safety_net",
    "rasa_server/nlu",
    "common/parse.py",  # the NLU components read the selector's choice with it
    "build/spacy/en_vectors_md/SOURCE_SHA256",
    "requirements/lock.txt",
]


def fingerprint(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        path = root / name
        files = (
            sorted(p for p in path.rglob("*") if p.is_file())
            if path.is_dir()
            else [path]
        )
        for file in files:
            if "__pycache__" in file.parts or not file.exists():
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:12]


if __name__ == "__main__":
    print(fingerprint())
