"""Only the bot's own button payloads may act as payloads.

Rasa treats any message that starts with "/" as an intent, with entities that
set slots: a visitor who types ``/callback_form{"callback_phone": "..."}`` or
``/emergency`` would skip the classifier. Every channel passes the visitor's text
through ``guard``: a payload that some button of the bot offers (the answers'
buttons, the actions' buttons, the widget's opening "/greet") goes through as
is; anything else that starts with "/" loses its slashes and is read as text.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD_RE = re.compile(r"^/([A-Za-z0-9_]+)(\{.*\})?$", re.S)
ALWAYS = ("/greet",)  # the widget's and Telegram's opening message


def payload_key(text: str) -> str | None:
    """'/intent{"a": 1}' -> a canonical form (entities JSON re-dumped); None if not a payload."""
    match = PAYLOAD_RE.match(text.strip())
    if not match:
        return None
    intent, entities = match.group(1), match.group(2)
    if not entities:
        return f"/{intent}"
    try:
        parsed = json.loads(entities)
    except ValueError:
        return None
    return f"/{intent}{json.dumps(parsed, sort_keys=True)}"


def _response_payloads(path: Path) -> set[str]:
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: set[str] = set()
    for variants in (data.get("responses") or {}).values():
        for variant in variants or []:
            for button in variant.get("buttons") or []:
                payload = str(button.get("payload") or "")
                try:
                    found.add(
                        payload.format()
                    )  # braces are doubled for Rasa's slot filling
                except (KeyError, IndexError, ValueError):
                    found.add(payload)
    return found


@lru_cache(maxsize=1)
def allowed_payloads() -> frozenset[str]:
    from actions.faq import INTENT_BUTTONS, TALK_TO_A_PERSON, faq_payload, topic_titles
    from actions.handoff import CALLBACK_BUTTONS

    payloads = set(ALWAYS)
    for path in [
        ROOT / "domain.yml",
        *sorted((ROOT / "data" / "responses").glob("*.yml")),
    ]:
        payloads |= _response_payloads(path)
    payloads |= {faq_payload(topic) for topic in topic_titles()}  # "Did you mean ...?"
    payloads |= {payload for _, payload in INTENT_BUTTONS.values()}
    payloads |= {button["payload"] for button in CALLBACK_BUTTONS}
    payloads.add(TALK_TO_A_PERSON["payload"])
    return frozenset(key for key in map(payload_key, payloads) if key)


def guard(text: str) -> str:
    """The text Rasa should see for what the visitor sent."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    key = payload_key(stripped)
    if key is not None and key in allowed_payloads():
        return stripped
    return stripped.lstrip("/").strip() or "?"
