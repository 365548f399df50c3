"""Text normalisation and sentence context for the safety net.

A message is capped, folded (case, accents, apostrophes, "o.d." -> "od"), split
into sentences, and each sentence gets the context flags that the rules' gates
need (question, personal, acute, recent, distant past, chronic, hypothetical).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rasa_server.safety_net.vocabulary import (
    ACUTE,
    ACUTE_RE,
    ALWAYS,
    CHRONIC_RE,
    DISTANT_PAST_RE,
    GENERIC_INFO_RE,
    HYPOTHETICAL_RE,
    HYPOTHETICAL_START_RE,
    LEADING_FILLER_RE,
    MAX_CHARS,
    PERSONAL,
    PERSONAL_RE,
    PRESENT_STATE_RE,
    QUESTION_FILLER_RE,
    QUESTION_START_RE,
    RECENT_RE,
    STATEMENT,
)

# --------------------------------------------------------------------------------------
# Text normalisation and sentence context
# --------------------------------------------------------------------------------------

_APOSTROPHES_RE = re.compile(r"['’‘`´ʼʻ′]")
_OD_DOTTED_RE = re.compile(r"\bo\s?\.\s?d\b\.?")
_OD_SUFFIX_D_RE = re.compile(r"\bod['’\-]d\b")
_OD_SUFFIX_ED_RE = re.compile(r"\bod['’\-\s]?ed\b")
_OD_SUFFIX_ING_RE = re.compile(r"\bod(?:['’\-\s]?ing|['’\-]in)\b")
_SENTENCE_SPLIT_RE = re.compile(r"(?:[!?;\n\r]|(?<!\d)\.|\.(?!\d))+")
_NON_WORD_RE = re.compile(r"[^a-z0-9.\s]+")
_STRAY_DOT_RE = re.compile(r"(?<!\d)\.|\.(?!\d)")
_STRETCHED_RE = re.compile(r"([a-z])\1{2,}")
_SPACES_RE = re.compile(r"\s+")


def _fold(text: str) -> str:
    """Casefold, strip accents/format characters and unify apostrophe forms."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Mn", "Cf"))
    text = _OD_DOTTED_RE.sub(" od ", text)
    text = _OD_SUFFIX_D_RE.sub("oded", text)
    text = _OD_SUFFIX_ED_RE.sub("oded", text)
    text = _OD_SUFFIX_ING_RE.sub("oding", text)
    return _APOSTROPHES_RE.sub("", text)


def normalize(text: str) -> str:
    """Normalise one sentence: letters, digits and single spaces only."""
    text = text.replace("&", " and ").replace("+", " and ")
    text = re.sub(r"\bw/o\b", " without ", text)
    text = re.sub(r"\bw/", " with ", text)
    text = _NON_WORD_RE.sub(" ", text)
    text = _STRAY_DOT_RE.sub(" ", text)
    text = _STRETCHED_RE.sub(r"\1", text)
    return _SPACES_RE.sub(" ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Cap, fold and split a message into normalised, non-empty sentences."""
    folded = _fold(text[:MAX_CHARS])
    sentences = (normalize(part) for part in _SENTENCE_SPLIT_RE.split(folded))
    return [s for s in sentences if s]


@dataclass(frozen=True)
class Sentence:
    """One normalised sentence and the context flags the rules' gates need."""

    text: str
    is_question: bool
    personal: bool
    acute: bool
    recent: bool
    distant_past: bool
    chronic: bool
    hypothetical: bool

    @classmethod
    def from_text(cls, text: str) -> Sentence:
        """Compute the context of a normalised sentence."""
        core = LEADING_FILLER_RE.sub("", text)
        asks = bool(QUESTION_FILLER_RE.search(core))
        core = QUESTION_FILLER_RE.sub("", core).strip()
        core = LEADING_FILLER_RE.sub("", core)
        core = re.sub(r"^(?:if|whether)\s+", "", core) if asks else core
        is_question = (
            asks
            or bool(QUESTION_START_RE.search(core))
            or bool(GENERIC_INFO_RE.search(core))
        )
        present = bool(PRESENT_STATE_RE.search(core))
        hypothetical = (
            not present
            and not ACUTE_RE.search(text)
            and (
                bool(HYPOTHETICAL_START_RE.search(core))
                or bool(HYPOTHETICAL_RE.search(core))
            )
        )
        return cls(
            text=text,
            is_question=is_question,
            personal=bool(PERSONAL_RE.search(core)),
            acute=bool(ACUTE_RE.search(text)),
            recent=bool(RECENT_RE.search(text)),
            distant_past=bool(DISTANT_PAST_RE.search(text)),
            chronic=bool(CHRONIC_RE.search(text)),
            hypothetical=hypothetical,
        )

    @property
    def generic_question(self) -> bool:
        """A question about people in general ("can you overdose on klonopin")."""
        return self.is_question and not self.personal

    def passes(self, gate: str) -> bool:
        """Whether this sentence gives a rule with ``gate`` enough context."""
        if gate == ALWAYS:
            return True
        if self.generic_question or self.hypothetical:
            return False
        if gate == STATEMENT:
            return True
        if gate == PERSONAL:
            return self.personal
        if gate == ACUTE:
            return self.acute
        return self.personal and self.acute  # PERSONAL_ACUTE
