"""The NumPy sentence encoder (rasa_server/nlu/encoder.py) on the weights that
`make encoder` extracts from the pinned package gives the vectors of the
reference implementation.

tests/system/data/minilm_reference.json holds token ids and vectors computed once
with sentence-transformers 6.2.0 (torch 2.13.0, CPU) on the same files, in a
throw-away environment outside the project (neither is a dependency here); the
script that made it is in the file's "how". Texts cover punctuation, accents,
Spanish and Japanese characters, an empty text, a word longer than WordPiece
reads (100 characters) and a text over the 256-token limit.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from common.paths import ROOT
from rasa_server.nlu.encoder import SentenceEncoder

REFERENCE = ROOT / "tests" / "system" / "data" / "minilm_reference.json"
WEIGHTS = ROOT / "build" / "encoder" / "all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    assert (WEIGHTS / "model.safetensors").is_file(), "run `make encoder`"
    return SentenceEncoder.load(WEIGHTS)


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def test_the_tokens_are_the_reference_tokenizers(encoder: SentenceEncoder, reference: dict) -> None:  # fmt: skip
    for text, ids in zip(reference["texts"], reference["ids"], strict=True):
        assert encoder.tokenizer.ids(text) == ids, text


def test_the_vectors_are_the_reference_vectors(encoder: SentenceEncoder, reference: dict) -> None:  # fmt: skip
    batch = encoder.encode(reference["texts"])  # padded together
    one_by_one = np.stack([encoder.encode([t])[0] for t in reference["texts"]])
    expected = np.array(reference["vectors"], dtype=np.float32)
    assert np.abs(batch - expected).max() < 1e-4
    assert np.abs(one_by_one - expected).max() < 1e-4
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


def test_batched_encoding_keeps_the_order_given(encoder: SentenceEncoder, reference: dict) -> None:  # fmt: skip
    texts = reference["texts"]
    # batches of 2 after sorting by length: rows must still follow `texts`
    batched = encoder.encode_batched(texts, batch=2)
    expected = np.array(reference["vectors"], dtype=np.float32)
    assert batched.shape == (len(texts), encoder.dimensions) == expected.shape
    assert np.abs(batched - expected).max() < 1e-4
    assert encoder.encode_batched([]).shape == (0, encoder.dimensions)


def test_paraphrases_are_closer_than_other_questions(encoder: SentenceEncoder) -> None:
    v = encoder.encode([
        "can i quit klonopin cold turkey",
        "is it safe to stop clonazepam all at once",
        "what are your visiting hours",
    ])  # fmt: skip
    assert v[0] @ v[1] > 0.4 > v[0] @ v[2] + 0.3
