"""Write docs/clinical-review.md: every answer with its sources, for sign-off.

Each FAQ answer (data/responses/faq.yml) and each safety reply (domain.yml, the
handoff action) is listed with the article lines its facts come from and the
public sources of the safety facts beyond the article (knowledge/grounding.yml),
its length and reading grade, and a sign-off line for the center's clinician.
Run it after changing an answer: `python -m tools.clinical_review`
(make check-data checks that the review shows the current answers).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from common.paths import ROOT
from tools.check_data import plain as normalise
from tools.readability import fk_grade as grade
from tools.readability import words

OUT = ROOT / "docs" / "clinical-review.md"
SIGN = (
    "Clinician sign-off: ☐ approved ☐ changes needed — "
    "name: ____________________ date: __________"
)
EMERGENCY_VARIANTS = {
    "self": 'the visitor writes about themselves ("i just swallowed all my klonopin")',
    "self_suicidal": "the visitor writes about themselves, with suicidal words",
    "other_suicidal": "a bystander whose person meant to overdose",
    "running_out": (
        "the classifier said emergency, but the message only says the visitor "
        "ran out or was cut off (no danger sign)"
    ),
    None: "a bystander, or nobody known (the default)",
}

INTRO = """# Clinical review of the assistant's answers

For the clinician of The Detox Center of Los Angeles. Every answer the assistant
gives about clonazepam, and every safety reply, is below with its sources:

- **Article** facts come from the center's article,
  `source/clonazepam-abuse-and-addiction.txt` (line numbers below).
- **Beyond the article** are only public safety facts, each with the public body
  that published it (`sources` in `knowledge/grounding.yml`; the tests check that
  every such line names a source and is stated in its answer).

Rules every answer follows (checked by `make check-data`, tools/check_data.py): about 80
words (90 at most), reading grade 8 or below (Flesch-Kincaid), person-first
words ("misuse"), no dosing advice, never "stop or change your prescription on
your own" (talk to the prescriber; stopping suddenly is dangerous), a next step
in every answer. The article's errors are not repeated: it says clonazepam
"boosts the production of GABA" (benzodiazepines strengthen GABA's effect) and
writes "Clonazepine" (a typo). Its unsourced "prescriptions of benzodiazepine
drugs have quadrupled" since 1999 is softened to "grown a lot".

Please check each item and tick it. Anything marked "changes needed" goes back
to the team (`knowledge/grounding.yml`, `data/responses/faq.yml`, `domain.yml`),
who change the answer and run `python -m tools.clinical_review` again.

## Points for the clinician to confirm in particular

- The 988 Spanish option is given as "call 988 and press 2".
- "Unlock your door so help can get in" (first-person emergency reply) is
  common 911 dispatcher advice; please confirm the wording.
- Naloxone: "it won't reverse clonazepam, but it is safe and may help", given
  only "if opioids may be involved".
- Running out: "contact your prescriber or a pharmacist today ... urgent care
  ... call 911 for a seizure, hallucinations, confusion or trouble breathing".
- Medication during detox ("medication assisted treatment"): what it is and is
  not, as the center practises it.
- Tolerance and withdrawal can also happen with use as prescribed (signs).
"""


def quote(text: str) -> str:
    """A markdown quote of an answer, one paragraph per line."""
    lines = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n>\n".join(f"> {line}" for line in lines if line)


def measure(text: str) -> str:
    return f"Words: {len(words(text))}; reading grade {grade(text):.1f}."


def article_line(article: list[str], fact: str) -> int | None:
    wanted = normalise(fact)
    return next(
        (i for i, line in enumerate(article, 1) if wanted in normalise(line)), None
    )


def safety_lines(spec: dict[str, Any], sources: dict[str, str]) -> list[str]:
    return [
        f"- Beyond the article: \"{line['says']}\" — "
        f"{' '.join(str(sources[line['source']]).split())}."
        for line in spec.get("safety") or []
    ]


def topic_section(
    key: str, spec: dict[str, Any], text: str, article: list[str], sources: Any
) -> list[str]:
    out = [
        f"### {spec['title']} (`utter_faq/{key}`)",
        "",
        quote(text),
        "",
        measure(text),
    ]
    out.append("")
    facts = spec.get("facts") or []
    if facts:
        found = ", ".join(f'"{f}" (line {article_line(article, f)})' for f in facts)
        out.append(f"- Article: {found}.")
    elif spec.get("kind") == "cannot_answer":
        out.append("- Article: none (it says it can't answer and offers admissions).")
    elif spec.get("kind") == "service":
        out.append("- Article: none (about this chat or the center's service).")
    out += safety_lines(spec, sources)
    return [*out, "", SIGN, ""]


def build(root: Path = ROOT) -> str:
    from actions.handoff import (
        crisis_text,
        running_out_text,
        suicidal_emergency_text,
    )

    def load(path: str) -> Any:
        return yaml.safe_load((root / path).read_text(encoding="utf-8"))

    article = (
        root / "knowledge" / "source" / "clonazepam-abuse-and-addiction.txt"
    ).read_text(encoding="utf-8")
    grounding = load("knowledge/grounding.yml")
    answers = load("data/responses/faq.yml")["responses"]
    domain = load("domain.yml")["responses"]
    sources = grounding["sources"]
    out = [INTRO, "## FAQ answers", ""]
    for key, spec in grounding["topics"].items():
        text = answers[f"utter_faq/{key}"][0]["text"]
        out += topic_section(key, spec, text, article.splitlines(), sources)
    out += ["## Safety replies (`domain.yml` and the handoff actions)", ""]
    out += [
        "The 911 reply depends on who the message is about "
        "(`rasa_server/safety_net/urgent_context.py`, slot `urgent_context`).",
        "",
    ]
    for name in ("utter_emergency", "utter_crisis", "utter_default"):
        out += [f"### `{name}`", ""]
        for variant in domain[name]:
            if name == "utter_emergency":
                value = next(iter(variant.get("condition") or [{}])).get("value")
                out += [f"**When {EMERGENCY_VARIANTS[value]}:**", ""]
            out += [quote(variant["text"]), "", measure(variant["text"]), ""]
        out += safety_lines(grounding["responses"].get(name) or {}, sources)
        out += ["", SIGN, ""]
    out += [
        "### `utter_out_of_scope`",
        "",
        quote(domain["utter_out_of_scope"][0]["text"]),
    ]
    out += ["", *safety_lines(grounding["responses"]["utter_out_of_scope"], sources)]
    out += ["", SIGN, "", "### After the static replies (`actions/handoff.py`)", ""]
    out += ["After a crisis reply:", "", quote(crisis_text()), ""]
    out += [
        "After an emergency with suicidal words:",
        "",
        quote(suicidal_emergency_text()),
        "",
        "After the running-out variant:",
        "",
        quote(running_out_text("(the admissions phone and hours)")),
    ]
    out += [
        "",
        "After any other emergency: \"If you haven't yet, call 911 now. Poison Help "
        "(1-800-222-1222) can advise when the person is awake and breathing "
        "normally. When everyone is safe, our admissions team can help with next "
        'steps", with the admissions phone from `config/contacts.yml`.',
        "",
        SIGN,
        "",
        "## Public sources",
        "",
    ]
    out += [f"- `{k}`: {' '.join(str(v).split())}" for k, v in sources.items()]
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    OUT.write_text(build(), encoding="utf-8")
    print(f"Wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
