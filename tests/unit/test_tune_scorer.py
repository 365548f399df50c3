"""tools.tune_scorer: replaying TopicScorer's blend and TopicFallback's threshold."""

from __future__ import annotations

import numpy as np

from tools.tune_scorer import (
    Parsed,
    Settings,
    current_settings,
    held_out_figures,
    reader_ceiling,
    replay,
)

LABELS = ["faq/stopping", "faq/stopping", "faq/withdrawal", "faq/withdrawal"]
# the encoder finds the question close to the withdrawal phrasings
SIMILARITIES = np.array([0.20, 0.10, 0.90, 0.80])
SELECTOR = {"faq/stopping": 0.7, "faq/withdrawal": 0.3}


def test_a_message_the_blend_did_not_decide_keeps_its_label() -> None:
    for label in ("greet", "emergency", "nlu_fallback"):
        assert replay(Parsed(label), LABELS, Settings(0.5, 0.05, 2, 0.3)) == label


def test_the_weight_decides_between_selector_and_encoder() -> None:
    parsed = Parsed("faq/stopping", SELECTOR, SIMILARITIES)
    assert replay(parsed, LABELS, Settings(1.0, 0.05, 2, 0.3)) == "faq/stopping"
    assert replay(parsed, LABELS, Settings(0.0, 0.05, 2, 0.3)) == "faq/withdrawal"


def test_below_the_threshold_it_is_did_you_mean() -> None:
    parsed = Parsed("faq/stopping", SELECTOR, SIMILARITIES)
    # selector only: faq/stopping at 0.7
    assert replay(parsed, LABELS, Settings(1.0, 0.05, 2, 0.69)) == "faq/stopping"
    assert replay(parsed, LABELS, Settings(1.0, 0.05, 2, 0.71)) == "nlu_fallback"


def test_held_out_figures_count_right_and_another_topics_answers() -> None:
    parsed = [
        Parsed("faq/stopping", SELECTOR, SIMILARITIES),  # -> withdrawal at w=0
        Parsed("greet"),
        Parsed("nlu_fallback"),
    ]
    expected = ["faq/stopping", "greet", "faq/signs"]
    figures = held_out_figures(parsed, expected, LABELS, Settings(0.0, 0.05, 2, 0.3))
    assert figures == {"accuracy": 1 / 3, "other_topic_answer": 1 / 3}


def test_the_current_settings_are_read_from_config_yml() -> None:
    now = current_settings()
    assert 0.0 <= now.weight <= 1.0 and now.neighbours >= 1
    assert 0.0 < now.threshold < 1.0


def test_the_ceiling_counts_each_readers_first_choice_on_article_topics() -> None:
    # the selector says stopping, the encoder withdrawal
    parsed = [
        Parsed("faq/stopping", SELECTOR, SIMILARITIES),  # right: the selector's
        Parsed("faq/stopping", SELECTOR, SIMILARITIES),  # right: the encoder's
        Parsed("faq/stopping", SELECTOR, SIMILARITIES),  # neither reader's first
        Parsed("greet"),  # a FAQ question not read as one: nobody's
        Parsed("greet"),  # not a FAQ question: not counted
        Parsed("faq/stopping", SELECTOR, SIMILARITIES),  # an honest topic: not counted
    ]
    expected = ["faq/stopping", "faq/withdrawal", "faq/signs", "faq/signs", "greet"]
    expected.append("faq/dosage")
    settings = Settings(0.5, 0.05, 2, 0.3)
    ceiling = reader_ceiling(parsed, expected, LABELS, settings, {"faq/dosage"})
    assert ceiling == {
        "questions": 4,
        "selector": 0.25,
        "encoder": 0.25,
        "either": 0.5,
        "encoder_top3": 0.5,
    }


def test_a_sure_selector_stands_without_the_encoder() -> None:
    # the selector is 0.7 sure of stopping; the encoder prefers withdrawal
    parsed = Parsed("faq/stopping", SELECTOR, SIMILARITIES)
    blended = Settings(0.0, 0.05, 2, 0.3, trust=None)
    assert replay(parsed, LABELS, blended) == "faq/withdrawal"
    assert (
        replay(parsed, LABELS, Settings(0.0, 0.05, 2, 0.3, trust=0.7)) == "faq/stopping"
    )
    assert (
        replay(parsed, LABELS, Settings(0.0, 0.05, 2, 0.3, trust=0.71))
        == "faq/withdrawal"
    )
    # standing alone, the selector still meets TopicFallback's threshold
    assert (
        replay(parsed, LABELS, Settings(0.0, 0.05, 2, 0.75, trust=0.7))
        == "nlu_fallback"
    )
