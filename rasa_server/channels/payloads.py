"""Only the bot's own button payloads may act as payloads.

Rasa treats any message that starts with "/" as an intent, with entities that
set slots: a visitor who types ``/callback_form{"callback_phone": "..."}`` or
``/emergency`` would skip the classifier. Every channel passes the visitor's text
through ``guard``: a payload that some button of the bot offers (the answers'
buttons, the actions' buttons, the widget's opening "/greet") goes through as
is; anything else that starts with "/" loses its slashes and is read as text.
"""

from __future__ import annotations

from common.buttons import allowed_payloads, payload_key

__all__ = ["allowed_payloads", "guard", "payload_key"]


def guard(text: str) -> str:
    """The text Rasa should see for what the visitor sent."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    key = payload_key(stripped)
    if key is not None and key in allowed_payloads():
        return stripped
    return stripped.lstrip("/").strip() or "?"
