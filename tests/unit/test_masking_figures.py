"""Masking that protects people and keeps questions readable (issue 14), measured
on both sides and printed:

- leaks: messages holding a name, phone number or e-mail address (at least
  100, built from templates below): none may survive ``make review``'s masking;
- over-masking: real visitors' questions (tests/review/real/questions.yml,
  verbatim public text, sources in provenance.yml) hold no personal data, so
  every masked word there is masked wrongly: at most 1% of words.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from common import redact
from tools import review

REAL = Path(__file__).resolve().parents[1] / "review" / "real" / "questions.yml"

FIRST = ["Emily", "jake", "Maria", "DeShawn", "Priya", "tom", "Zelda", "Jane",
         "ANTHONY", "Sofia", "luis", "Keisha"]  # fmt: skip
LAST = ["Smith", "lopez", "Quimby", "Okafor", "Nguyen"]
NAME_TEMPLATES = [
    "my name is {f} {l}",
    "My name is {f} {l} and I need help",
    "hi, I'm {f} {l}",
    "this is {f} {l}, calling about my son",
    "my son {f} {l} takes klonopin",
    "please call me {f}",
    "my daughter {f} is on pins",
    "can {f} {l} call me back",
]
PHONES = ["(213) 555-0142", "213.5550142", "213_555_0142", "213,555,0142",
          "+1 213 555 0142", "2135550142",
          "two one three five five five zero one four two"]  # fmt: skip
EMAILS = ["jane.doe@example.com", "jane at example dot com",
          "jane (at) example (dot) org", "jane.doe at gmail.com"]  # fmt: skip


def leak_cases() -> list[tuple[str, list[str]]]:
    cases = []
    for template, (first, last) in itertools.product(
        NAME_TEMPLATES, zip(FIRST, itertools.cycle(LAST))
    ):
        text = template.format(f=first, l=last)
        secrets = [first] + ([last] if "{l}" in template else [])
        cases.append((text, secrets))
    for phone in PHONES:
        cases.append((f"call me at {phone} after 5", [phone, "0142", "zero one"]))
    for email in EMAILS:
        cases.append((f"email me at {email} please", [email, "jane", "example"]))
    return cases


@pytest.fixture(scope="module")
def masker() -> Any:
    return review.Masker(review.vocabulary(), review.first_names())


def words(text: str) -> list[str]:
    return review.WORD_RE.findall(text)


def test_no_personal_data_leaks_and_real_questions_stay_readable(masker: Any) -> None:
    cases = leak_cases()
    leaks = [
        (text, masker(text))
        for text, secrets in cases
        if any(re.search(re.escape(s), masker(text), re.IGNORECASE) for s in secrets)
    ]
    questions = [item["text"] for item in yaml.safe_load(REAL.read_text())]
    questions += [
        "Does Klonopin Cause Weight Gain?",
        "What is Clonazolam, and Why is it Dangerous?",
        "HOW LONG DOES KLONOPIN WITHDRAWAL LAST AND WHAT HELPS WITH THE ANXIETY",
    ]
    total = masked = 0
    wrongly: list[str] = []
    for question in questions:
        out = masker(question)
        total += len(words(question))
        count = out.count("[name]") + out.count("[phone]") + out.count("[email]")
        masked += count
        if count:
            wrongly.append(f"{question!r} -> {out!r}")
    share = masked / total
    print(
        f"\nleaks: {len(leaks)} of {len(cases)} messages with personal data; "
        f"over-masking: {masked} of {total} words ({share:.2%}) in "
        f"{len(questions)} real questions"
    )
    for line in wrongly:
        print("  masked:", line)
    assert len(cases) >= 100
    assert not leaks, leaks
    assert share <= 0.01
    assert (
        masker("Does Klonopin Cause Weight Gain?") == "Does Klonopin Cause Weight Gain?"
    )


@pytest.mark.parametrize(
    "text",
    ["213.5550142", "213_555_0142", "213,555,0142",
     "two one three five five five zero one four two",
     "jane at example dot com", "jane (at) example (dot) org"],
)  # fmt: skip
def test_the_log_masks_catch_other_spellings(text: str) -> None:
    masked = redact.redact(f"reach me: {text} thanks")
    assert masked in ("reach me: [phone] thanks", "reach me: [email] thanks"), masked


def test_numbers_that_are_not_phones_stay() -> None:
    for text in [
        "confidence 0.9898443222045898",
        "take 0.5 mg twice",
        "1 or 2 mg a day",
    ]:
        assert redact.redact(text) == text
