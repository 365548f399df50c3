"""The bot's buttons and their payloads, which both servers need.

The action server offers them ("Did you mean ...?", the handoff replies, the
callback offer); the Rasa server's channels let exactly these payloads through
as payloads (``rasa_server/channels/payloads.py``). Topic titles live with each
topic in knowledge/grounding.yml (``topics.<topic>.title``), where staff add a
topic.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from common import paths

#: Non-FAQ intents worth offering as a guess, with their button.
INTENT_BUTTONS: dict[str, tuple[str, str]] = {
    "admissions": ("Talk to admissions", "/admissions"),
    "request_callback": ("Ask for a callback", "/request_callback"),
    "help": ("What can I ask?", "/help"),
}

TALK_TO_A_PERSON = {"title": "Talk to a person", "payload": "/admissions"}

#: Under "Did you mean ...?": none of the guesses; leads to the honest reply.
SOMETHING_ELSE = {"title": "Something else", "payload": "/something_else"}

CALLBACK_BUTTONS: list[dict[str, str]] = [
    {"title": "Yes, call me back", "payload": "/request_callback"},
    {"title": "No thanks", "payload": "/deny"},
]

#: Payloads no response lists: the widget's and Telegram's opening message.
ALWAYS = ("/greet",)

PAYLOAD_RE = re.compile(r"^/([A-Za-z0-9_]+)(\{.*\})?$", re.S)


def faq_payload(topic: str) -> str:
    return f'/open_faq{{"faq_topic": "{topic}"}}'


@lru_cache(maxsize=1)
def topic_titles(grounding: Path = paths.GROUNDING) -> dict[str, str]:
    """{topic: button title}, read once from knowledge/grounding.yml."""
    data = yaml.safe_load(grounding.read_text(encoding="utf-8")) or {}
    return {
        str(topic): str(spec["title"])
        for topic, spec in (data.get("topics") or {}).items()
        if isinstance(spec, dict) and spec.get("title")
    }


def payload_key(text: str) -> str | None:
    """'/intent{"a": 1}' -> a canonical form (entities JSON re-dumped); None if
    not a payload."""
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
                    # braces are doubled for Rasa's slot filling
                    found.add(payload.format())
                except (KeyError, IndexError, ValueError):
                    found.add(payload)
    return found


@lru_cache(maxsize=1)
def allowed_payloads() -> frozenset[str]:
    """Every payload some button of the bot offers, in :func:`payload_key` form."""
    payloads = set(ALWAYS)
    for path in [paths.DOMAIN, *sorted(paths.RESPONSES.glob("*.yml"))]:
        payloads |= _response_payloads(path)
    payloads |= {faq_payload(topic) for topic in topic_titles()}  # "Did you mean"
    payloads |= {payload for _, payload in INTENT_BUTTONS.values()}
    payloads |= {button["payload"] for button in CALLBACK_BUTTONS}
    payloads.add(TALK_TO_A_PERSON["payload"])
    payloads.add(SOMETHING_ELSE["payload"])
    return frozenset(key for key in map(payload_key, payloads) if key)
