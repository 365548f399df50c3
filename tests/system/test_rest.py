"""System tests: the real servers, started by deploy/run.sh exactly as `make run` does.

They need the trained model (`make system` / `make test` train it first).
"""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import (
    REST_TOKEN,
    ROOT,
    Bot,
    base_env,
    free_port,
    model_path,
    port_open,
    start,
)

pytestmark = pytest.mark.system


@pytest.fixture
def servers(stack: dict[str, Any]) -> dict[str, Any]:
    return stack


def faq_text(topic: str) -> str:
    data = yaml.safe_load((ROOT / "data" / "responses" / "faq.yml").read_text())
    return str(data["responses"][f"utter_faq/{topic}"][0]["text"])


def texts(replies: list[dict[str, Any]]) -> list[str]:
    return [r["text"] for r in replies if "text" in r]


def handoff(replies: list[dict[str, Any]]) -> dict[str, Any] | None:
    for r in replies:
        custom = r.get("custom") or {}
        if "handoff" in custom:
            return dict(custom["handoff"])
    return None


def test_home_detox_question_from_the_issue(servers: dict[str, Any]) -> None:
    replies = servers["bot"].say("s-home", "can i detox from klonopin at home")
    assert texts(replies)[0] == faq_text("home_detox")
    assert replies[0].get("buttons"), "FAQ answers offer a next step"


def test_welcome_says_what_it_is_and_offers_buttons(servers: dict[str, Any]) -> None:
    replies = servers["bot"].say("s-hi", "hi")
    assert "automated assistant" in texts(replies)[0]
    payloads = [b["payload"] for b in replies[0]["buttons"]]
    assert '/open_faq{"faq_topic": "withdrawal"}' in payloads


def test_a_button_payload_opens_that_answer(servers: dict[str, Any]) -> None:
    replies = servers["bot"].say("s-btn", '/open_faq{"faq_topic": "withdrawal"}')
    assert texts(replies)[0] == faq_text("withdrawal")


def test_emergency_gets_911_first_and_a_handoff(servers: dict[str, Any]) -> None:
    replies = servers["bot"].say(
        "s-911", "my boyfriend took a bunch of kpins with vodka and wont wake up"
    )
    assert "911" in texts(replies)[0]
    assert "1-800-222-1222" in texts(replies)[0]
    signal_ = handoff(replies)
    assert signal_ and signal_["level"] == "emergency"
    assert signal_["tel"].startswith("tel:+1")


def test_crisis_gets_988(servers: dict[str, Any]) -> None:
    replies = servers["bot"].say("s-988", "i dont want to be alive anymore")
    assert "988" in texts(replies)[0]
    signal_ = handoff(replies)
    assert signal_ and signal_["level"] == "crisis"


def test_callback_request_is_stored_before_it_is_confirmed(
    servers: dict[str, Any]
) -> None:
    bot, sender = servers["bot"], "s-callback"
    assert "name" in " ".join(texts(bot.say(sender, "can someone call me back")))
    assert "phone" in " ".join(texts(bot.say(sender, "Sam"))).lower()
    # an invalid number is refused and asked again
    again = " ".join(texts(bot.say(sender, "12"))).lower()
    assert "number" in again
    assert "time" in " ".join(texts(bot.say(sender, "(213) 555-0199"))).lower()
    assert (
        "may our admissions team call you"
        in " ".join(texts(bot.say(sender, "weekday mornings"))).lower()
    )
    confirmation = " ".join(texts(bot.say(sender, "/affirm")))
    db = servers["tmp"] / "handoffs.sqlite3"
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT * FROM handoffs WHERE conversation_id = ?", ("rest:" + sender,)
        ).fetchall()
    assert rows, "the callback request was not stored"
    assert "+12135550199" in repr(rows)
    assert "received" in confirmation.lower() or "call you" in confirmation.lower()


CHANNEL_KEYS = [
    ("twilio", "auth_token"),
    ("twilio_whatsapp", "whatsapp_number"),
    ("telegram", "secret_token"),
    ("facebook", "page-access-token"),
    ("slack", "slack_signing_secret"),
]


ACCESS = re.compile(
    r'"POST /webhooks/rest/webhook[^"]*" (\d{3}) .* conn=(\d+) upstream=(\S+)$'
)


def test_one_keep_alive_connection_is_served_by_both_rasa_servers(
    servers: dict[str, Any]
) -> None:
    """make run's nginx hands each request, not each connection, to a Rasa
    server (deploy/load_balancer.py): one visitor's keep-alive connection is
    served by both, and the conversation goes on across them."""
    port = int(servers["env"]["RASA_PORT"])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {REST_TOKEN}"}  # fmt: skip
    said = []
    try:
        for message in ["hi", "what is klonopin", "can someone call me back", "Sam"]:
            body = json.dumps({"sender": "s-keepalive", "message": message})
            connection.request("POST", "/webhooks/rest/webhook", body, headers)
            response = connection.getresponse()
            assert response.status == 200
            said.append(" ".join(texts(json.loads(response.read()))))
    finally:
        connection.close()
    assert "automated assistant" in said[0] and "Klonopin" in said[1]
    assert "name" in said[2] and "phone" in said[3]  # the form went on
    log = servers["logs"] / "nginx-access.log"
    deadline = time.monotonic() + 5
    while True:  # nginx logs a request once its answer is sent
        lines = [m for m in map(ACCESS.search, log.read_text().splitlines()) if m]
        mine = [m for m in lines if m[2] == lines[-1][2]] if lines else []
        if len(mine) >= 4 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(mine) >= 4, lines  # one connection (conn=) carried the four
    assert len({m[3] for m in mine[-4:]}) == 2, mine  # both servers answered


def test_unconfigured_channels_answer_503_and_sigterm_stops_every_server(
    tmp_path: Path,
) -> None:
    env = base_env(tmp_path)
    proc = start(
        env, ["deploy/run.sh"], "The assistant is running", tmp_path / "run.log"
    )
    # no channel credentials in this environment: each channel is off and says why
    for channel, key in CHANNEL_KEYS:
        url = f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/{channel}/webhook"
        request = urllib.request.Request(url, data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 503, channel
        assert key in refused.value.read().decode()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    time.sleep(1)
    assert not port_open(int(env["RASA_PORT"]))
    assert not port_open(int(env["WEB_PORT"]))
    assert not port_open(int(env["ACTION_PORT"]))


def hanging_server(port: int) -> None:
    """An action server that accepts the call and never answers (a hung server)."""

    def serve() -> None:
        with socket.socket() as server:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", port))
            server.listen(16)
            held = []
            while True:
                conn, _ = server.accept()
                held.append(conn)  # read nothing, answer nothing

    threading.Thread(target=serve, daemon=True).start()


@pytest.mark.parametrize("action_server", ["down", "hung"])
def test_911_and_988_come_quickly_when_the_action_server_is_down_or_hung(
    tmp_path: Path, action_server: str
) -> None:
    env = base_env(tmp_path)
    port = free_port()
    if action_server == "hung":
        hanging_server(port)
    env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{port}/webhook"
    env["ACTION_TIMEOUT_SECONDS"] = "3"
    cmd = [str(ROOT / ".venv/bin/python"), "-m", "rasa_server", "run", "--model", model_path(),
           "--port", env["RASA_PORT"], "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"]  # fmt: skip
    proc = start(env, cmd, "Rasa server is up and running", tmp_path / "rasa.log")
    try:
        # Rasa's own default would wait 300 s for the action: these calls would time out
        bot = Bot(int(env["RASA_PORT"]), timeout=30)
        emergency = texts(bot.say("s-down-1", "she is having a seizure right now"))
        crisis = texts(bot.say("s-down-2", "i want to kill myself"))
        assert emergency and "911" in emergency[0]
        assert crisis and "988" in crisis[0]
        assert texts(bot.say("s-down-3", "what is klonopin")), "and it keeps answering"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


@pytest.mark.parametrize(
    ("setting", "says"),
    [({"RASA_SERVERS": "two"}, "RASA_SERVERS must be a whole number"),
     ({"RASA_SERVERS": "0"}, "RASA_SERVERS must be a whole number"),
     ({"NGINX": "/nonexistent/nginx"}, "run 'make nginx'")],
)  # fmt: skip
def test_run_refuses_a_bad_server_count_or_a_missing_nginx_and_says_why(
    tmp_path: Path, setting: dict[str, str], says: str
) -> None:
    env = {**base_env(tmp_path), **setting}
    result = subprocess.run(  # noqa: S603
        ["deploy/run.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 1
    assert says in result.stderr
    assert not port_open(int(env["RASA_PORT"]))  # nothing was started


def test_run_says_which_server_port_is_taken(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    taken = int(env["RASA_BACKEND_PORT"]) + 1  # the second Rasa server's
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        result = subprocess.run(  # noqa: S603
            ["deploy/run.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    assert result.returncode == 1
    assert (
        f"Port {taken} (the Rasa servers, from RASA_BACKEND_PORT) is in use"
        in result.stderr
    )
    assert not port_open(int(env["RASA_PORT"]))
