"""TopicScorer: the encoder's nearest phrasings as a second opinion on the topic."""

from __future__ import annotations

import numpy as np
import pytest

from rasa_server.nlu.topic_scorer import (
    blend,
    classifier_distribution,
    fit_softmax,
    selector_is_sure,
    topic_distribution,
)


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


def _unit(rows: list[list[float]]) -> np.ndarray:
    x = np.array(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_the_classifier_reader_learns_which_direction_is_which_topic() -> None:
    # two topics, each a cluster of phrasings around its own direction
    vectors = _unit([[1, 0.1, 0], [1, -0.1, 0.1], [0.1, 1, 0], [-0.1, 1, 0.1]])
    labels = ["faq/a", "faq/a", "faq/b", "faq/b"]
    topics, weights, bias = fit_softmax(vectors, labels, 20.0, 1.0, 200)
    assert topics == ["faq/a", "faq/b"] and weights.shape == (3, 2)
    near_a = classifier_distribution(
        _unit([[0.9, 0.2, 0.1]])[0], topics, weights, bias, 20.0
    )
    near_b = classifier_distribution(
        _unit([[0.2, 0.9, 0.0]])[0], topics, weights, bias, 20.0
    )
    assert near_a["faq/a"] > 0.9 and near_b["faq/b"] > 0.9
    assert sum(near_a.values()) == pytest.approx(1.0)
    halfway = classifier_distribution(
        _unit([[1, 1, 0]])[0], topics, weights, bias, 20.0
    )
    assert max(halfway.values()) < near_a["faq/a"], "between topics it is less sure"


def test_the_classifier_reader_is_the_same_for_the_same_phrasings() -> None:
    vectors = _unit([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    labels = ["faq/a", "faq/b", "faq/c"]
    first = fit_softmax(vectors, labels, 20.0, 1.0, 50)
    again = fit_softmax(vectors, labels, 20.0, 1.0, 50)
    assert np.array_equal(first[1], again[1]) and np.array_equal(first[2], again[2])
