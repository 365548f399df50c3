"""A Flesch-Kincaid reading grade, for the answers' plain-language check.

Written here (a few lines) rather than taken from a package. Drug names are long
but familiar to every visitor of this bot: each counts as 3 syllables so that it
does not dominate the grade.
"""

from __future__ import annotations

import re

MEDICAL_NAMES = {
    "clonazepam",
    "klonopin",
    "benzodiazepine",
    "benzodiazepines",
    "benzo",
    "benzos",
}
WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['\u2019\-][A-Za-z0-9]+)*")


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def count_syllables(word: str) -> int:
    w = word.lower().replace("\u2019", "'")
    if w in MEDICAL_NAMES:
        return 3
    if any(ch.isdigit() for ch in w):
        return 2  # numbers such as 911 or a phone number: a fair flat cost
    w = re.sub(r"[^a-z]", "", w)
    if not w:
        return 0
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$", "", w) or w
    w = re.sub(r"^y", "", w)
    return max(1, len(re.findall(r"[aeiouy]{1,2}", w)))


def sentences(text: str) -> list[str]:
    """Sentences end at . ! ? : or a line break (bullet items count as sentences)."""
    parts = re.split(r"[.!?:]+(?=\s|$)|\n+", text)
    return [p for p in parts if words(p)]


def fk_grade(text: str) -> float:
    """The Flesch-Kincaid grade level of ``text`` (0.0 for a text without words)."""
    ws = words(text)
    if not ws:
        return 0.0
    n_sent = max(1, len(sentences(text)))
    n_syll = sum(count_syllables(w) for w in ws)
    return 0.39 * (len(ws) / n_sent) + 11.8 * (n_syll / len(ws)) - 15.59
