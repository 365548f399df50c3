"""The staff Slack alert carries what a visitor typed as plain characters
(issue 14): no channel-wide mention, no disguised link."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from actions.config import get_settings
from actions.handoff import callback_notifications
from actions.store import Callback, Handoff


def test_the_free_text_time_cannot_mention_everyone_or_hide_a_link(
    isolated_config: pytest.MonkeyPatch,
) -> None:
    isolated_config.setenv("NOTIFY_WEBHOOK_URL", "https://hooks.example.com/x")
    typed = "<!channel> urgent, see <https://evil.example/x|the chart> & <@U123>"
    handoff = Handoff(
        "ABC123", datetime.now(timezone.utc), "admissions", "rest:v",
        Callback(name="Jane <!here>", phone="+12135550142", time=typed, consent=True),
    )  # fmt: skip
    [alert] = callback_notifications(get_settings(), handoff)
    section = alert.payload["blocks"][1]["text"]
    for text in (alert.payload["text"], section["text"]):
        assert "<!channel>" not in text and "<!here>" not in text
        assert "<https://" not in text and "<@U123>" not in text
        assert "&lt;!channel&gt;" in text and "&amp;" in text
    assert section["verbatim"] is True  # bare URLs are not linked either
