"""rasa_server/inference_cache.py: the digest tells inputs apart, the cache is a
bounded LRU that hands out copies, and install() skips the model only for an
input it has seen."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse
from rasa.utils.tensorflow.models import RasaModel

from rasa_server import inference_cache
from rasa_server.inference_cache import InferenceCache, input_digest


def features(values: list[float]) -> dict[str, Any]:
    dense = np.array(values, dtype=np.float32).reshape(1, -1)
    sparse = scipy.sparse.coo_matrix(np.array([[0, 1, 0, 2]], dtype=np.float32))
    return {"text": {"sentence": [np.array([dense, sparse], dtype=object)]}}


def test_equal_inputs_give_equal_digests() -> None:
    assert input_digest(features([1, 2]), 1, None) == input_digest(
        features([1, 2]), 1, None
    )


@pytest.mark.parametrize(
    "other",
    [
        features([1, 3]),  # another value
        features([1, 2, 0]),  # another shape
        {"text": {"sequence": features([1, 2])["text"]["sentence"]}},  # another key
        {"label": features([1, 2])["text"]},
    ],
)
def test_different_inputs_give_different_digests(other: dict[str, Any]) -> None:
    assert input_digest(features([1, 2]), 1, None) != input_digest(other, 1, None)


def test_sparse_matrices_are_told_apart_by_position_and_value() -> None:
    def digest(dense: list[list[float]]) -> bytes:
        return input_digest({"x": [scipy.sparse.csr_matrix(np.array(dense))]}, 1, None)

    assert digest([[0, 1]]) != digest([[1, 0]])
    assert digest([[0, 1]]) != digest([[0, 2]])
    assert digest([[0, 1]]) == digest([[0, 1]])


def test_batch_size_and_output_keys_are_part_of_the_key() -> None:
    data = features([1, 2])
    assert input_digest(data, 1, None) != input_digest(data, 2, None)
    assert input_digest(data, 1, None) != input_digest(data, 1, ["scores"])


def test_an_unknown_input_kind_is_refused() -> None:
    with pytest.raises(TypeError):
        input_digest({"x": [object()]}, 1, None)


def test_the_cache_evicts_the_least_recently_used_entry() -> None:
    cache = InferenceCache(2)
    cache.put((1, b"a"), {"v": 1})
    cache.put((1, b"b"), {"v": 2})
    assert cache.get((1, b"a")) == {"v": 1}  # "a" is now the most recent
    cache.put((1, b"c"), {"v": 3})
    assert cache.get((1, b"b")) is None
    assert cache.get((1, b"a")) == {"v": 1}
    assert len(cache) == 2
    assert (cache.stats.hits, cache.stats.misses) == (2, 1)


def test_callers_get_copies_and_cannot_change_what_is_cached() -> None:
    cache = InferenceCache(4)
    outputs = {"scores": np.array([0.1, 0.9])}
    cache.put((1, b"k"), outputs)
    outputs["scores"][0] = 5.0  # the caller's array, after put
    first = cache.get((1, b"k"))
    assert first is not None
    first["scores"][1] = 7.0  # a reader's copy
    again = cache.get((1, b"k"))
    assert again is not None
    assert again["scores"].tolist() == [0.1, 0.9]


class Data:
    def __init__(self, values: list[float]) -> None:
        self.data = features(values)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """RasaModel.run_inference replaced by a counting fake, then the cache
    installed over it; undone after the test."""
    calls: list[Any] = []

    def fake(
        self: Any,
        model_data: Data,
        batch_size: Any = 1,
        output_keys_expected: Any = None,
    ) -> Any:
        calls.append(model_data)
        return {"scores": np.array([float(len(calls))])}  # fmt: skip

    monkeypatch.setattr(RasaModel, "run_inference", fake)
    monkeypatch.setattr(inference_cache, "_installed", None)
    return calls


def test_install_skips_the_model_for_a_repeated_input(counted: list[Any]) -> None:
    cache = inference_cache.install(16)
    assert cache is not None
    model = object.__new__(RasaModel)
    first = RasaModel.run_inference(model, Data([1, 2]))
    repeated = RasaModel.run_inference(model, Data([1, 2]))
    other = RasaModel.run_inference(model, Data([3, 4]))
    assert len(counted) == 2  # the repeated input did not reach the model
    assert repeated["scores"].tolist() == first["scores"].tolist() == [1.0]
    assert other["scores"].tolist() == [2.0]
    assert (cache.stats.hits, cache.stats.misses) == (1, 2)


def test_two_models_never_share_entries(counted: list[Any]) -> None:
    inference_cache.install(16)
    one, two = object.__new__(RasaModel), object.__new__(RasaModel)
    RasaModel.run_inference(one, Data([1, 2]))
    RasaModel.run_inference(two, Data([1, 2]))
    assert len(counted) == 2


def test_size_zero_installs_nothing(counted: list[Any]) -> None:
    assert inference_cache.install(0) is None
    model = object.__new__(RasaModel)
    RasaModel.run_inference(model, Data([1, 2]))
    RasaModel.run_inference(model, Data([1, 2]))
    assert len(counted) == 2


@pytest.mark.parametrize(
    ("text", "kept"),
    [("what is klonopin", True), ('/open_faq{"faq_topic": "withdrawal"}', True),
     ("hi", True), ("", False), (None, False), ("call me at (213) 555-0199", False),
     ("2135550199", False), ("sam@example.org", False), ("i took 2 pills at 10", True)],
)  # fmt: skip
def test_contact_details_are_never_kept(text: str | None, kept: bool) -> None:
    assert inference_cache.cacheable_text(text) is kept


class Message:
    def __init__(self, text: str) -> None:
        self.text = text


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The processor's NLU step replaced by a counting fake, then the parse
    cache installed over it; undone after the test."""
    from rasa.core.processor import MessageProcessor

    calls: list[str] = []

    def fake(
        self: Any, message: Message, tracker: Any, only_output_properties: bool = True
    ) -> Any:
        calls.append(message.text)
        return {"text": message.text, "intent": {"name": f"call{len(calls)}"}}  # fmt: skip

    monkeypatch.setattr(MessageProcessor, "_parse_message_with_graph", fake)
    monkeypatch.setattr(inference_cache, "_parse_installed", None)
    return calls


def test_a_repeated_text_skips_the_nlu_pipeline(parses: list[str]) -> None:
    from rasa.core.processor import MessageProcessor

    cache = inference_cache.install_parse_cache(16)
    assert cache is not None
    processor = object.__new__(MessageProcessor)
    first = MessageProcessor._parse_message_with_graph(processor, Message("hi"), None)
    first["intent"]["name"] = "changed by a caller"
    again = MessageProcessor._parse_message_with_graph(processor, Message("hi"), None)
    other = MessageProcessor._parse_message_with_graph(processor, Message("hey"), None)
    phone = "my number is 213 555 0199"
    MessageProcessor._parse_message_with_graph(processor, Message(phone), None)
    MessageProcessor._parse_message_with_graph(processor, Message(phone), None)
    assert parses == ["hi", "hey", phone, phone]  # contact details: never kept
    assert again == {"text": "hi", "intent": {"name": "call1"}}
    assert other["intent"]["name"] == "call2"
