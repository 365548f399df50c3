"""`make review` and `make accept-review` (tools/review.py, tools/accept_review.py)."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import accept_review, review

ROOT = Path(__file__).resolve().parents[2]


DAY = 86_400.0
T0 = 1_764_000_000.0


@pytest.fixture(scope="module")
def masker() -> Any:
    return review.Masker(review.vocabulary(), review.first_names())


@pytest.mark.parametrize(
    "text, gone, kept",
    [
        ("my daughter Emily takes klonopin", ["Emily"], ["daughter", "klonopin"]),
        ("my son jake is on pins", ["jake"], ["son", "pins"]),
        ("my name is Zorblax", ["Zorblax"], ["my name is"]),
        (
            "call me at (310) 555-0188 or 310.555.0188",
            ["555-0188", "555.0188"],
            ["call me"],
        ),
        ("email jake.r@example.com please", ["jake.r@example.com"], ["please"]),
        ("Klonopin withdrawal is scary", [], ["Klonopin", "withdrawal", "scary"]),
        ("I took Xanax and klonopin", [], ["I took Xanax"]),
    ],
)
def test_personal_data_is_masked(
    masker: Any, text: str, gone: list[str], kept: list[str]
) -> None:
    masked = masker(text)
    for word in gone:
        assert word not in masked, masked
    for word in kept:
        assert word in masked, masked


def test_a_name_given_to_the_callback_form_is_masked_everywhere(masker: Any) -> None:
    assert "lopez" not in masker("tell lopez i called", ["Maria Lopez"]).lower()


def user(
    text: str,
    intent: str,
    confidence: float,
    t: float,
    key: str | None = None,
    rs: float = 1.0,
) -> dict[str, Any]:
    parse: dict[str, Any] = {"intent": {"name": intent, "confidence": confidence},
                             "intent_ranking": [{"name": intent, "confidence": confidence}]}  # fmt: skip
    if key:
        parse["response_selector"] = {
            "faq": {"response": {"intent_response_key": key, "confidence": rs}}
        }
    return {"event": "user", "text": text, "timestamp": t, "parse_data": parse}


CONVERSATIONS: dict[str, list[dict[str, Any]]] = {
    "a": [
        user("what is klonopin", "faq", 0.99, T0, "faq/what_is", 0.98),
        user("is the food good there", "faq", 0.62, T0 + 1, "faq/about_center", 0.5),
        user('/open_faq{"faq_topic": "withdrawal"}', "open_faq", 1.0, T0 + 2),
        {"event": "action", "name": "action_handoff_admissions", "timestamp": T0 + 3},
        {"event": "active_loop", "name": "callback_form", "timestamp": T0 + 4},
        user("Maria Lopez", "faq", 0.2, T0 + 5, "faq/family", 0.2),
        {
            "event": "slot",
            "name": "callback_name",
            "value": "Maria Lopez",
            "timestamp": T0 + 5,
        },
        {"event": "active_loop", "name": None, "timestamp": T0 + 6},
        user("tell Lopez thanks", "nlu_fallback", 0.3, T0 + 7),
    ],
    "b": [
        user(
            "is the food any good at the center",
            "faq",
            0.55,
            T0 + DAY,
            "faq/about_center",
            0.4,
        ),
        {"event": "action", "name": "action_handoff_emergency", "timestamp": T0 + DAY},
        {"event": "action", "name": "action_handoff_crisis", "timestamp": T0 + 2 * DAY},
    ],
}


def test_review_finds_unsure_messages_topics_and_handoffs(masker: Any) -> None:
    result = review.review(CONVERSATIONS, masker, threshold=0.7)
    texts = [m.text for m in result.unsure]
    assert (
        "is the food good there" in texts
        and "is the food any good at the center" in texts
    )
    assert "what is klonopin" not in texts, "confident answers are not reviewed"
    assert not any(
        "Maria" in t or "Lopez" in t for t in texts
    ), "form answers and form names never appear"
    assert any(t.startswith("tell [name]") for t in texts), texts
    assert result.topics["faq/what_is"] == 1 and result.topics["open_faq"] == 1
    assert sorted(level for _, level in result.handoffs) == [
        "admissions",
        "crisis",
        "emergency",
    ]
    guesses = {m.text: (m.guess, m.confidence) for m in result.unsure}
    assert guesses["is the food good there"] == ("faq/about_center", 0.5)


def test_similar_wordings_are_grouped(masker: Any) -> None:
    groups = review.group(review.review(CONVERSATIONS, masker, threshold=0.7).unsure)
    food = [g for g in groups if any("food" in m.text for m in g)]
    assert len(food) == 1 and len(food[0]) == 2


def test_the_report_escapes_messages_and_charts_handoffs(
    tmp_path: Path, masker: Any
) -> None:
    conversations = {
        "x": [user("<script>alert(1)</script> hi", "nlu_fallback", 0.2, T0)],
        **CONVERSATIONS,
    }
    result = review.review(conversations, masker, threshold=0.7)
    review.write_html(
        result, review.group(result.unsure), 0.7, tmp_path / "report.html"
    )
    page = (tmp_path / "report.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert 'src="data:image/png;base64,' in page
    assert "admissions: 1" in page and "crisis: 1" in page


def make_tracker_db(path: Path, conversations: dict[str, list[dict[str, Any]]]) -> str:
    """A SQLite database with the table Rasa's SQLTrackerStore writes."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name VARCHAR(255),"
                     " timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)")  # fmt: skip
        for sender, events in conversations.items():
            for e in events:
                conn.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                             (sender, e["event"], e["timestamp"], json.dumps(e)))  # fmt: skip
    return f"sqlite:///{path}"


def test_main_writes_the_report_and_a_review_file_keeping_labels(
    tmp_path: Path,
) -> None:
    db = make_tracker_db(tmp_path / "tracker.sqlite3", CONVERSATIONS)
    out = tmp_path / "review"
    assert review.main(["--db", db, "--out", str(out)]) == 0
    items = yaml.safe_load((out / "review.yml").read_text())["items"]
    assert {i["text"] for i in items} >= {"is the food good there"}
    assert all(i["topic"] == "" for i in items)
    # a label survives a second run
    data = yaml.safe_load((out / "review.yml").read_text())
    data["items"][0]["topic"] = "faq/about_center"
    (out / "review.yml").write_text(yaml.safe_dump(data))
    assert review.main(["--db", db, "--out", str(out)]) == 0
    again = yaml.safe_load((out / "review.yml").read_text())["items"]
    assert again[0]["topic"] == "faq/about_center"


def test_main_says_clearly_when_there_is_no_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        review.main(
            ["--db", f"sqlite:///{tmp_path}/none.sqlite3", "--out", str(tmp_path)]
        )
        == 2
    )
    assert "no tracker store" in capsys.readouterr().err


# --------------------------------------------------------------------------- accept-review


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for folder in ("data", "tests/nlu"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "domain.yml", tmp_path / "domain.yml")
    (tmp_path / "var" / "review").mkdir(parents=True)
    return tmp_path


def write_review(project: Path, items: list[dict[str, Any]]) -> Path:
    path = project / "var" / "review" / "review.yml"
    path.write_text("# header\n" + yaml.safe_dump({"items": items}))
    return path


def examples_of(path: Path, intent: str) -> list[str]:
    for block in yaml.safe_load(path.read_text())["nlu"]:
        if block.get("intent") == intent:
            return [
                line.strip()[2:]
                for line in block["examples"].splitlines()
                if line.strip()
            ]
    return []


def test_accept_review_adds_labelled_messages_in_the_right_files(project: Path) -> None:
    items = [
        {"id": "m1", "text": "how long do the klonopin shakes go on", "topic": "faq/withdrawal"},
        {"id": "m2", "text": "can i get a person on the line", "topic": "admissions"},
        {"id": "m3", "text": "do you allow pets at the center", "topic": "faq/pets"},
        {"id": "m4", "text": "my son [name] uses pins", "topic": "faq/signs"},
        {"id": "m5", "text": "whats klonopin", "topic": "faq/what_is"},
        {"id": "m6", "text": "something", "topic": "Not A Topic"},
        {"id": "m7", "text": "left for later", "topic": ""},
    ]  # fmt: skip
    review_file = write_review(project, items)
    assert accept_review.main(["--root", str(project)]) == 1  # m4 and m6 are problems
    faq = project / "data" / "nlu" / "faq.yml"
    assert "how long do the klonopin shakes go on" in examples_of(faq, "faq/withdrawal")
    assert examples_of(faq, "faq/pets") == ["do you allow pets at the center"]
    assert "can i get a person on the line" in examples_of(
        project / "data" / "nlu" / "urgent.yml", "admissions"
    )
    assert not any("[name]" in e for e in examples_of(faq, "faq/signs"))
    assert examples_of(faq, "faq/what_is").count("whats klonopin") == 1
    left = {i["id"] for i in yaml.safe_load(review_file.read_text())["items"]}
    assert left == {"m6", "m7"}, "accepted and refused-for-privacy items leave the file"
    # running it again adds nothing twice
    before = faq.read_text()
    accept_review.main(["--root", str(project)])
    assert faq.read_text() == before
