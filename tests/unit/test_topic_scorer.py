"""TopicScorer: the encoder's nearest phrasings as a second opinion on the topic."""

from __future__ import annotations

import numpy as np
import pytest

from rasa_server.nlu.topic_scorer import blend, selector_is_sure, topic_distribution


def test_a_topic_scores_by_its_nearest_phrasings() -> None:
    labels = ["faq/a", "faq/a", "faq/a", "faq/b", "faq/b"]
    similarities = np.array([0.9, 0.1, 0.1, 0.6, 0.6])
    # neighbours=1: a's best (0.9) beats b's (0.6); neighbours=3: a's mean 0.37
    # loses to b's mean 0.6 (b has only two phrasings, both used)
    one = topic_distribution(similarities, labels, neighbours=1, temperature=0.05)
    three = topic_distribution(similarities, labels, neighbours=3, temperature=0.05)
    assert one["faq/a"] > 0.99 and three["faq/b"] > 0.99
    assert sum(one.values()) == pytest.approx(1.0)


def test_a_higher_temperature_spreads_the_distribution() -> None:
    labels = ["faq/a", "faq/b"]
    similarities = np.array([0.8, 0.7])
    sharp = topic_distribution(similarities, labels, 1, 0.01)
    soft = topic_distribution(similarities, labels, 1, 1.0)
    assert sharp["faq/a"] > soft["faq/a"] > 0.5


def test_agreement_raises_and_disagreement_lowers_the_confidence() -> None:
    agree = blend({"faq/a": 0.6, "faq/b": 0.4}, {"faq/a": 0.9, "faq/b": 0.1}, 0.5)
    disagree = blend({"faq/a": 0.6, "faq/b": 0.4}, {"faq/a": 0.1, "faq/b": 0.9}, 0.5)
    assert agree[0] == ("faq/a", pytest.approx(0.75))
    assert disagree[0] == ("faq/b", pytest.approx(0.65))
    assert disagree[0][1] < agree[0][1]
    only_selector = blend({"faq/a": 0.6}, {"faq/b": 1.0}, 1.0)
    assert only_selector[0] == ("faq/a", pytest.approx(1.0))


def test_the_selector_stands_alone_only_when_sure_enough() -> None:
    ranking = {"faq/a": 0.8, "faq/b": 0.2}
    assert selector_is_sure(ranking, 0.8)
    assert not selector_is_sure(ranking, 0.81)
    assert not selector_is_sure(ranking, None), "None: the encoder is always asked"
    assert not selector_is_sure({}, 0.5)
