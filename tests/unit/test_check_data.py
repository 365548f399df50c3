"""`make check-data` (tools/check_data.py): each check can fail, and says file:line."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools import check_data

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for folder in (
        "data",
        "tests/nlu",
        "tests/stories",
        "tests/real",
        "config",
        "actions",
        "rasa_server",
        "common",
        "web/public",
        "knowledge",
    ):
        shutil.copytree(
            ROOT / folder,
            tmp_path / folder,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.copy(ROOT / "domain.yml", tmp_path / "domain.yml")
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs/clinical-review.md", tmp_path / "docs/clinical-review.md")
    return tmp_path


def line_of(path: Path, text: str) -> int:
    return path.read_text().splitlines().index(text) + 1


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first `old` by `new`; return the 1-based line where `new` starts."""
    text = path.read_text()
    assert old in text, old
    index = text.index(old)
    path.write_text(text.replace(old, new, 1))
    return text[:index].count("\n") + 1


def messages(root: Path) -> list[str]:
    return [str(p).replace(str(root) + "/", "") for p in check_data.check(root)]


def test_the_project_data_passes() -> None:
    assert check_data.check(ROOT) == []


def test_a_phrasing_under_two_topics(project: Path) -> None:
    nlu = project / "data/nlu/faq.yml"
    line = edit(nlu, "  - intent: faq/uses\n    examples: |\n",
                "  - intent: faq/uses\n    examples: |\n      - What is  clonazepam?\n") + 2  # fmt: skip
    assert any(
        m.startswith(
            f"data/nlu/faq.yml:{line}: 'What is  clonazepam?' is under faq/uses and also under faq/what_is"
        )
        for m in messages(project)
    ), messages(project)


def test_a_held_out_phrasing_that_is_training_data(project: Path) -> None:
    test_file = project / "tests/nlu/faq_test.yml"
    line = edit(test_file, "  - intent: faq/what_is\n    examples: |\n",
                "  - intent: faq/what_is\n    examples: |\n      - whats klonopin\n") + 2  # fmt: skip
    assert (
        f"tests/nlu/faq_test.yml:{line}: held-out phrasing 'whats klonopin' is also training data (data/nlu/faq.yml:12) -- reword it or remove one"
        in messages(project)
    )


def test_an_answer_over_the_length_limit(project: Path) -> None:
    answers = project / "data/responses/faq.yml"
    line = edit(answers, "  utter_faq/uses:\n    - text: >-\n",
                "  utter_faq/uses:\n    - text: >-\n        " + "word " * 90 + "\n")  # fmt: skip
    found = [
        m
        for m in messages(project)
        if m.startswith(f"data/responses/faq.yml:{line}: utter_faq/uses has")
    ]
    assert found and "the limit is 90" in found[0]


@pytest.mark.parametrize(
    "new, expected",
    [
        (
            '\'/open_faq{{"faq_topic": "nope"}}\'',
            "button opens faq/nope, which does not exist",
        ),
        ('\'/open_faq{"faq_topic": "uses"}\'', "write its braces doubled"),
        (
            '"/no_such_intent"',
            "button sends /no_such_intent, an intent not in domain.yml",
        ),
    ],
)
def test_button_payloads(project: Path, new: str, expected: str) -> None:
    answers = project / "data/responses/faq.yml"
    line = edit(answers, '\'/open_faq{{"faq_topic": "uses"}}\'', new)
    assert any(
        m.startswith(f"data/responses/faq.yml:{line}: ") and expected in m
        for m in messages(project)
    )


def test_a_contact_detail_written_outside_the_configuration(project: Path) -> None:
    answers = project / "data/responses/faq.yml"
    line = edit(
        answers,
        "Want to know more?",
        "Call us at (213) 555-0142 or admissions@example.org.",
    )
    found = [
        m for m in messages(project) if m.startswith(f"data/responses/faq.yml:{line}: ")
    ]
    assert any("the configured number (213) 555-0142" in m for m in found), found
    assert any("e-mail address admissions@example.org" in m for m in found), found


def test_a_new_topic_needs_an_answer_phrasings_tests_and_a_story(project: Path) -> None:
    nlu = project / "data/nlu/faq.yml"
    line = edit(nlu, "  - intent: faq/what_is\n",
                "  - intent: faq/new_topic\n    examples: |\n      - a brand new question\n\n"
                "  - intent: faq/what_is\n")  # fmt: skip
    found = [
        m
        for m in messages(project)
        if m.startswith(f"data/nlu/faq.yml:{line}: topic faq/new_topic")
    ]
    assert any("has no answer" in m for m in found), found
    assert any("has 1 training phrasings, needs at least 14" in m for m in found)
    assert any("has no test story" in m for m in found)
    assert any("has no entry in knowledge/grounding.yml" in m for m in found)
    assert any(
        "tests/nlu/faq_test.yml:1: topic faq/new_topic has 0 held-out" in m
        for m in messages(project)
    )


def test_an_answer_without_phrasings(project: Path) -> None:
    answers = project / "data/responses/faq.yml"
    line = edit(
        answers,
        "  utter_faq/uses:\n",
        "  utter_faq/orphan:\n    - text: An answer nobody asks for.\n\n  utter_faq/uses:\n",
    )
    assert (
        f"data/responses/faq.yml:{line}: answer utter_faq/orphan has no training phrasings -- add `- intent: faq/orphan` to data/nlu/faq.yml"
        in messages(project)
    )


def test_main_exits_1_and_prints_file_and_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        project / "data/responses/faq.yml",
        '"faq_topic": "uses"}}',
        '"faq_topic": "nope"}}',
    )
    assert check_data.main(["--root", str(project)]) == 1
    out = capsys.readouterr().out
    assert "data/responses/faq.yml:" in out and "1 problem(s)" in out
    assert check_data.main(["--root", str(ROOT)]) == 0


# --------------------------------------------------------------------------- grounding


def has(root: Path, prefix: str, fragment: str) -> tuple[bool, list[str]]:
    found = messages(root)
    return any(m.startswith(prefix) and fragment in m for m in found), found


def test_a_fact_the_article_does_not_hold(project: Path) -> None:
    grounding = project / "knowledge/grounding.yml"
    line = edit(
        grounding, '      - "Schedule IV drug"\n', '      - "Schedule II drug"\n'
    )
    topic_line = grounding.read_text().splitlines().index("  what_is:") + 1
    assert line > topic_line
    ok, found = has(project, f"knowledge/grounding.yml:{topic_line}:",
                    "fact 'Schedule II drug' is not in the article")  # fmt: skip
    assert ok, found


def test_a_fact_the_answer_does_not_state(project: Path) -> None:
    responses = project / "data/responses/faq.yml"
    edit(responses, "        • seizures\n", "        • fits\n")
    line = line_of(responses, "  utter_faq/withdrawal:")
    ok, found = has(project, f"data/responses/faq.yml:{line}:",
                    "utter_faq/withdrawal does not state the fact")  # fmt: skip
    assert ok, found


def test_a_section_heading_not_in_the_article(project: Path) -> None:
    grounding = project / "knowledge/grounding.yml"
    line = edit(grounding, '  "Clonazepam Effects":', '  "Clonazepam Side Effects":')
    ok, found = has(project, f"knowledge/grounding.yml:{line}:",
                    "is not a heading of the article")  # fmt: skip
    assert ok, found
    assert any("'Clonazepam Effects' is not mapped" in m for m in found), found


def test_the_articles_errors_and_invented_numbers(project: Path) -> None:
    responses = project / "data/responses/faq.yml"
    edit(responses, "Clonazepam (Klonopin) withdrawal symptoms include",
         "Clonazepine withdrawal (call 310-555-1234) symptoms include")  # fmt: skip
    found = messages(project)
    assert any("repeats the article's error 'clonazepine'" in m for m in found), found
    assert any("has numbers ['310-555-1234']" in m for m in found), found


def test_a_danger_topic_without_the_911_line(project: Path) -> None:
    responses = project / "data/responses/faq.yml"
    edit(responses, " Talk to your prescriber first. If this is happening now, call 911.\n",
         " Talk to your prescriber first.\n")  # fmt: skip
    line = line_of(responses, "  utter_faq/withdrawal:")
    ok, found = has(project, f"data/responses/faq.yml:{line}:",
                    "utter_faq/withdrawal is a danger topic")  # fmt: skip
    assert ok, found


def test_a_cannot_answer_topic_that_does_not_say_so(project: Path) -> None:
    responses = project / "data/responses/faq.yml"
    edit(responses, "I'm sorry, I can't give dosing advice.", "About dosing:")
    line = line_of(responses, "  utter_faq/dosage:")
    found = messages(project)
    assert any(
        m.startswith(f"data/responses/faq.yml:{line}:") and "say plainly" in m
        for m in found
    ), found


def test_the_reading_grade(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.readability import count_syllables, fk_grade

    assert fk_grade("The cat sat on the mat. It was warm.") < 3
    hard = (
        "Pharmacological intervention necessitates comprehensive interdisciplinary "
        "evaluation of neurophysiological manifestations."
    )
    assert fk_grade(hard) > 15
    assert count_syllables("Klonopin") == 3
    assert count_syllables("hallucinations") >= 4
    assert fk_grade("") == 0.0
    assert check_data.check(project) == []
    monkeypatch.setattr(check_data, "MAX_MEAN_GRADE", 2.0)
    assert any("mean reading grade" in m for m in messages(project))


def test_an_answer_without_enough_next_steps(project: Path) -> None:
    responses = project / "data/responses/faq.yml"
    text = responses.read_text()
    start = text.index("  utter_faq/withdrawal:")
    buttons = text.index("      buttons:", start)
    end = text.index("\n  utter_faq/", buttons)
    responses.write_text(text[:buttons] + text[end + 1 :])
    line = line_of(responses, "  utter_faq/withdrawal:")
    ok, found = has(project, f"data/responses/faq.yml:{line}:",
                    "utter_faq/withdrawal has 0 buttons")  # fmt: skip
    assert ok, found


# --------------------------------------------------------------------------- real visitors


def test_a_training_phrasing_copied_from_a_real_question(project: Path) -> None:
    nlu = project / "data/nlu/faq.yml"
    line = edit(nlu, "  - intent: faq/what_is\n    examples: |\n",
                "  - intent: faq/what_is\n    examples: |\n"
                "      - What is the medication Riva-Clonazepam?\n") + 2  # fmt: skip
    ok, found = has(project, f"data/nlu/faq.yml:{line}:",
                    "copies real-visitor test question r006")  # fmt: skip
    assert ok, found


def test_near_copies_are_caught_and_other_wordings_are_not() -> None:
    real = "my mom has been taking klonopin for years, is it addictive?"
    assert check_data.near_copy(
        "My mom has been taking Klonopin for years. Is it addictive", real
    )
    assert check_data.near_copy(
        "my mom has taken klonopin for years is it addictive", real
    )
    assert not check_data.near_copy("is klonopin addictive", real)
    assert not check_data.near_copy("is it addictive", "is xanax addictive")


def test_a_real_question_without_a_source_or_a_label(project: Path) -> None:
    questions = project / "tests/real/questions.yml"
    line = (
        edit(questions, '"label": "not_in_article/drug_test"', '"label": "drug_test"')
        - 2
    )
    provenance = project / "tests/real/provenance.yml"
    edit(provenance, '- "id": "r001"', '- "id": "r001-moved"')
    found = messages(project)
    assert any(m.startswith(f"tests/real/questions.yml:{line}:") and "label 'drug_test'" in m
               for m in found), found  # fmt: skip
    assert any("real question r001 has no public source" in m for m in found), found


def test_a_real_questions_also_names_only_other_known_topics(project: Path) -> None:
    questions = project / "tests/real/questions.yml"
    edit(
        questions,
        '"also": ["faq/why_abused"]',
        '"also": ["faq/is_addictive", "faq/nope"]',
    )
    found = messages(project)
    assert any(
        "real question r002: also ['faq/is_addictive', 'faq/nope']" in m for m in found
    ), found


# --------------------------------------------------------------------------- clinical (issue 12)


def test_objected_wording_abuse_and_a_stale_review(project: Path) -> None:
    responses = project / "data/responses/faq.yml"
    edit(responses, "Withdrawal can trigger health emergencies,",
         "Withdrawal from abuse can trigger health emergencies; saltwater helps,")  # fmt: skip
    line = line_of(responses, "  utter_faq/withdrawal:")
    found = [
        m for m in messages(project) if m.startswith(f"data/responses/faq.yml:{line}:")
    ]
    assert any(
        "'saltwater', wording a clinician objected to" in m for m in found
    ), found
    assert any("says ['abuse'] -- say misuse" in m for m in found), found
    assert any(
        "is not the text docs/clinical-review.md shows" in m for m in found
    ), found


def test_a_source_that_names_no_public_body(project: Path) -> None:
    grounding = project / "knowledge/grounding.yml"
    edit(grounding, "U.S. Food and Drug Administration (FDA), Drug Safety Communication of\n    23",
         "A web page of\n    23")  # fmt: skip
    line = line_of(grounding, "  fda_benzodiazepines_2020: >-")
    ok, found = has(project, f"knowledge/grounding.yml:{line}:",
                    "source fda_benzodiazepines_2020 names no public body")  # fmt: skip
    assert ok, found


def test_a_safety_line_the_reply_does_not_say(project: Path) -> None:
    grounding = project / "knowledge/grounding.yml"
    edit(grounding, '      - says: "call 911 now"\n', '      - says: "call 912 now"\n')
    ok, found = has(project, "knowledge/grounding.yml:",
                    "responses.utter_emergency: 'call 912 now' is not said")  # fmt: skip
    assert ok, found
