"""The one reader of what the ResponseSelector chose, in a message's parse data.

Rasa puts the ``faq`` retrieval intent's choice under
``response_selector.faq.response`` (the topic ``faq/<topic>`` and its
confidence) and ``response_selector.faq.ranking``. The NLU components
(``rasa_server.nlu``), the actions and the tools all read it here, from a parse
dict or from a Rasa ``Message`` (both have ``get``).
"""

from __future__ import annotations

from typing import Any, Protocol

FAQ_INTENT = "faq"


class Gets(Protocol):
    """A parse dict or a Rasa NLU ``Message``: anything with ``get(key)``."""

    def get(self, key: str, /) -> Any:
        """The value under ``key``, or None."""


def _selector(parse: Gets) -> dict[str, Any]:
    return (parse.get("response_selector") or {}).get(FAQ_INTENT) or {}


def selected_topic(parse: Gets) -> tuple[str | None, float]:
    """The chosen ``faq/<topic>`` and its confidence; (None, 0.0) when none."""
    response = _selector(parse).get("response") or {}
    key = response.get("intent_response_key")
    return (str(key) if key else None), float(response.get("confidence") or 0.0)


def topic_ranking(parse: Gets) -> list[tuple[str, float]]:
    """Every ranked ``faq/<topic>`` with its confidence, in the selector's order."""
    return [
        (str(item["intent_response_key"]), float(item.get("confidence") or 0.0))
        for item in _selector(parse).get("ranking") or []
        if item.get("intent_response_key")
    ]


def chosen(parse: Gets, behind_fallback: bool = False) -> tuple[str, float]:
    """What the assistant picked: the intent, or its ``faq/<topic>``, and a confidence.

    For a FAQ question the confidence is the lower of the intent's and the topic's.
    With ``behind_fallback``, an ``nlu_fallback`` is looked behind: the runner-up
    intent (and its topic) is what the assistant would have chosen, at no more
    than the fallback's confidence. Staff tools report this as the "guess".
    """
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "")
    confidence = float(intent.get("confidence") or 0.0)
    if behind_fallback and name == "nlu_fallback":
        others = [r for r in parse.get("intent_ranking") or [] if r.get("name") != name]
        if others:
            name = str(others[0]["name"])
            confidence = min(
                float(others[0].get("confidence") or 0.0), confidence or 1.0
            )
    if name == FAQ_INTENT:
        key, topic_confidence = selected_topic(parse)
        if key:
            return key, min(confidence, topic_confidence)
    return name, confidence
