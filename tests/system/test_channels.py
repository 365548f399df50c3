"""Messaging channels, offline: signed webhook calls as each platform sends them,
answered through a local fake of the platform's send API (tests/system/fake_platforms.py).

Forged or unsigned calls get 403 and send nothing. Buttons and the handoff degrade
where a platform cannot show them: numbered options on SMS, plain phone numbers.
A redelivered message is answered and stored once; the logs (at DEBUG) hold no
visitor's phone number, e-mail or name; Rasa's HTTP API is off, and refused open.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
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
from harness import ROOT, base_env, start, stop
from twilio.request_validator import RequestValidator

pytestmark = pytest.mark.system


def faq_start(topic: str) -> str:
    data = yaml.safe_load((ROOT / "data" / "responses" / "faq.yml").read_text())
    # the first line only: a list answer's items are on lines of their own
    first = str(data["responses"][f"utter_faq/{topic}"][0]["text"]).splitlines()[0]
    return " ".join(first.split()[:8])


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def stored_message_ids(stack: dict[str, Any], sender: str) -> list[str]:
    """The message ids of the conversation's stored user events (TRACKER_DB);
    ``sender`` is the conversation id, with its channel's prefix (identity.py)."""
    with sqlite3.connect(stack["tmp"] / "tracker.sqlite3") as conn:
        rows = conn.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'",
            (sender,),
        ).fetchall()
    return [json.loads(data).get("message_id") for (data,) in rows]


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
    return {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": TWILIO_SID, "From": sender,
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


UPDATE_IDS = itertools.count(1000)


def telegram_message(chat_id: int, text: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Visitor"}
    return {"update_id": next(UPDATE_IDS), "message": {"message_id": 1, "date": 1764000000, "from": user,
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
         "message": {"mid": "m-" + uuid.uuid4().hex, "text": text}}]}]}  # fmt: skip


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


def slack_post(stack: dict[str, Any], payload: dict[str, Any], secret: str | None = SLACK_SECRET, age: int = 0,
               retry: dict[str, str] | None = None) -> tuple[int, str]:  # fmt: skip
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()) - age)
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp}
    headers.update(retry or {})
    if secret is not None:
        digest = hmac.new(
            secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256
        )
        headers["X-Slack-Signature"] = "v0=" + digest.hexdigest()
    return post(f"{stack['rasa']}/webhooks/slack/webhook", body, headers)


def slack_dm(user: str, text: str) -> dict[str, Any]:
    return {"token": "t", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:10].upper(), "event_time": 1764000000, "authorizations": [{"user_id": "UBOT"}],
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


# ------------------------------------------------------------- redelivered messages


def test_a_redelivered_twilio_sms_is_answered_and_stored_once(
    stack: dict[str, Any]
) -> None:
    fake: FakePlatforms = stack["fake"]
    phone, form = "+13105550131", sms("+13105550131", "what is klonopin")
    mark = fake.mark()
    assert (
        twilio_post(stack, "/webhooks/twilio/webhook", TWILIO_SMS_URL, form)[0] == 204
    )
    first = fake.wait_for(mark, "/2010-04-01/")
    again = fake.mark()
    # Twilio's retry: the same signed request, the same MessageSid
    assert (
        twilio_post(stack, "/webhooks/twilio/webhook", TWILIO_SMS_URL, form)[0] == 204
    )
    time.sleep(1)
    assert fake.since(again, "/2010-04-01/") == []
    assert [c.fields["To"] for c in first] == [phone]
    assert stored_message_ids(stack, "sms:" + phone) == [form["MessageSid"]]


def test_a_redelivered_telegram_update_is_answered_and_stored_once(
    stack: dict[str, Any]
) -> None:
    fake: FakePlatforms = stack["fake"]
    update = telegram_message(4545, "what is klonopin")
    mark = fake.mark()
    assert telegram_post(stack, update)[0] == 200
    [answer] = fake.wait_for(mark, f"/bot{TELEGRAM_TOKEN}/sendMessage")
    assert answer.fields["text"].startswith(faq_start("what_is"))
    again = fake.mark()
    assert telegram_post(stack, update)[0] == 200
    time.sleep(1)
    assert fake.since(again, "/bot") == []
    assert stored_message_ids(stack, "telegram:4545") == [str(update["update_id"])]


def test_a_redelivered_messenger_message_is_answered_and_stored_once(
    stack: dict[str, Any]
) -> None:
    fake: FakePlatforms = stack["fake"]
    event = messenger_event("psid-dup", "what is klonopin")
    mark = fake.mark()
    assert messenger_post(stack, event)[0] == 200
    calls = fake.wait_for(mark, "/me/messages", count=3)  # typing, answer, typing
    assert [m["text"][:20] for m in sent_messages(calls) if "text" in m] == [
        faq_start("what_is")[:20]
    ]
    again = fake.mark()
    assert messenger_post(stack, event)[0] == 200
    time.sleep(1)
    # No message. A typing indicator may show: when the redelivery reaches the
    # other Rasa worker process (make run starts two), it is recognised by the
    # stored conversation, under the conversation lock, after the indicator.
    assert sent_messages(fake.since(again, "/me/messages")) == [], "no reply"
    mid = event["entry"][0]["messaging"][0]["message"]["mid"]
    assert stored_message_ids(stack, "messenger:psid-dup") == [mid]


def test_a_slack_retry_of_an_event_is_answered_once(stack: dict[str, Any]) -> None:
    fake: FakePlatforms = stack["fake"]
    event = slack_dm("U300", "what is klonopin")
    mark = fake.mark()
    assert slack_post(stack, event)[0] == 200
    # Slack's retry (a reason Rasa's own channel would have answered again)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert slack_post(stack, event, retry=retry)[0] == 200
    [reply] = fake.wait_for(mark, "/chat.postMessage")
    time.sleep(1)
    assert len(fake.since(mark, "/chat.postMessage")) == 1
    assert reply.fields["text"].startswith(faq_start("what_is"))
    assert stored_message_ids(stack, "slack:U300") == [event["event_id"]]


def rest_body(sender: str, message: str, message_id: Any) -> bytes:
    return json.dumps(
        {"sender": sender, "message": message, "message_id": message_id}
    ).encode()


def test_rest_a_repeated_message_id_is_answered_and_stored_once(
    stack: dict[str, Any]
) -> None:
    bot, sender = stack["bot"], "rest-dedupe"
    body = rest_body(sender, "what is klonopin", "client-msg-1")
    # a client's retry while the first is still being answered, then once more
    with ThreadPoolExecutor(2) as pool:
        both = list(pool.map(bot.post, [body, body]))
    assert sorted(status for status, _ in both) == [200, 200]
    replies = sorted((r for _, r in both), key=len)
    assert replies[0] == [] and replies[1], both
    assert replies[1][0]["text"].startswith(faq_start("what_is"))
    assert bot.post(body) == (200, [])
    assert stored_message_ids(stack, "rest:" + sender) == ["client-msg-1"]
    # another id in the same conversation is a new message
    status, more = bot.post(rest_body(sender, "what is klonopin", "client-msg-2"))
    assert status == 200 and more
    assert stored_message_ids(stack, "rest:" + sender) == [
        "client-msg-1",
        "client-msg-2",
    ]


@pytest.mark.parametrize("message_id", ["", "x" * 129, 42, ["a"]])
def test_rest_a_bad_message_id_is_refused(
    stack: dict[str, Any], message_id: Any
) -> None:
    status, reply = stack["bot"].post(rest_body("rest-bad-id", "hi", message_id))
    assert status == 400 and "message_id" in reply["error"]


# --------------------------------------------------------------------- logs and API


def test_logs_hold_no_phone_number_email_or_name(stack: dict[str, Any]) -> None:
    """At LOG_LEVEL=DEBUG Rasa logs every message, slot and event: after an SMS
    with an e-mail address and a callback request (and, before this test, the
    other channels' calls), none of it is in the logs."""
    fake: FakePlatforms = stack["fake"]
    mark = fake.mark()
    text = "please email me at jo.visitor@example.net about detox"
    twilio_post(stack, "/webhooks/twilio/webhook", TWILIO_SMS_URL, sms("+13105550177", text))  # fmt: skip
    fake.wait_for(mark, "/2010-04-01/")
    bot, sender = stack["bot"], "pii-callback"
    assert "name" in bot.say(sender, "can someone call me back")[0]["text"]
    assert "phone" in bot.say(sender, "my name is Zelda Quimby")[0]["text"].lower()
    assert "time" in bot.say(sender, "(213) 555-0166")[0]["text"].lower()
    assert (
        "May our admissions team call you"
        in bot.say(sender, "tuesdays around noonish")[0]["text"]
    )
    confirmation = " ".join(r.get("text", "") for r in bot.say(sender, "/affirm"))
    assert "Zelda Quimby" in confirmation and "noonish" in confirmation
    time.sleep(1)
    logs = sorted(stack["logs"].glob("*.log")) + [stack["tmp"] / "run.log"]
    logged = "\n".join(path.read_text(errors="replace") for path in logs)
    assert "processor.message.parse" in logged, "DEBUG: Rasa logged the messages"
    secrets = ["5550177", "555-0177", "jo.visitor", "example.net", "Zelda",
               "Quimby", "5550166", "555-0166", "noonish"]  # fmt: skip
    assert [s for s in secrets if s in logged] == []
    credentials = [TWILIO_TOKEN, TELEGRAM_TOKEN, TELEGRAM_SECRET, FB_SECRET, "fb-page-token",
                   "xoxb-test-token", SLACK_SECRET, stack["env"]["ACTION_SERVER_TOKEN"]]  # fmt: skip
    assert [c for c in credentials if c in logged] == [], "nor a credential"
    for mask in ("[phone]", "[email]", "[name]", "[callback answer]"):
        assert mask in logged, mask


def test_the_http_api_is_off(stack: dict[str, Any]) -> None:
    for path in ("/conversations/pii-callback/tracker", "/status", "/version"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(stack["rasa"] + path, timeout=30)
        assert refused.value.code == 404, path


def test_an_open_http_api_is_refused_and_a_guarded_one_wants_the_token(
    tmp_path: Path,
) -> None:
    env = base_env(tmp_path)
    env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{env['ACTION_PORT']}/webhook"
    env.pop("RASA_API_TOKEN", None)
    port, token = env["RASA_PORT"], "system-test-api-token-1234"
    cmd = [str(ROOT / ".venv/bin/python"), "-m", "rasa_server", "run",
           "--enable-api", "--model", str(tmp_path), "--port", port,
           "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"]  # fmt: skip
    refused = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 2 and "RASA_API_TOKEN" in refused.stderr
    # with a token (and no model: the API's answers past the token check are 409)
    env["RASA_API_TOKEN"] = token
    log = tmp_path / "api.log"
    proc = start(env, cmd, "Rasa server is up and running", log)
    try:
        url = f"http://127.0.0.1:{port}/conversations/x/tracker"
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            urllib.request.urlopen(url, timeout=30)
        assert anonymous.value.code == 401
        with pytest.raises(urllib.error.HTTPError) as with_token:
            urllib.request.urlopen(f"{url}?token={token}", timeout=30)
        assert with_token.value.code == 409, "past the token check: no model"
    finally:
        stop(proc)
    assert token not in log.read_text()
