"""tools.tune_scorer: replaying TopicScorer's blend and TopicFallback's threshold."""

from __future__ import annotations

from tools.tune_scorer import (
    Parsed,
    Settings,
    current_settings,
    held_out_figures,
    reader_ceiling,
    replay,
)

# the encoder reader prefers withdrawal, the selector stopping
ENCODER = {"faq/stopping": 0.1, "faq/withdrawal": 0.9}
SELECTOR = {"faq/stopping": 0.7, "faq/withdrawal": 0.3}


def test_a_message_the_blend_did_not_decide_keeps_its_label() -> None:
    for label in ("greet", "emergency", "nlu_fallback"):
        assert replay(Parsed(label), Settings(0.5, 0.3)) == label


def test_the_weight_decides_between_selector_and_encoder() -> None:
    parsed = Parsed("faq/stopping", SELECTOR, ENCODER)
    assert replay(parsed, Settings(1.0, 0.3)) == "faq/stopping"
    assert replay(parsed, Settings(0.0, 0.3)) == "faq/withdrawal"


def test_below_the_threshold_it_is_did_you_mean() -> None:
    parsed = Parsed("faq/stopping", SELECTOR, ENCODER)
    # selector only: faq/stopping at 0.7
    assert replay(parsed, Settings(1.0, 0.69)) == "faq/stopping"
    assert replay(parsed, Settings(1.0, 0.71)) == "nlu_fallback"


def test_held_out_figures_count_right_and_another_topics_answers() -> None:
    parsed = [
        Parsed("faq/stopping", SELECTOR, ENCODER),  # -> withdrawal at w=0
        Parsed("greet"),
        Parsed("nlu_fallback"),
    ]
    expected = ["faq/stopping", "greet", "faq/signs"]
    figures = held_out_figures(parsed, expected, Settings(0.0, 0.3))
    assert figures == {"accuracy": 1 / 3, "other_topic_answer": 1 / 3}


def test_the_current_settings_are_read_from_config_yml() -> None:
    now = current_settings()
    assert 0.0 <= now.weight <= 1.0
    assert 0.0 < now.threshold < 1.0


def test_the_ceiling_counts_each_readers_first_choice_on_article_topics() -> None:
    # the selector says stopping, the encoder withdrawal
    parsed = [
        Parsed("faq/stopping", SELECTOR, ENCODER),  # right: the selector's
        Parsed("faq/stopping", SELECTOR, ENCODER),  # right: the encoder's
        Parsed("faq/stopping", SELECTOR, ENCODER),  # neither reader's first
        Parsed("greet"),  # a FAQ question not read as one: nobody's
        Parsed("greet"),  # not a FAQ question: not counted
        Parsed("faq/stopping", SELECTOR, ENCODER),  # an honest topic: not counted
    ]
    expected = ["faq/stopping", "faq/withdrawal", "faq/signs", "faq/signs", "greet"]
    expected.append("faq/dosage")
    ceiling = reader_ceiling(parsed, expected, {"faq/dosage"})
    assert ceiling == {
        "questions": 4,
        "selector": 0.25,
        "encoder": 0.25,
        "either": 0.5,
        "encoder_top3": 0.5,
    }


def test_a_sure_selector_stands_without_the_encoder() -> None:
    # the selector is 0.7 sure of stopping; the encoder prefers withdrawal
    parsed = Parsed("faq/stopping", SELECTOR, ENCODER)
    assert replay(parsed, Settings(0.0, 0.3, trust=None)) == "faq/withdrawal"
    assert replay(parsed, Settings(0.0, 0.3, trust=0.7)) == "faq/stopping"
    assert replay(parsed, Settings(0.0, 0.3, trust=0.71)) == "faq/withdrawal"
    # standing alone, the selector still meets TopicFallback's threshold
    assert replay(parsed, Settings(0.0, 0.75, trust=0.7)) == "nlu_fallback"


def test_the_visitors_style_set_has_its_own_figures() -> None:
    from tools.tune_scorer import VISITORS, acceptable

    parsed = [
        Parsed("faq/stopping", SELECTOR, ENCODER),  # -> withdrawal at w=0: wrong
        Parsed("faq/stopping", SELECTOR, ENCODER),  # -> withdrawal: right
        Parsed("greet"),
    ]
    expected = ["faq/stopping", "faq/withdrawal", "greet"]
    files = [VISITORS, VISITORS, "chitchat_test.yml"]
    figures = held_out_figures(parsed, expected, Settings(0.0, 0.3), files)
    assert figures["visitors_accuracy"] == 0.5
    assert figures["visitors_wrong_of_answers"] == 0.5
    assert not acceptable(figures), "half the visitors' answers are wrong"
    # below the threshold both become "Did you mean": nothing wrong, F1 drops
    cautious = held_out_figures(parsed, expected, Settings(0.0, 0.95), files)
    assert cautious["visitors_wrong_of_answers"] == 0.0
    assert cautious["macro_f1"] < figures["macro_f1"] or figures["macro_f1"] < 0.9
