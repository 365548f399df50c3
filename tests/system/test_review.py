"""`make review` on real conversations: the seed conversations (tests/review/) are
sent to the running assistant over REST, then the report is made from its tracker
store. No name, phone number or e-mail address reaches the report or review file."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import ROOT

pytestmark = pytest.mark.system

SEED = ROOT / "tests" / "review" / "seed_conversations.yml"
PERSONAL = ["Emily", "Maria", "Lopez", "Jake", "555-0188", "jake.r@example.com"]


def test_review_of_seeded_conversations(stack: dict[str, Any], tmp_path: Path) -> None:
    conversations = yaml.safe_load(SEED.read_text())["conversations"]
    for conversation in conversations:
        for message in conversation["messages"]:
            stack["bot"].say(conversation["sender"], message)

    db = f"sqlite:///{stack['tmp'] / 'tracker.sqlite3'}"
    out = tmp_path / "review"
    done = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-m", "tools.review", "--db", db, "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = (out / "report.html").read_text()
    items = yaml.safe_load((out / "review.yml").read_text())["items"]
    texts = {i["text"] for i in items}

    # the off-topic questions are there to review, with a guess and a confidence
    assert any("dog" in t for t in texts), texts
    assert any("wifi" in t for t in texts), texts
    assert all(0 <= i["confidence"] <= 1 for i in items)
    assert "faq/withdrawal" in page or "open_faq" in page, "topic counts"
    assert "emergency: " in page and "crisis: " in page
    assert 'src="data:image/png;base64,' in page

    for secret in PERSONAL:
        assert secret not in page, secret
        assert secret not in (out / "review.yml").read_text(), secret
