"""System tests for conversations over several turns (issue 13), on the real
servers (deploy/run.sh): the callback form with the issue's answers and its
interruptions, follow-ups and repair. The trained model and the real action
server decide; nothing is stubbed.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from harness import ROOT

pytestmark = pytest.mark.system


def faq_text(topic: str) -> str:
    data = yaml.safe_load((ROOT / "data" / "responses" / "faq.yml").read_text())
    return str(data["responses"][f"utter_faq/{topic}"][0]["text"])


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r["text"] for r in replies if "text" in r)


def test_the_form_reads_the_issue_answers(stack: dict[str, Any]) -> None:
    bot = stack["bot"]
    assert "What name" in texts(
        bot.say("c-form", "can someone from admissions call me back")
    )
    reply = texts(bot.say("c-form", "Zebulon Quartermaine"))
    assert "phone number" in reply and "GABA" not in reply
    assert "best time" in texts(bot.say("c-form", "(213) 555-0199"))
    reply = texts(bot.say("c-form", "after 6pm on weekdays please"))
    assert "911" not in reply.split("If someone")[0] and "Here's what I have" in reply
    assert "Zebulon Quartermaine" in reply and "after 6pm on weekdays please" in reply
    reply = texts(bot.say("c-form", "no, my number is 310 555 0123"))
    assert "(310) 555-0123" in reply and "May our admissions team call you" in reply
    reply = texts(bot.say("c-form", "yes"))
    assert "We've received your callback request" in reply
    assert "(310) 555-0123" in reply


def test_initials_and_a_question_in_the_middle(stack: dict[str, Any]) -> None:
    bot = stack["bot"]
    bot.say("c-q", "call me back please")
    assert "phone number" in texts(bot.say("c-q", "J. Okonkwo-Reyes"))
    reply = texts(bot.say("c-q", "is klonopin addictive?"))
    assert faq_text("is_addictive") in reply
    assert "phone number" in reply  # the form asks again
    assert "best time" in texts(bot.say("c-q", "213.555.0199"))


def test_a_crisis_in_the_middle_goes_to_988(stack: dict[str, Any]) -> None:
    bot = stack["bot"]
    bot.say("c-crisis", "call me back please")
    bot.say("c-crisis", "Hope")
    reply = texts(bot.say("c-crisis", "honestly i just want to die"))
    assert "988" in reply


def test_stop_in_the_middle(stack: dict[str, Any]) -> None:
    bot = stack["bot"]
    bot.say("c-stop", "call me back please")
    bot.say("c-stop", "Will")
    reply = texts(bot.say("c-stop", "cancel"))
    assert "cancelled the callback request" in reply


def test_a_follow_up_and_a_repair(stack: dict[str, Any]) -> None:
    bot = stack["bot"]
    bot.say("c-follow", "what are the side effects of klonopin")
    assert faq_text("long_term") in texts(bot.say("c-follow", "and long term?"))
    bot.say("c-repair", "what is clonazepam")
    replies = bot.say("c-repair", "no, that's not what I asked")
    assert texts(replies).startswith("Sorry")
    assert replies[0]["buttons"][-1]["payload"] == "/admissions"
