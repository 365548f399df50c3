"""The spaCy pipeline `make spacy` builds (tools/build_spacy.py) gives every
word the vector the wheel's full pipeline gave it, without the wheel's string
table.

tests/system/data/spacy_vectors_reference.json holds, for 22 words (two with no vector), whether
each has a vector, its first 8 dimensions and its norm, read once from the
pipeline built with the string table (its "how")."""

from __future__ import annotations

import json

import pytest

from common.paths import ROOT
from tools.build_spacy import BUILD_FORMAT, FORMAT_STAMP, OUTPUT

REFERENCE = ROOT / "tests" / "system" / "data" / "spacy_vectors_reference.json"


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    import spacy

    assert (OUTPUT / "SOURCE_SHA256").is_file(), "run `make spacy`"
    return spacy.load(OUTPUT)


def test_the_build_is_this_scripts_format() -> None:
    assert FORMAT_STAMP.read_text().strip() == BUILD_FORMAT


def test_every_word_has_the_reference_vector(nlp) -> None:  # type: ignore[no-untyped-def]
    words = json.loads(REFERENCE.read_text(encoding="utf-8"))["words"]
    assert sum(w["has_vector"] for w in words.values()) == 20
    for word, expected in words.items():
        token = nlp(word)[0]
        assert token.has_vector == expected["has_vector"], word
        assert [round(float(x), 6) for x in token.vector[:8]] == pytest.approx(
            expected["first8"], abs=1e-6
        ), word
        assert float(token.vector_norm) == pytest.approx(expected["norm"], abs=1e-5)


def test_the_string_table_is_left_out(nlp) -> None:  # type: ignore[no-untyped-def]
    # the wheel's table has 709,118 strings; spaCy's defaults are about 1,300
    assert len(nlp.vocab.strings) < 10_000
    assert nlp.vocab.vectors.shape == (20_000, 300)
