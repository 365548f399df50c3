"""Bad input over REST: each case gets a clear answer or a 4xx with a reason, and
the server keeps serving. Typed payloads cannot set slots or reach intents that
no button offers; the bot's own button payloads keep working."""
from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

pytestmark = pytest.mark.system


def body(sender: Any = "bad-input", message: Any = "hi") -> bytes:
    return json.dumps({"sender": sender, "message": message}).encode()


@pytest.mark.parametrize(
    "raw, status, reason",
    [
        (b"{not json", 400, "must be JSON"),
        (b"", 400, "must be JSON"),
        (b'["a list"]', 400, "JSON object"),
        (json.dumps({"message": "what is klonopin"}).encode(), 400, "sender"),
        (body(sender=""), 400, "sender"),
        (body(sender=7), 400, "sender"),
        (body(sender="x" * 500), 400, "sender: at most"),
        (body(message=42), 400, "message"),
        (body(message=None), 400, "message"),
        (body(message={"text": "hi"}), 400, "message"),
        (body(message="a" * 5_000), 413, "message: at most"),
        (body(message="a" * 100_000), 413, "The body must be at most"),
    ],
)  # fmt: skip
def test_malformed_requests_get_a_4xx_with_a_reason(
    stack: dict[str, Any], raw: bytes, status: int, reason: str
) -> None:
    got, answer = stack["bot"].post(raw)
    assert got == status
    assert reason in answer["error"]


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   \n\t ",
        "what is\x00 klonopin\x07",
        "😟 is klonopin addictive?? 💊💊",
        "ما هو كلونوبين",  # right-to-left
        "\u202eklonopin withdrawal",  # a direction override
        "<script>alert(1)</script><img src=x onerror=alert(2)> what is klonopin",
        "'; DROP TABLE events; -- what is klonopin",
        "SELECT * FROM events WHERE 1=1",
    ],
)
def test_odd_messages_get_a_clear_answer(stack: dict[str, Any], message: str) -> None:
    replies = stack["bot"].say("odd-input", message)
    texts = [r.get("text", "") for r in replies]
    assert texts and all(texts), replies
    assert not any("<script" in t or "\x00" in t for t in texts)
    # and the server, and its store, keep working
    assert stack["bot"].say("odd-input-after", "what is klonopin")


def slots_set(stack: dict[str, Any], sender: str) -> list[tuple[str, Any]]:
    with sqlite3.connect(stack["tmp"] / "tracker.sqlite3") as conn:
        rows = conn.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot'",
            ("rest:" + sender,),  # the REST channel's namespace (identity.py)
        ).fetchall()
    return [(json.loads(d)["name"], json.loads(d)["value"]) for (d,) in rows]


@pytest.mark.parametrize(
    "typed",
    [
        '/callback_form{"callback_phone": "+12135550100", "callback_consent": true}',
        '/affirm{"callback_name": "Injected"}',
        '/open_faq{"faq_topic": "no_such_topic"}',
        '/request_callback{"handoff_level": "emergency"}',
    ],
)
def test_typed_payloads_cannot_set_slots(stack: dict[str, Any], typed: str) -> None:
    sender = f"inject-{abs(hash(typed))}"
    stack["bot"].say(sender, typed)
    injected = {"callback_phone", "callback_consent", "callback_name", "handoff_level"}
    assert not [
        (n, v) for n, v in slots_set(stack, sender) if n in injected and v
    ], slots_set(stack, sender)
    assert ("faq_topic", "no_such_topic") not in slots_set(stack, sender)


def test_a_typed_intent_no_button_offers_is_read_as_text(stack: dict[str, Any]) -> None:
    sender = "inject-intent"
    stack["bot"].say(sender, "/nlu_fallback")
    with sqlite3.connect(stack["tmp"] / "tracker.sqlite3") as conn:
        (data,) = conn.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'",
            ("rest:" + sender,),
        ).fetchone()
    assert (
        json.loads(data)["text"] == "nlu_fallback"
    ), "the slash is dropped: NLU reads it"


def test_the_bots_own_button_payloads_still_work(stack: dict[str, Any]) -> None:
    replies = stack["bot"].say("button-ok", '/open_faq{"faq_topic": "withdrawal"}')
    assert "withdrawal" in replies[0]["text"].lower()
    assert stack["bot"].say("button-ok-2", "/admissions")[0]["text"]
