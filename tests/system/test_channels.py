"""Messaging channels, offline: signed webhook calls as each platform sends them,
answered through a local fake of the platform's send API (tests/system/fake_platforms.py).

Forged or unsigned calls get 403 and send nothing. Buttons and the handoff degrade
where a platform cannot show them: numbered options on SMS, plain phone numbers.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
import yaml
from conftest import (
    FB_SECRET,
    SLACK_SECRET,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_SID,
    TWILIO_SMS_URL,
    TWILIO_TOKEN,
    TWILIO_WA_URL,
    VISITOR_PHONE,
)
from fake_platforms import FakePlatforms
from harness import ROOT
from twilio.request_validator import RequestValidator

pytestmark = pytest.mark.system


def faq_start(topic: str) -> str:
    data = yaml.safe_load((ROOT / "data" / "responses" / "faq.yml").read_text())
    return " ".join(str(data["responses"][f"utter_faq/{topic}"][0]["text"]).split()[:8])


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# --------------------------------------------------------------------------- Twilio


def twilio_post(stack: dict[str, Any], path: str, public_url: str, form: dict[str, str],
                signature: str | None = "valid") -> tuple[int, str]:  # fmt: skip
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "valid":
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(public_url, form)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    body = urllib.parse.urlencode(form).encode()
    return post(f"{stack['rasa']}{path}", body, headers)


def sms(sender: str, text: str) -> dict[str, str]:
    return {"MessageSid": "SM" + "2" * 32, "AccountSid": TWILIO_SID, "From": sender,
            "To": "+12135550100", "Body": text, "NumMedia": "0"}  # fmt: skip


def test_twilio_sms_buttons_become_numbers_and_a_number_picks_one(
    stack: dict[str, Any]
) -> None:
    fake: FakePlatforms = stack["fake"]
    mark = fake.mark()
    status, _ = twilio_post(
        stack, "/webhooks/twilio/webhook", TWILIO_SMS_URL, sms(VISITOR_PHONE, "hi")
    )
    assert status == 204
    [welcome] = fake.wait_for(mark, f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json")
    body = welcome.fields["Body"]
    assert (
        welcome.fields["To"] == VISITOR_PHONE
        and welcome.fields["From"] == "+12135550100"
    )
    assert "automated assistant" in body
    assert "Reply with a number:" in body and "2. Withdrawal symptoms" in body
    assert "/open_faq" not in body, "payloads are never shown to the visitor"

    mark = fake.mark()
    status, _ = twilio_post(
        stack, "/webhooks/twilio/webhook", TWILIO_SMS_URL, sms(VISITOR_PHONE, "2")
    )
    assert status == 204
    answer = fake.wait_for(mark, "/2010-04-01/")[0].fields["Body"]
    assert answer.startswith(faq_start("withdrawal"))


def test_twilio_sms_emergency_gives_plain_phone_numbers(stack: dict[str, Any]) -> None:
    fake: FakePlatforms = stack["fake"]
    mark = fake.mark()
    text = "my friend took a bunch of klonopin with vodka and wont wake up"
    status, _ = twilio_post(
        stack, "/webhooks/twilio/webhook", TWILIO_SMS_URL, sms("+13105550124", text)
    )
    assert status == 204
    bodies = [c.fields["Body"] for c in fake.wait_for(mark, "/2010-04-01/", count=2)]
    joined = "\n".join(bodies)
    assert "911" in bodies[0] and "1-800-222-1222" in joined
    assert (
        "+12135550142" in joined or "555-0142" in joined
    ), "admissions number in plain text"
    assert "](tel:" not in joined and "{" not in joined, "no markdown or JSON on SMS"


def test_twilio_whatsapp_answers_from_the_whatsapp_number(
    stack: dict[str, Any]
) -> None:
    fake: FakePlatforms = stack["fake"]
    mark = fake.mark()
    form = sms("whatsapp:" + VISITOR_PHONE, "what is klonopin")
    form["To"] = "whatsapp:+12135550101"
    status, _ = twilio_post(
        stack, "/webhooks/twilio_whatsapp/webhook", TWILIO_WA_URL, form
    )
    assert status == 204
    [reply] = fake.wait_for(mark, "/2010-04-01/")
    assert reply.fields["From"] == "whatsapp:+12135550101"
    assert reply.fields["To"] == "whatsapp:" + VISITOR_PHONE
    assert reply.fields["Body"].startswith(faq_start("what_is"))


@pytest.mark.parametrize(
    "path, public_url, signature",
    [
        ("/webhooks/twilio/webhook", TWILIO_SMS_URL, None),
        ("/webhooks/twilio/webhook", TWILIO_SMS_URL, "bm90IGEgc2lnbmF0dXJl"),
        # signed for another URL (a replay against the other number's webhook)
        ("/webhooks/twilio_whatsapp/webhook", TWILIO_SMS_URL, "valid"),
    ],
)
def test_twilio_refuses_unsigned_and_forged_calls(
    stack: dict[str, Any], path: str, public_url: str, signature: str | None
) -> None:
    fake: FakePlatforms = stack["fake"]
    mark = fake.mark()
    status, body = twilio_post(
        stack, path, public_url, sms(VISITOR_PHONE, "hi"), signature
    )
    assert status == 403 and "Signature" in body
    time.sleep(1)
    assert fake.since(mark, "/2010-04-01/") == []


# --------------------------------------------------------------------------- Telegram


def telegram_post(stack: dict[str, Any], update: dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> tuple[int, str]:  # fmt: skip
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return post(
        f"{stack['rasa']}/webhooks/telegram/webhook",
        json.dumps(update).encode(),
        headers,
    )


def telegram_message(chat_id: int, text: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Visitor"}
    return {"update_id": chat_id * 10, "message": {"message_id": 1, "date": 1764000000, "from": user,
            "chat": {"id": chat_id, "type": "private", "first_name": "Visitor"}, "text": text}}  # fmt: skip


def test_telegram_answers_with_buttons_and_a_button_press_opens_its_answer(
    stack: dict[str, Any]
) -> None:
    fake: FakePlatforms = stack["fake"]
    mark = fake.mark()
    status, _ = telegram_post(stack, telegram_message(4242, "/start"))
    assert status == 200
    [welcome] = fake.wait_for(mark, f"/bot{TELEGRAM_TOKEN}/sendMessage")
    assert welcome.fields["chat_id"] == "4242"
    assert "automated assistant" in welcome.fields["text"]
    keyboard = json.loads(welcome.fields["reply_markup"])["inline_keyboard"]
    payloads = [row[0]["callback_data"] for row in keyboard]
    assert '/open_faq{"faq_topic": "withdrawal"}' in payloads

    mark = fake.mark()
    press = {"update_id": 42421, "callback_query": {
        "id": "cb-1", "chat_instance": "ci", "data": '/open_faq{"faq_topic": "withdrawal"}',
        "from": {"id": 4242, "is_bot": False, "first_name": "Visitor"},
        "message": {"message_id": 2, "date": 1764000001,
                    "chat": {"id": 4242, "type": "private"}}}}  # fmt: skip
    status, _ = telegram_post(stack, press)
    assert status == 200
    answer = fake.wait_for(mark, f"/bot{TELEGRAM_TOKEN}/sendMessage")[0]
    assert answer.fields["text"].startswith(faq_start("withdrawal"))


def test_telegram_crisis_gets_988_in_plain_text(stack: dict[str, Any]) -> None:
    fake: FakePlatforms = stack["fake"]
    mark = fake.mark()
    status, _ = telegram_post(stack, telegram_message(4343, "i want to kill myself"))
    assert status == 200
    texts = [
        c.fields["text"] for c in fake.wait_for(mark, f"/bot{TELEGRAM_TOKEN}/", count=2)
    ]
    assert "988" in texts[0]
    assert not any("](tel:" in t or '"handoff"' in t for t in texts)


@pytest.mark.parametrize("secret", [None, "wrong-secret", TELEGRAM_SECRET + "x"])
def test_telegram_refuses_calls_without_the_secret_token(
    stack: dict[str, Any], secret: str | None
) -> None:
    fake: FakePlatforms = stack["fake"]
    mark = fake.mark()
    status, _ = telegram_post(stack, telegram_message(4444, "hi"), secret)
    assert status == 403
    time.sleep(1)
    assert fake.since(mark, "/bot") == []


# --------------------------------------------------------------------------- Messenger


def messenger_post(stack: dict[str, Any], payload: dict[str, Any], secret: str | None = FB_SECRET) -> tuple[int, str]:  # fmt: skip
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
    return post(f"{stack['rasa']}/webhooks/facebook/webhook", body, headers)


def messenger_event(psid: str, text: str) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": "PAGE1", "time": 1764000000000, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": "PAGE1"}, "timestamp": 1764000000000,
         "message": {"mid": "m-1", "text": text}}]}]}  # fmt: skip


def sent_messages(calls: list[Any]) -> list[dict[str, Any]]:
    return [c.fields["message"] for c in calls if "message" in c.fields]


def test_messenger_quick_replies_and_a_call_button_template(
    stack: dict[str, Any]
) -> None:
    fake: FakePlatforms = stack["fake"]
    mark = fake.mark()
    assert messenger_post(stack, messenger_event("psid-1", "hello"))[0] == 200
    calls = fake.wait_for(
        mark, "/me/messages", count=3
    )  # typing_on, welcome, typing_off
    [welcome] = [m for m in sent_messages(calls) if "text" in m]
    assert calls[0].query.get("access_token") == "fb-page-token"
    assert "automated assistant" in welcome["text"]
    assert len(welcome["quick_replies"]) == 5, "more than 3 buttons: quick replies"

    mark = fake.mark()
    text = "my friend took a bunch of klonopin with vodka and wont wake up"
    assert messenger_post(stack, messenger_event("psid-2", text))[0] == 200
    messages = sent_messages(fake.wait_for(mark, "/me/messages", count=5))
    templates = [m["attachment"]["payload"] for m in messages if "attachment" in m]
    assert templates, messages
    buttons = templates[0]["buttons"]
    assert {"type": "phone_number", "title": "Call 911", "payload": "911"} in buttons
    assert all(b["type"] == "phone_number" for b in buttons) and len(buttons) <= 3


def test_messenger_verification_and_forged_calls(stack: dict[str, Any]) -> None:
    base = f"{stack['rasa']}/webhooks/facebook/webhook"
    ok = urllib.request.urlopen(
        f"{base}?hub.mode=subscribe&hub.verify_token=fb-verify-me&hub.challenge=c123",
        timeout=30,
    )
    assert ok.read().decode() == "c123"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(
            f"{base}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=c",
            timeout=30,
        )
    assert refused.value.code == 403
    fake: FakePlatforms = stack["fake"]
    mark = fake.mark()
    assert messenger_post(stack, messenger_event("psid-3", "hi"), secret=None)[0] == 403
    assert (
        messenger_post(stack, messenger_event("psid-3", "hi"), secret="wrong")[0] == 403
    )
    time.sleep(1)
    assert fake.since(mark, "/me/messages") == []


# --------------------------------------------------------------------------- Slack


def slack_post(stack: dict[str, Any], payload: dict[str, Any], secret: str | None = SLACK_SECRET, age: int = 0) -> tuple[int, str]:  # fmt: skip
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()) - age)
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp}
    if secret is not None:
        digest = hmac.new(
            secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256
        )
        headers["X-Slack-Signature"] = "v0=" + digest.hexdigest()
    return post(f"{stack['rasa']}/webhooks/slack/webhook", body, headers)


def slack_dm(user: str, text: str) -> dict[str, Any]:
    return {"token": "t", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": "Ev1", "event_time": 1764000000, "authorizations": [{"user_id": "UBOT"}],
            "event": {"type": "message", "channel": "D" + user, "channel_type": "im",
                      "user": user, "text": text, "ts": "1764000000.000100"}}  # fmt: skip


def test_slack_direct_message_is_answered(stack: dict[str, Any]) -> None:
    fake: FakePlatforms = stack["fake"]
    mark = fake.mark()
    assert (
        slack_post(stack, slack_dm("U100", "can i detox from klonopin at home"))[0]
        == 200
    )
    [reply] = fake.wait_for(mark, "/chat.postMessage")
    assert reply.fields["channel"] == "DU100"
    assert reply.fields["text"].startswith(faq_start("home_detox"))
    actions = [b for b in reply.fields.get("blocks", []) if b["type"] == "actions"]
    assert (
        actions and actions[0]["elements"]
    ), "FAQ answers keep their follow-up buttons"


@pytest.mark.parametrize("secret, age", [(None, 0), ("wrong", 0), (SLACK_SECRET, 600)])
def test_slack_refuses_forged_or_replayed_calls(
    stack: dict[str, Any], secret: str | None, age: int
) -> None:
    fake: FakePlatforms = stack["fake"]
    mark = fake.mark()
    assert slack_post(stack, slack_dm("U200", "hi"), secret, age)[0] == 403
    time.sleep(1)
    assert fake.since(mark, "/chat.postMessage") == []
