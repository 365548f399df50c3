"""Conversations with the trained model: form answers, follow-ups, repair (issue 13).

`make nlu-gate` runs it after the held-out NLU sets. With the trained model's
parse of each message and the real action code (no action server needed):

* form answers (tests/form_answers.py): each answer, parsed by the model, goes
  through the domain's slot mapping and the real ``validate_callback_form``;
  it must fill its slot and interrupt nothing (gate: 100 %);
* follow-ups (tests/conversation/follow_ups.yml): the first question sets the
  last topic (the topic the model answers it with); the follow-up is answered as the
  dialogue would (``action_follow_up`` for a follow_up, the FAQ answer checked
  by ``action_answer_faq`` otherwise); the topic must be the expected one
  (gate: 90 %);
* repairs: "that's not what I asked" must be read as ``repair`` (gate: 90 %).

Writes results/conversation.json; exits 1 below a gate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from common.paths import ROOT

FORM_GATE = 1.0
FOLLOW_UP_GATE = 0.9
REPAIR_GATE = 0.9


def _answered(parse: dict[str, Any]) -> str | None:
    from actions.conversation import answered_topic

    return answered_topic(parse)


def follow_up_topic(last: str | None, text: str, parse: dict[str, Any]) -> str | None:
    """The topic the dialogue answers a follow-up with (None: no answer)."""
    from actions.conversation import resolve_follow_up

    intent = (parse.get("intent") or {}).get("name")
    if intent == "follow_up":
        return resolve_follow_up(last, text)
    if intent == "faq":
        topic = _answered(parse)
        return None if topic == last else topic  # the same answer twice is a miss
    return None


def form_answer_ok(slot: str, text: str, parse: dict[str, Any], domain: Any) -> bool:
    """Whether the answer fills ``slot`` through the mapping and the validator."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.callback import ValidateCallbackForm

    intent = (parse.get("intent") or {}).get("name")
    mapping = domain["slots"][slot]["mappings"][0]
    if intent in (mapping.get("not_intent") or []):
        return False
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": parse},
        {"event": "action", "name": "action_extract_slots"},
        {"event": "action", "name": "callback_form"},
        {"event": "slot", "name": slot, "value": text},
    ]
    tracker = Tracker(
        "evaluate",
        {"requested_slot": slot, slot: text},
        parse,
        events,
        False,
        None,
        {"name": "callback_form"},
        "callback_form",
    )
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateCallbackForm().run(dispatcher, tracker, domain))
    if any(e.get("event") == "action_execution_rejected" for e in result):
        return False
    values = {e["name"]: e["value"] for e in result if e.get("event") == "slot"}
    return values.get(slot) is not None and not dispatcher.messages


async def _parse_all(model: Path, texts: list[str]) -> dict[str, dict[str, Any]]:
    from rasa_server.model_load import load_agent

    agent = load_agent(str(model))
    return {text: await agent.parse_message(text) for text in dict.fromkeys(texts)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.ERROR)
    os.chdir(ROOT)
    from tests.form_answers import NAMES, PHONES, TIMES

    data = yaml.safe_load(
        (ROOT / "tests" / "conversation" / "follow_ups.yml").read_text(encoding="utf-8")
    )
    pairs = data["follow_ups"]
    repairs = data["repairs"]
    form = (
        [("callback_name", t) for t, _, _ in NAMES]
        + [("callback_phone", t) for t, _, _ in PHONES]
        + [("callback_time", t) for t in TIMES]
    )
    texts = [t for _, t in form] + [p for pair in pairs for p in pair[:2]] + repairs
    parses = asyncio.run(_parse_all(args.model, texts))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    domain["responses"].update(
        yaml.safe_load(
            (ROOT / "data" / "responses" / "faq.yml").read_text(encoding="utf-8")
        )["responses"]
    )

    form_misses = [
        {"slot": slot, "text": text, "intent": parses[text].get("intent")}
        for slot, text in form
        if not form_answer_ok(slot, text, parses[text], domain)
    ]
    follow_misses = []
    for first, second, expect in pairs:
        last = _answered(parses[first])
        got = follow_up_topic(last, second, parses[second])
        if got != expect:
            follow_misses.append(
                {"first": first, "last_topic": last, "follow_up": second,
                 "expected": expect, "got": got,
                 "intent": (parses[second].get("intent") or {}).get("name")}
            )  # fmt: skip
    repair_misses = [
        {"text": t, "intent": (parses[t].get("intent") or {}).get("name")}
        for t in repairs
        if (parses[t].get("intent") or {}).get("name") != "repair"
    ]
    report: dict[str, dict[str, Any]] = {
        "form_answers": {
            "total": len(form),
            "accuracy": 1 - len(form_misses) / len(form),
            "misses": form_misses,
        },
        "follow_ups": {
            "total": len(pairs),
            "topics": len({p[2] for p in pairs}),
            "accuracy": 1 - len(follow_misses) / len(pairs),
            "misses": follow_misses,
        },
        "repairs": {
            "total": len(repairs),
            "accuracy": 1 - len(repair_misses) / len(repairs),
            "misses": repair_misses,
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "conversation.json").write_text(
        json.dumps(report, indent=2, default=str), encoding="utf-8"
    )
    ok = True
    for key, gate in (
        ("form_answers", FORM_GATE),
        ("follow_ups", FOLLOW_UP_GATE),
        ("repairs", REPAIR_GATE),
    ):
        part = report[key]
        passed = part["accuracy"] >= gate
        ok &= passed
        print(
            f"{key}: {part['accuracy']:.3f} of {part['total']} (gate {gate:.2f})"
            f" {'ok' if passed else 'FAILED'}"
        )
        for miss in part["misses"][:15]:
            print(f"  miss: {miss}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
