"""What the answers say where a wrong word can hurt (issue 12).

The general rules (grounding, wording, person-first language, grade 8, safety
facts with a named source, the clinical review kept current) are checked by
`make check-data` (tools/check_data.py). These tests pin the points a clinician
asked each answer to make.
"""
from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from actions.handoff import crisis_text
from common import paths
from tools.check_data import NUMBER_RE, plain


@pytest.fixture(scope="module")
def answers() -> dict[str, str]:
    data = yaml.safe_load((paths.RESPONSES / "faq.yml").read_text(encoding="utf-8"))
    return {
        name.split("/", 1)[1]: str(variants[0]["text"])
        for name, variants in data["responses"].items()
        if name.startswith("utter_faq/")
    }


@pytest.fixture(scope="module")
def domain_responses() -> dict[str, list[str]]:
    data = yaml.safe_load(paths.DOMAIN.read_text(encoding="utf-8"))
    return {
        name: [str(v["text"]) for v in variants if v.get("text")]
        for name, variants in data["responses"].items()
    }


@pytest.fixture(scope="module")
def grounding() -> dict[str, Any]:
    return dict(yaml.safe_load(paths.GROUNDING.read_text(encoding="utf-8")))


def test_safety_topics_have_safety_lines(grounding: dict[str, Any]) -> None:
    topics = grounding["topics"]
    safety = [k for k, spec in topics.items() if spec.get("kind") == "safety"]
    assert {"mixing", "running_out", "suicide_risk"} <= set(safety)
    for key in safety:
        assert topics[key].get("safety"), f"{key}: kind safety needs safety lines"


def test_mixing_answer_says_it_plainly(answers: dict[str, str]) -> None:
    text = plain(answers["mixing"])
    for phrase in (
        "dangerous", "slow or stop your breathing", "can kill", "don't mix them",
        "ask your prescriber or pharmacist", "alcohol", "fentanyl", "oxycodone",
        "percocet", "heroin", "sleep medicines", "gabapentin",
    ):  # fmt: skip
        assert phrase in text, phrase


def test_running_out_answer(answers: dict[str, str]) -> None:
    text = plain(answers["running_out"])
    for phrase in (
        "contact your prescriber or a pharmacist today",
        "urgent care",
        "admissions team",
        "call 911 for a seizure, hallucinations, confusion or trouble breathing",
        "don't take someone else's prescription",
    ):
        assert phrase in text, phrase


def test_suicide_questions_get_988_and_no_numbers(answers: dict[str, str]) -> None:
    text = answers["suicide_risk"]
    assert "988" in text and "988lifeline.org" in text
    assert set(NUMBER_RE.findall(text)) <= {"911", "988"}
    assert "can't share dose numbers" in plain(text)


def test_medication_during_detox_is_explained(answers: dict[str, str]) -> None:
    text = plain(answers["mat"])
    assert not text.startswith("yes.")
    assert "this means" in text and "not a cure" in text and "on your own" in text


def test_tolerance_and_withdrawal_caveat(answers: dict[str, str]) -> None:
    assert "taken as prescribed" in plain(answers["signs"])


def test_off_label_uses_say_sometimes(answers: dict[str, str]) -> None:
    assert "sometimes prescribe it to reduce alcohol withdrawal" in plain(
        answers["uses"]
    )


def test_supervised_taper_not_home_as_such(answers: dict[str, str]) -> None:
    for key in ("home_detox", "stopping"):
        assert "slow taper planned with your prescriber" in plain(answers[key])
    assert "stopping clonazepam all at once" in plain(answers["home_detox"])


def test_crisis_replies_carry_988_chat_spanish_and_no_sales_line(
    domain_responses: dict[str, list[str]],
) -> None:
    [crisis] = domain_responses["utter_crisis"]
    for phrase in ("call or text 988", "988lifeline.org", "spanish", "911"):
        assert phrase in plain(crisis), phrase
    for text in (crisis, crisis_text()):
        for sales in ("admissions", "treatment", "555"):
            assert sales not in plain(text), sales


def test_default_and_out_of_scope_give_988(
    domain_responses: dict[str, list[str]],
) -> None:
    for name in ("utter_default", "utter_out_of_scope"):
        [text] = domain_responses[name]
        assert "thoughts of suicide, call or text 988" in plain(text), name


def test_no_answer_states_a_dose(answers: dict[str, str]) -> None:
    dose = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|milligrams?)\b", re.IGNORECASE)
    assert [k for k, t in answers.items() if dose.search(t)] == []
