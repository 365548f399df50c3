"""Memoise the TensorFlow forward passes of DIET, the ResponseSelector and TED.

Profiling the Rasa server under load (py-spy, `make bench`) showed that about
40 % of its time goes into `RasaModel.run_inference`: one TensorFlow call per
model per message, most of it TensorFlow's per-call overhead rather than
arithmetic. Each call is a pure function of the model's weights (fixed once the
model is loaded) and of its input features, so the same features always give the
same outputs. Visitors repeat themselves a lot: every button click sends one of
a few dozen payloads, "hi", "yes", "thanks" come back all the time, and after a
bot answer TED sees the same few dialogue states over and over.

`install()` wraps `RasaModel.run_inference` with a bounded LRU cache keyed by
the model and a digest of every input feature array (dense or sparse), so a
repeated input skips TensorFlow and gets a copy of the earlier outputs. An input
never seen before runs the model as usual. Featurisation still runs for every
message; only the forward pass is skipped.

One step earlier, `install_parse_cache()` keeps the NLU pipeline's whole result
(intent, ranking, response selection) per message text: the pipeline's output
depends on the text alone, so a repeated text (a button payload, "hi", a common
question) skips tokenising, featurising and both models. Texts that look like
contact details (an e-mail address, seven or more digits) are never kept.

Both caches live in one server process's memory and are never written anywhere;
the parse cache holds recent message texts, which the conversation store holds
anyway. `INFERENCE_CACHE_SIZE` sets each cache's number of entries (default
4096; 0 turns both off).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import itertools
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse

logger = logging.getLogger(__name__)


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


def _feed(digest: Any, value: Any) -> None:
    """Feed every bit of ``value`` that can change a model's output to ``digest``."""
    if isinstance(value, Mapping):
        digest.update(b"{")
        for key in sorted(value, key=str):
            digest.update(str(key).encode() + b":")
            _feed(digest, value[key])
        digest.update(b"}")
    elif scipy.sparse.issparse(value):
        coo = value.tocoo()
        digest.update(f"sparse{coo.shape}{coo.dtype}".encode())
        for part in (coo.row, coo.col, coo.data):
            digest.update(np.ascontiguousarray(part).tobytes())
    elif isinstance(value, np.ndarray) and value.dtype != object:
        digest.update(f"dense{value.shape}{value.dtype}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, np.ndarray | list | tuple):
        digest.update(f"seq{len(value)}[".encode())
        for item in value:
            _feed(digest, item)
        digest.update(b"]")
    elif value is None or isinstance(value, bool | int | float | str | np.generic):
        digest.update(f"{type(value).__name__}={value!r};".encode())
    else:
        raise TypeError(f"cannot digest a {type(value).__name__} model input")


def input_digest(data: Any, batch_size: Any, output_keys: Any) -> bytes:
    digest = hashlib.blake2b(digest_size=20)
    _feed(digest, data)
    _feed(digest, (repr(batch_size), repr(output_keys)))
    return digest.digest()


class InferenceCache:
    """A thread-safe LRU map from (model, input digest) to model outputs."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.stats = Stats()
        self._entries: OrderedDict[tuple[int, bytes], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, bytes]) -> Any | None:
        with self._lock:
            outputs = self._entries.get(key)
            if outputs is None:
                self.stats.misses += 1
                return None
            self._entries.move_to_end(key)
            self.stats.hits += 1
        return copy.deepcopy(outputs)

    def get_or_compute(self, key: tuple[int, bytes], compute: Callable[[], Any]) -> Any:
        """The cached value for ``key``, or ``compute()``'s, which is then kept."""
        value = self.get(key)
        if value is None:
            value = compute()
            self.put(key, value)
        return value

    def put(self, key: tuple[int, bytes], outputs: Any) -> None:
        kept = copy.deepcopy(outputs)
        with self._lock:
            self._entries[key] = kept
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


_installed: InferenceCache | None = None
_parse_installed: InferenceCache | None = None
_CONTACT_LIKE = re.compile(r"@|(?:\d\D{0,3}){7}")
_tokens = itertools.count(1)


def _token_of(model: Any) -> int:
    """A number for this model object, never reused (unlike id()) if a model is
    replaced by another one."""
    token = getattr(model, "_inference_cache_token", None)
    if token is None:
        token = next(_tokens)
        model._inference_cache_token = token
    return int(token)


def _wrap(
    owner: type,
    name: str,
    cache: InferenceCache,
    key_of: Callable[..., tuple[int, bytes] | None],
) -> None:
    """Replace ``owner.name`` by a method that answers from ``cache`` under
    ``key_of(self, ...)``, or calls the original when the key is None."""
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def cached(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = key_of(self, *args, **kwargs)
        if key is None:
            return original(self, *args, **kwargs)
        return cache.get_or_compute(key, lambda: original(self, *args, **kwargs))

    setattr(owner, name, cached)


def install(size: int) -> InferenceCache | None:
    """Wrap `RasaModel.run_inference` with a cache of ``size`` entries (0: none).

    Call it once, before the model is loaded. Returns the cache (for its stats).
    """
    global _installed
    if size == 0:
        return None
    if _installed is not None:
        return _installed
    from rasa.utils.tensorflow.models import RasaModel

    cache = InferenceCache(size)

    def key_of(
        self: RasaModel,
        model_data: Any,
        batch_size: Any = 1,
        output_keys_expected: Any = None,
    ) -> tuple[int, bytes] | None:
        try:
            digest = input_digest(model_data.data, batch_size, output_keys_expected)
        except TypeError as error:  # an input kind this module does not know
            logger.debug("inference cache bypassed: %s", error)
            return None
        return (_token_of(self), digest)

    _wrap(RasaModel, "run_inference", cache, key_of)
    _installed = cache
    logger.info("TensorFlow inference cache on: %d entries", size)
    return cache


def cacheable_text(text: str | None) -> bool:
    """Whether a message text may be kept: not empty, not contact details."""
    return bool(text) and not _CONTACT_LIKE.search(text or "")


def install_parse_cache(size: int) -> InferenceCache | None:
    """Wrap the processor's NLU step with a cache of ``size`` texts (0: none)."""
    global _parse_installed
    if size == 0:
        return None
    if _parse_installed is not None:
        return _parse_installed
    from rasa.core.processor import MessageProcessor

    cache = InferenceCache(size)

    def key_of(
        self: MessageProcessor,
        message: Any,
        tracker: Any = None,
        only_output_properties: bool = True,
    ) -> tuple[int, bytes] | None:
        text = message.text
        if not cacheable_text(text):
            return None
        digest = hashlib.blake2b(
            f"{only_output_properties}\0{text}".encode(), digest_size=20
        ).digest()
        return (_token_of(self), digest)

    _wrap(MessageProcessor, "_parse_message_with_graph", cache, key_of)
    _parse_installed = cache
    logger.info("NLU parse cache on: %d texts", size)
    return cache
