"""Grounding and quality checks for the clonazepam FAQ.

Reads only files inside the project:
  source/clonazepam-abuse-and-addiction.txt   the article every fact comes from
  knowledge/grounding.yml                     facts per topic + article sections
  data/responses/faq.yml                      the answers (utter_faq/<key>)
  data/nlu/faq.yml                            training phrasings (faq/<key>)
  domain.yml                                  the safety replies (911, 988)
  tests/nlu/faq_test.yml                      held-out test phrasings
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ARTICLE_PATH = ROOT / "source" / "clonazepam-abuse-and-addiction.txt"
GROUNDING_PATH = ROOT / "knowledge" / "grounding.yml"
RESPONSES_PATH = ROOT / "data" / "responses" / "faq.yml"
TRAIN_PATH = ROOT / "data" / "nlu" / "faq.yml"
TEST_PATH = ROOT / "tests" / "nlu" / "faq_test.yml"

RESPONSE_PREFIX = "utter_faq/"
INTENT_PREFIX = "faq/"
MAX_WORDS = 90
MAX_MEAN_GRADE = 9.0
#: Every answer and safety reply reads at grade 8 or below (issue 12).
MAX_GRADE = 8.0
MIN_TRAIN = 14
MIN_TEST = 10
DANGER_TOPICS = ["withdrawal", "stopping", "home_detox", "overdose", "long_term"]
DANGER_LINE = "if this is happening now, call 911"
# The article's errors must never be repeated.
BANNED_PHRASES = ["boosts the production", "clonazepine", "cognitive behavioral health"]
# Wording a clinician objected to (issue 12): the danger is stopping suddenly or
# without medical care, not home as such; saltwater therapy is no evidence-based
# therapy; the "quadrupled" claim has no source; pharmacists don't set doses.
OBJECTED_PHRASES = [
    "detox at home is not safe",
    "safer than detox at home",
    "saltwater",
    "quadrupled",
    "prescriber or pharmacist can decide",
    "evidence-based and holistic",
]
#: Person-first language: "misuse", not "abuse" / "abuser" / "addict".
NOT_PERSON_FIRST_RE = re.compile(r"\b(?:abuse\w*|abusing|addicts?)\b", re.IGNORECASE)
DOMAIN_PATH = ROOT / "domain.yml"
SAFETY_REPLIES = [
    "utter_emergency",
    "utter_crisis",
    "utter_default",
    "utter_out_of_scope",
]
#: A safety source must name the public body that published it.
PUBLIC_BODY_RE = re.compile(
    r"\b(?:FDA|SAMHSA|CDC|NIH|NIAAA|NIMH|AFSP|HRSA|NHTSA|Red Cross|988 Suicide|"
    r"Medication Guide|911)\b"
)
# The only numbers an answer may contain: 911, 988, Poison Help, SAMHSA, and the
# article's "Since 1999". Anything else (e.g. an invented center phone) fails.
ALLOWED_NUMBERS = {"911", "988", "1-800-222-1222", "1-800-662-4357", "1999"}
FIXED_PAYLOADS = {"/admissions", "/help", "/request_callback"}
OPEN_FAQ_RE = re.compile(r'^/open_faq(\{"faq_topic": "([a-z_]+)"\})$')
# Drug names are long but familiar to every visitor of this bot; count each as
# 3 syllables so they don't dominate the reading grade.
MEDICAL_NAMES = {
    "clonazepam",
    "klonopin",
    "benzodiazepine",
    "benzodiazepines",
    "benzo",
    "benzos",
}
WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['\u2019\-][A-Za-z0-9]+)*")
NUMBER_RE = re.compile(r"\d+(?:-\d+)*")


# --------------------------------------------------------------------------- helpers


def normalise(text: str) -> str:
    """Lowercase, straighten curly quotes/apostrophes, collapse whitespace."""
    text = (
        text.replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
    )
    return re.sub(r"\s+", " ", text).strip().lower()


def phrasing_key(text: str) -> str:
    """Case- and punctuation-insensitive key used to compare phrasings."""
    text = normalise(text)
    text = re.sub(r"[^a-z0-9 ]+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def count_syllables(word: str) -> int:
    w = word.lower().replace("\u2019", "'")
    if w in MEDICAL_NAMES:
        return 3
    if any(ch.isdigit() for ch in w):
        return 2  # numbers such as 911 or a phone number: a fair flat cost
    w = re.sub(r"[^a-z]", "", w)
    if not w:
        return 0
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$", "", w) or w
    w = re.sub(r"^y", "", w)
    return max(1, len(re.findall(r"[aeiouy]{1,2}", w)))


def sentences(text: str) -> list[str]:
    """Sentences end at . ! ? : or a line break (bullet items count as sentences)."""
    parts = re.split(r"[.!?:]+(?=\s|$)|\n+", text)
    return [p for p in parts if words(p)]


def fk_grade(text: str) -> float:
    ws = words(text)
    n_sent = max(1, len(sentences(text)))
    n_syll = sum(count_syllables(w) for w in ws)
    return 0.39 * (len(ws) / n_sent) + 11.8 * (n_syll / len(ws)) - 15.59


def read_nlu(path: Path) -> dict[str, list[str]]:
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert str(data.get("version")) == "3.1", f'{path.name}: version must be "3.1"'
    out: dict[str, list[str]] = {}
    for block in data["nlu"]:
        intent = block["intent"]
        examples = [
            line.strip()[2:].strip()
            for line in block["examples"].splitlines()
            if line.strip().startswith("- ")
        ]
        assert intent not in out, f"{path.name}: intent {intent} listed twice"
        out[intent] = examples
    return out


def payload_topic(payload: str) -> str | None:
    m = OPEN_FAQ_RE.match(payload)
    if not m:
        return None
    assert json.loads(m.group(1)) == {"faq_topic": m.group(2)}
    return m.group(2)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def article_raw() -> str:
    return ARTICLE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def article(article_raw: str) -> str:
    return normalise(article_raw)


@pytest.fixture(scope="module")
def grounding() -> dict:
    with open(GROUNDING_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def topics(grounding: dict) -> dict[str, dict]:
    return grounding["topics"]


@pytest.fixture(scope="module")
def responses() -> dict[str, list]:
    with open(RESPONSES_PATH, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert str(data.get("version")) == "3.1"
    return {
        name[len(RESPONSE_PREFIX) :]: value
        for name, value in data["responses"].items()
        if name.startswith(RESPONSE_PREFIX)
    }


@pytest.fixture(scope="module")
def answers(responses: dict[str, list]) -> dict[str, str]:
    return {key: value[0]["text"] for key, value in responses.items()}


@pytest.fixture(scope="module")
def domain_responses() -> dict[str, list[str]]:
    """Every text variant of every reply in domain.yml."""
    with open(DOMAIN_PATH, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    return {
        name: [variant["text"] for variant in variants if variant.get("text")]
        for name, variants in data["responses"].items()
    }


@pytest.fixture(scope="module")
def train() -> dict[str, list[str]]:
    return read_nlu(TRAIN_PATH)


@pytest.fixture(scope="module")
def test_set() -> dict[str, list[str]]:
    return read_nlu(TEST_PATH)


# --------------------------------------------------------------------------- helper self-checks


def test_helpers_detect_problems() -> None:
    assert fk_grade("The cat sat on the mat. It was warm.") < 3
    assert (
        fk_grade(
            "Pharmacological intervention necessitates comprehensive interdisciplinary "
            "evaluation of neurophysiological manifestations."
        )
        > 15
    )
    assert count_syllables("Klonopin") == 3
    assert count_syllables("hallucinations") >= 4
    assert NUMBER_RE.findall("call 213-555-0143 or 911") == ["213-555-0143", "911"]
    assert payload_topic('/open_faq{"faq_topic": "uses"}') == "uses"
    assert payload_topic("/open_faq{'faq_topic': 'uses'}") is None
    assert phrasing_key("Is Klonopin addictive?") == phrasing_key(
        "is klonopin  addictive"
    )


# --------------------------------------------------------------------------- topics and grounding


def test_every_topic_has_a_response_and_vice_versa(topics, responses) -> None:
    assert set(topics) == set(responses), (
        f"topics without a response: {sorted(set(topics) - set(responses))}; "
        f"responses without a topic: {sorted(set(responses) - set(topics))}"
    )


def test_each_response_has_one_text_and_two_or_three_buttons(responses) -> None:
    for key, variants in responses.items():
        assert isinstance(variants, list) and len(variants) == 1, key
        assert variants[0].get("text", "").strip(), f"{key}: empty text"
        buttons = variants[0].get("buttons") or []
        assert 2 <= len(buttons) <= 3, f"{key}: {len(buttons)} buttons"
        for b in buttons:
            assert b.get("title", "").strip(), f"{key}: button without title"


def test_facts_appear_in_article_and_answer(topics, answers, article) -> None:
    problems = []
    for key, spec in topics.items():
        facts = spec.get("facts") or []
        if (
            spec.get("kind") not in ("cannot_answer", "service", "safety")
            and len(facts) < 2
        ):
            problems.append(f"{key}: needs at least 2 grounded facts")
        for fact in facts:
            n = normalise(fact)
            if not 1 <= len(n.split()) <= 6:
                problems.append(f"{key}: fact {fact!r} should be 1-6 words")
            if n not in article:
                problems.append(f"{key}: fact {fact!r} is not in the article")
            if n not in normalise(answers.get(key, "")):
                problems.append(f"{key}: fact {fact!r} is not stated in the answer")
    assert not problems, "\n".join(problems)


def test_cannot_answer_topics_say_so_and_offer_admissions(
    topics, answers, responses
) -> None:
    cannot = [k for k, spec in topics.items() if spec.get("kind") == "cannot_answer"]
    assert set(cannot) >= {"cost_insurance", "location_visiting", "dosage"}
    for key in cannot:
        text = normalise(answers[key])
        assert "can't" in text or "cannot" in text, f"{key}: must say it can't answer"
        payloads = [b["payload"] for b in responses[key][0]["buttons"]]
        assert "/admissions" in payloads, f"{key}: must offer /admissions"


def test_sections_exist_in_article_and_map_to_topics(
    grounding, topics, article_raw
) -> None:
    sections = grounding["sections"]
    lines = {normalise(line) for line in article_raw.splitlines() if line.strip()}
    for heading, keys in sections.items():
        assert (
            normalise(heading) in lines
        ), f"section heading {heading!r} is not a line of the article"
        assert keys, f"section {heading!r} maps to no topic"
        for key in keys:
            assert key in topics, f"section {heading!r} maps to unknown topic {key!r}"
    required = {
        "What Is Clonazepam?",
        "Clonazepam Effects",
        "Signs of Clonazepam Abuse and Addiction",
        "Clonazepam Withdrawal Symptoms",
        "Long Term Side Effects of Clonazepam Abuse",
        "Clonazepam Addiction Treatment",
        "Clonazepam Abuse and Addiction",  # title line, heads the untitled intro
    }
    assert required <= set(
        sections
    ), f"missing sections: {sorted(required - set(sections))}"
    covered = {k for keys in sections.values() for k in keys}
    grounded = {
        k
        for k, spec in topics.items()
        if spec.get("kind") not in ("cannot_answer", "service", "safety")
    }
    assert (
        grounded <= covered
    ), f"topics not mapped to any section: {sorted(grounded - covered)}"


# --------------------------------------------------------------------------- answer content


def test_no_article_errors_repeated(answers) -> None:
    for key, text in answers.items():
        for phrase in BANNED_PHRASES:
            assert phrase not in normalise(text), f"{key}: contains {phrase!r}"


def test_no_objected_wording(answers, domain_responses) -> None:
    texts = {**answers, **{k: " ".join(v) for k, v in domain_responses.items()}}
    for key, text in texts.items():
        for phrase in OBJECTED_PHRASES:
            assert phrase not in normalise(text), f"{key}: contains {phrase!r}"


def test_person_first_language(answers, domain_responses, responses) -> None:
    texts = {**answers, **{k: " ".join(v) for k, v in domain_responses.items()}}
    titles = {
        f"{key} button {b['title']}": b["title"]
        for key, variants in responses.items()
        for b in variants[0]["buttons"]
    }
    for key, text in {**texts, **titles}.items():
        found = NOT_PERSON_FIRST_RE.findall(text)
        assert not found, f"{key}: say misuse / a person with an addiction, not {found}"


def test_only_allowed_numbers(answers) -> None:
    for key, text in answers.items():
        bad = [n for n in NUMBER_RE.findall(text) if n not in ALLOWED_NUMBERS]
        assert not bad, f"{key}: numbers not in the allowed set: {bad}"


def test_danger_topics_carry_the_911_line(answers) -> None:
    for key in DANGER_TOPICS:
        assert DANGER_LINE in normalise(answers[key]), f"{key}: missing {DANGER_LINE!r}"


def test_overdose_and_dosage_give_poison_help(answers) -> None:
    for key in ("overdose", "dosage"):
        assert "1-800-222-1222" in answers[key] and "911" in answers[key], key


def test_answers_within_word_limit(answers) -> None:
    too_long = {
        k: len(words(t)) for k, t in answers.items() if len(words(t)) > MAX_WORDS
    }
    assert not too_long, f"answers over {MAX_WORDS} words: {too_long}"


def test_mean_reading_grade(answers) -> None:
    grades = {k: fk_grade(t) for k, t in answers.items()}
    mean = sum(grades.values()) / len(grades)
    hardest = max(grades, key=grades.get)
    assert mean <= MAX_MEAN_GRADE, (
        f"mean Flesch-Kincaid grade {mean:.2f} > {MAX_MEAN_GRADE}; "
        f"hardest answer: {hardest} (grade {grades[hardest]:.2f})"
    )


def test_every_answer_at_grade_8_or_below(answers, domain_responses) -> None:
    from actions.handoff import crisis_text, suicidal_emergency_text

    texts = {f"utter_faq/{k}": t for k, t in answers.items()}
    for name, variants in domain_responses.items():
        for i, text in enumerate(variants):
            texts[f"{name}[{i}]"] = text
    texts["action_handoff_crisis"] = crisis_text()
    texts["action_handoff_emergency (suicidal)"] = suicidal_emergency_text()
    too_hard = {k: round(fk_grade(t), 1) for k, t in texts.items()}
    too_hard = {k: g for k, g in too_hard.items() if g > MAX_GRADE}
    assert not too_hard, f"answers above grade {MAX_GRADE}: {too_hard}"


def test_safety_sources_name_a_public_body(grounding) -> None:
    sources = grounding["sources"]
    assert sources, "knowledge/grounding.yml needs its sources"
    for key, text in sources.items():
        assert PUBLIC_BODY_RE.search(str(text)), f"source {key} names no public body"


def _safety_lines(grounding) -> list[tuple[str, dict]]:
    lines = [
        (f"topics.{key}", line)
        for key, spec in grounding["topics"].items()
        for line in spec.get("safety") or []
    ]
    lines += [
        (f"responses.{key}", line)
        for key, spec in grounding["responses"].items()
        for line in spec.get("safety") or []
    ]
    return lines


def test_every_safety_line_names_a_source_and_is_stated(
    grounding, answers, domain_responses
) -> None:
    problems = []
    lines = _safety_lines(grounding)
    assert len(lines) >= 30
    for where, line in lines:
        says, source = line.get("says"), line.get("source")
        if not says or not source:
            problems.append(f"{where}: a safety line needs `says` and `source`")
            continue
        if source not in grounding["sources"]:
            problems.append(f"{where}: source {source!r} is not in `sources`")
        kind, key = where.split(".", 1)
        texts = [answers.get(key, "")] if kind == "topics" else domain_responses[key]
        if not any(normalise(says) in normalise(t) for t in texts):
            problems.append(f"{where}: {says!r} is not stated in the answer")
    assert not problems, "\n".join(problems)


def test_safety_topics_have_safety_lines(topics) -> None:
    safety = [k for k, spec in topics.items() if spec.get("kind") == "safety"]
    assert {"mixing", "running_out", "suicide_risk"} <= set(safety)
    for key in safety:
        assert topics[key].get("safety"), f"{key}: kind safety needs safety lines"


def test_safety_replies_are_grounded(grounding) -> None:
    assert set(SAFETY_REPLIES) <= set(grounding["responses"])


def test_mixing_answer_says_it_plainly(answers) -> None:
    text = normalise(answers["mixing"])
    for phrase in (
        "dangerous",
        "slow or stop your breathing",
        "can kill",
        "don't mix them",
        "ask your prescriber or pharmacist",
        "alcohol",
        "fentanyl",
        "oxycodone",
        "percocet",
        "heroin",
        "sleep medicines",
        "gabapentin",
    ):
        assert phrase in text, phrase


def test_running_out_answer(answers) -> None:
    text = normalise(answers["running_out"])
    for phrase in (
        "contact your prescriber or a pharmacist today",
        "urgent care",
        "admissions team",
        "call 911 for a seizure, hallucinations, confusion or trouble breathing",
        "don't take someone else's prescription",
    ):
        assert phrase in text, phrase


def test_suicide_questions_get_988_and_no_numbers(answers) -> None:
    text = answers["suicide_risk"]
    assert "988" in text and "988lifeline.org" in text
    assert set(NUMBER_RE.findall(text)) <= {"911", "988"}
    assert "can't share dose numbers" in normalise(text)


def test_medication_during_detox_is_explained(answers) -> None:
    text = normalise(answers["mat"])
    assert not text.startswith("yes.")
    assert "this means" in text and "not a cure" in text and "on your own" in text


def test_tolerance_and_withdrawal_caveat(answers) -> None:
    assert "taken as prescribed" in normalise(answers["signs"])


def test_off_label_uses_say_sometimes(answers) -> None:
    assert "sometimes prescribe it to reduce alcohol withdrawal" in normalise(
        answers["uses"]
    )


def test_supervised_taper_not_home_as_such(answers) -> None:
    for key in ("home_detox", "stopping"):
        assert "slow taper planned with your prescriber" in normalise(answers[key])
    assert "stopping clonazepam all at once" in normalise(answers["home_detox"])


def test_crisis_replies_carry_988_chat_spanish_and_no_sales_line(
    domain_responses,
) -> None:
    from actions.handoff import crisis_text

    [crisis] = domain_responses["utter_crisis"]
    for phrase in ("call or text 988", "988lifeline.org", "spanish", "911"):
        assert phrase in normalise(crisis), phrase
    for text in (crisis, crisis_text()):
        for sales in ("admissions", "treatment", "555"):
            assert sales not in normalise(text), sales


def test_default_and_out_of_scope_give_988(domain_responses) -> None:
    for name in ("utter_default", "utter_out_of_scope"):
        [text] = domain_responses[name]
        assert "thoughts of suicide, call or text 988" in normalise(text), name


def test_clinical_review_shows_the_current_answers(
    topics, answers, domain_responses
) -> None:
    """docs/clinical-review.md (scripts/clinical_review.py) is what the clinician
    signs: every medical answer and safety reply in it must be the current one."""
    review = " ".join(words((ROOT / "docs" / "clinical-review.md").read_text()))
    texts = {
        f"utter_faq/{key}": answers[key]
        for key, spec in topics.items()
        if spec.get("kind") != "service"
    }
    for name in SAFETY_REPLIES:
        for i, text in enumerate(domain_responses[name]):
            texts[f"{name}[{i}]"] = text
    stale = [k for k, t in texts.items() if " ".join(words(t)) not in review]
    assert not stale, (
        f"docs/clinical-review.md does not show the current {stale}: run "
        ".venv/bin/python scripts/clinical_review.py and have the clinician sign"
    )


def test_button_payloads_are_valid(responses, topics) -> None:
    n_admissions = 0
    for key, variants in responses.items():
        payloads = [b["payload"] for b in variants[0]["buttons"]]
        n_admissions += "/admissions" in payloads
        for raw in payloads:
            if raw in FIXED_PAYLOADS:
                continue
            # Rasa fills {slot} placeholders in responses, buttons included: a
            # payload's JSON braces are doubled in the YAML, {{ }}, and arrive single.
            try:
                p = raw.format()
            except (KeyError, IndexError, ValueError):
                pytest.fail(f"{key}: write the payload's braces doubled: {raw!r}")
            topic = payload_topic(p)
            assert topic is not None, f"{key}: invalid payload {p!r}"
            assert topic in topics, f"{key}: payload points to unknown topic {topic!r}"
            assert topic != key, f"{key}: button links to itself"
    assert n_admissions >= 0.75 * len(
        responses
    ), "most answers should offer /admissions"


# --------------------------------------------------------------------------- NLU data


def test_nlu_intents_match_topics(topics, train, test_set) -> None:
    expected = {INTENT_PREFIX + k for k in topics}
    assert (
        set(train) == expected
    ), f"train intents differ: {sorted(set(train) ^ expected)}"
    assert (
        set(test_set) == expected
    ), f"test intents differ: {sorted(set(test_set) ^ expected)}"


def test_phrasing_counts(train, test_set) -> None:
    few = {i: (len(train.get(i, [])), len(test_set.get(i, []))) for i in train}
    bad = {
        i: counts
        for i, counts in few.items()
        if counts[0] < MIN_TRAIN or counts[1] < MIN_TEST
    }
    assert (
        not bad
    ), f"intents with < {MIN_TRAIN} train or < {MIN_TEST} test phrasings: {bad}"


def test_no_duplicate_phrasings(train, test_set) -> None:
    for name, data in (("train", train), ("test", test_set)):
        seen: dict[str, str] = {}
        for intent, examples in data.items():
            for ex in examples:
                k = phrasing_key(ex)
                assert (
                    k not in seen
                ), f"{name}: {ex!r} in {intent} duplicates one in {seen[k]}"
                seen[k] = intent


def test_train_and_test_do_not_overlap(train, test_set) -> None:
    train_keys: set[str] = {phrasing_key(e) for ex in train.values() for e in ex}
    overlap = [
        e for ex in test_set.values() for e in ex if phrasing_key(e) in train_keys
    ]
    assert not overlap, f"test phrasings also in training data: {overlap}"
