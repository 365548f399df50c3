"""Follow docs/staff-guide.md word for word on a throw-away copy of the project.

The copy holds the project's tracked files (as a fresh clone would) and shares the
installed .venv, the built spaCy vectors and the npm packages. Every block the
guide marks `<!-- guide: append FILE -->` is appended to FILE, every block marked
`<!-- guide: run -->` is run as written. Before training, a conversation review
is done as the guide's review section says (`make review DB=...`, labels in
review.yml, `make accept-review`). Then the new model must answer the new topic
and the accepted messages.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.guide

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "staff-guide.md"
STEP = re.compile(r"<!-- guide: (append (\S+)|run) -->\n```\w+\n(.*?)```", re.S)

# what visitors said, what the old model guessed (unsure), and what staff decide
REVIEWED = [
    ("how long do the klonopin shakes go on", "faq/effects", 0.41, "faq/withdrawal"),
    ("my hubby cant get off his kpins what do i do", "faq/signs", 0.38, "faq/family"),
    ("can i speak with an actual human being", "help", 0.35, "admissions"),
]


def guide_steps() -> list[tuple[str, str | None, str]]:
    steps = [
        (m.group(1).split()[0], m.group(2), m.group(3))
        for m in STEP.finditer(GUIDE.read_text())
    ]
    assert [kind for kind, _, _ in steps].count(
        "append"
    ) == 5, "the guide's five file steps"
    return steps


def copy_project(dest: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    for name in filter(None, files.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(
                source, dest / name
            )  # keeps times: make sees nothing to reinstall
    for shared in (".venv", "build", "web/node_modules"):
        (dest / shared).symlink_to(ROOT / shared)


def run(dest: Path, command: str, timeout: int = 1200) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=dest,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"`{command}` failed:\n{output[-4000:]}"
    return output


def seed_tracker(path: Path) -> str:
    """A tracker store in which the old model was unsure of REVIEWED."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name VARCHAR(255),"
                     " timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)")  # fmt: skip
        for n, (text, guess, confidence, _) in enumerate(REVIEWED):
            intent = "faq" if guess.startswith("faq/") else guess
            parse: dict[str, Any] = {
                "intent": {"name": intent, "confidence": confidence}
            }
            if intent == "faq":
                parse["response_selector"] = {
                    "faq": {
                        "response": {
                            "intent_response_key": guess,
                            "confidence": confidence,
                        }
                    }
                }
            event = {
                "event": "user",
                "text": text,
                "timestamp": 1764000000.0 + n,
                "parse_data": parse,
            }
            conn.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
                         (f"visitor-{n}", event["timestamp"], json.dumps(event)))  # fmt: skip
    return f"sqlite:///{path}"


def label_review(dest: Path) -> None:
    review_file = dest / "var" / "review" / "review.yml"
    data = yaml.safe_load(review_file.read_text())
    decided = {text: topic for text, _, _, topic in REVIEWED}
    for item in data["items"]:
        item["topic"] = decided[item["text"]]
    review_file.write_text(yaml.safe_dump(data, sort_keys=False))


def test_the_staff_guide_adds_a_topic_and_a_review_that_the_next_model_answers(
    tmp_path: Path,
) -> None:
    dest = tmp_path / "project"
    copy_project(dest)
    for kind, target, body in guide_steps():
        if kind == "append":
            assert target is not None
            with (dest / target).open("a", encoding="utf-8") as handle:
                handle.write(body)
            continue
        if "make train" in body:
            # the guide's review section, done before training
            db = seed_tracker(tmp_path / "tracker.sqlite3")
            out = run(dest, f"make review DB={db}")
            assert "3 to review" in out, out
            label_review(dest)
            out = run(dest, "make accept-review")
            assert "3 phrasing(s) added" in out, out
        out = run(dest, body)
        if "make check-data" in body:
            assert "check-data: 0 problem(s); 26 FAQ topics checked" in out, out

    answer = run(dest, 'make ask Q="who reads these messages"')
    assert "topic:      faq/privacy" in answer, answer
    assert "reply:      I'm an automated assistant, not a person." in answer, answer
    texts = " ".join(f'"{text}"' for text, _, _, _ in REVIEWED)
    results = json.loads(
        run(dest, f".venv/bin/python -m tools.ask --json {texts} 2>/dev/null")
    )
    assert [r["topic"] for r in results] == [
        topic for _, _, _, topic in REVIEWED
    ], results
