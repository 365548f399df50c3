"""Two Rasa servers, one action server, one conversation store (the real
PostgreSQL) and one lock store (the real Redis, rasa_server/stores/redis_lock_store.py), as
deploy/endpoints.scale.yml sets them up, and nginx in front of them as
deploy/run_cluster.sh runs it (deploy/load_balancer.py). No skip: if
PostgreSQL, Redis or nginx is missing, these tests fail.

- A conversation's messages alternate between the servers and go on correctly.
- Messages of one visitor sent at the same moment to both servers are handled
  one at a time: each user message is followed by its own replies before the
  next one starts, and none waits out the lock lifetime. (Rasa 3.6's own Redis
  lock store issues tickets non-atomically; tests/integration/
  test_lock_store_redis.py checks the atomic one under contention.)
- Through the load balancer, REST requests go to both servers in turn and the
  conversation goes on; a socket.io session over long-polling stays on one
  server, two WebSockets at once go one to each, and all get their replies."""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import socketio
import sqlalchemy as sa
import websockets
from harness import (
    ACTIONS_READY,
    RASA_READY,
    ROOT,
    Bot,
    action_command,
    base_env,
    free_port,
    postgres_env,
    rasa_command,
    start,
)

pytestmark = pytest.mark.system

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")  # `make nginx` installs it


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("scale")
    database = f"scale_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    url = sa.engine.make_url(POSTGRES_URL)
    env = base_env(tmp)
    env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{env['ACTION_PORT']}/webhook"
    postgres_env(env, url, database)
    procs: list[subprocess.Popen] = []
    try:
        procs.append(start(env, action_command(env["ACTION_PORT"]), ACTIONS_READY,
                           tmp / "actions.log"))  # fmt: skip
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports):
            cmd = rasa_command(port, "deploy/endpoints.scale.yml")
            procs.append(start(env, cmd, RASA_READY, tmp / f"rasa-{n}.log"))
        engine = sa.create_engine(url.set(database=database))
        yield {"bots": [Bot(p) for p in ports], "ports": ports, "db": engine}
        engine.dispose()
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=60)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def events(cluster: dict[str, Any], sender: str) -> list[dict[str, Any]]:
    """The stored events of ``sender`` (a REST sender, or ``web:<session>``)."""
    conversation = sender if sender.startswith("web:") else "rest:" + sender
    with cluster["db"].connect() as conn:
        rows = conn.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": conversation},
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


def text_of(replies: list[dict[str, Any]]) -> str:
    return " ".join(r.get("text", "") for r in replies).lower()


def test_a_conversation_alternating_between_two_servers_goes_on(
    cluster: dict[str, Any]
) -> None:
    a, b = cluster["bots"]
    sender = "scale-alternate"
    assert "automated assistant" in text_of(a.say(sender, "hi"))
    assert "withdrawal" in text_of(
        b.say(sender, '/open_faq{"faq_topic": "withdrawal"}')
    )
    assert "name" in text_of(a.say(sender, "can someone call me back"))
    assert "phone" in text_of(
        b.say(sender, "Sam")
    )  # the form started on A goes on on B
    assert "time" in text_of(a.say(sender, "(213) 555-0199"))
    assert "may our admissions team call you" in text_of(
        b.say(sender, "weekday mornings")
    )
    user_texts = [e["text"] for e in events(cluster, sender) if e["event"] == "user"]
    # the form's answers are stored masked (rasa_server/stores/form_privacy.py)
    assert user_texts == ["hi", '/open_faq{"faq_topic": "withdrawal"}', "can someone call me back",
                          "[name]", "[phone]", "[callback answer]"]  # fmt: skip


def faq(topic: str) -> str:
    """The payload of a topic's button, as the website sends it."""
    return f'/open_faq{{"faq_topic": "{topic}"}}'


def test_simultaneous_messages_of_one_visitor_on_two_servers_go_in_turn(
    cluster: dict[str, Any]
) -> None:
    bots = cluster["bots"]
    sender = "scale-simultaneous"
    messages = [
        faq(t)
        for t in ("what_is", "uses", "effects", "withdrawal", "long_term", "treatment")
    ]
    ready = threading.Barrier(len(messages))

    def send(n: int) -> tuple[str, int, Any, float]:
        body = json.dumps({"sender": sender, "message": messages[n]}).encode()
        ready.wait()
        began = time.monotonic()
        status, replies = bots[n % 2].post(body)  # alternating between the servers
        return messages[n], status, replies, time.monotonic() - began

    with ThreadPoolExecutor(len(messages)) as pool:
        results = list(pool.map(send, range(len(messages))))

    assert [status for _, status, _, _ in results] == [200] * len(messages), results
    # One after the other they take about 1 s here; a lost ticket would make a
    # request wait out the 60 s lock lifetime.
    slowest = max(seconds for *_, seconds in results)
    assert slowest < 10, f"the slowest of {len(messages)} messages took {slowest:.1f} s"
    answered = {
        message: [r.get("text") for r in replies] for message, _, replies, _ in results
    }

    # In the conversation store: one turn per message, in some order, each the
    # user message, its own replies (those its request got), then action_listen,
    # with nothing of another turn in between.
    stored = events(cluster, sender)
    first = next(i for i, e in enumerate(stored) if e["event"] == "user")
    turns: list[list[dict[str, Any]]] = []
    for event in stored[first:]:
        if event["event"] == "user":
            turns.append([])
        turns[-1].append(event)
    assert sorted(turn[0]["text"] for turn in turns) == sorted(messages)
    for turn in turns:
        replies = [e.get("text") for e in turn if e["event"] == "bot"]
        assert replies and replies == answered[turn[0]["text"]], turn
        assert (turn[-1]["event"], turn[-1].get("name")) == ("action", "action_listen")


# --- the load balancer (nginx) in front of the two servers ------------------------

ACCESS_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>[^ ?"]+)\S* [^"]*" '
    r"(?P<status>\d{3}) .* upstream=(?P<upstream>\S+)$"
)


@pytest.fixture(scope="module")
def balancer(
    cluster: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """nginx with the configuration deploy/run_cluster.sh writes, in front of the
    cluster's two servers (no extra Rasa server)."""
    tmp = tmp_path_factory.mktemp("balancer")
    port = free_port()
    servers = [f"127.0.0.1:{p}" for p in cluster["ports"]]
    access_log = tmp / "access.log"
    conf = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-m", "deploy.load_balancer",
         "--listen", f"127.0.0.1:{port}", *(f"--server={s}" for s in servers),
         "--dir", str(tmp), "--access-log", str(access_log)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    command = [NGINX, "-p", str(tmp), "-c", conf, "-e", "stderr"]
    subprocess.run([*command, "-t"], check=True, capture_output=True)
    proc = start(dict(os.environ), command, "start worker processes", tmp / "nginx.log")
    try:
        yield {"port": port, "bot": Bot(port), "servers": servers, "log": access_log}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def access(log: Path, path_prefix: str, expected: int = 0) -> list[dict[str, str]]:
    """The load balancer's access log lines for paths under ``path_prefix``.

    nginx writes a request's line after it has sent the response, so the line of
    the latest request may arrive a moment after the reply: wait up to 5 s for
    ``expected`` lines."""
    deadline = time.monotonic() + 5
    while True:
        lines = (ACCESS_LINE.search(line) for line in log.read_text().splitlines())
        found = [
            m.groupdict() for m in lines if m and m["path"].startswith(path_prefix)
        ]
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_rest_through_the_load_balancer_takes_turns_and_the_conversation_goes_on(
    balancer: dict[str, Any]
) -> None:
    bot = balancer["bot"]
    sender = "lb-rest"
    assert "automated assistant" in text_of(bot.say(sender, "hi"))
    assert "withdrawal" in text_of(bot.say(sender, faq("withdrawal")))
    assert "name" in text_of(bot.say(sender, "can someone call me back"))
    assert "phone" in text_of(bot.say(sender, "Sam"))
    assert "time" in text_of(bot.say(sender, "(213) 555-0199"))
    served_by = [e["upstream"] for e in access(balancer["log"], "/webhooks/rest/", 5)]
    assert len(served_by) == 5 and set(served_by) == set(balancer["servers"])
    # one request at a time: both servers idle, so in turn (least_conn's tie)
    assert all(
        a != b for a, b in zip(served_by, served_by[1:], strict=False)
    ), served_by


async def polling_conversation(port: int, turns: list[tuple[str, str]]) -> str:
    """A socket.io session over HTTP long-polling (the widget's fallback), with
    python-socketio's client: each message, then a reply containing the expected
    word. Returns the session id."""
    client = socketio.AsyncClient(reconnection=False)
    confirmed = asyncio.Event()
    replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    issued: list[str] = []
    client.on(
        "session_confirm", lambda session: (issued.append(session), confirmed.set())
    )
    client.on("bot_uttered", replies.put_nowait)
    await client.connect(
        f"http://127.0.0.1:{port}", transports=["polling"], wait_timeout=10
    )
    session = uuid.uuid4().hex
    try:
        await client.emit("session_request", {"session_id": session})
        await asyncio.wait_for(confirmed.wait(), 10)
        session = issued[-1]  # the server's signed id (rasa_server/identity.py)
        for message, expected in turns:
            await client.emit(
                "user_uttered", {"message": message, "session_id": session}
            )
            while True:
                reply = await asyncio.wait_for(replies.get(), 30)
                if expected in reply.get("text", "").lower():
                    break
        return session
    finally:
        # A plain disconnect would wait out the pending long-poll (30 s).
        await client.eio.disconnect(abort=True)


async def websocket_conversation(port: int, turns: list[tuple[str, str]]) -> str:
    """The same over a WebSocket, the widget's first choice. python-socketio's
    client needs a newer aiohttp for WebSockets than Rasa 3.6 pins, so the
    engine.io / socket.io packets are written here: "40" connects, "42[...]" is
    an event, "2" a ping to answer with "3"."""
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    session = uuid.uuid4().hex
    async with websockets.connect(url) as ws:

        async def emit(name: str, data: dict[str, Any]) -> None:
            await ws.send("42" + json.dumps([name, data]))

        async def until(name: str, expected: str = "") -> Any:
            while True:
                packet = await asyncio.wait_for(ws.recv(), 30)
                if packet == "2":
                    await ws.send("3")
                elif isinstance(packet, str) and packet.startswith("42"):
                    event, data = json.loads(packet[2:])[:2]
                    text = data.get("text", "") if isinstance(data, dict) else ""
                    if event == name and expected in text.lower():
                        return data

        assert str(await ws.recv()).startswith("0")  # engine.io's open packet
        await ws.send("40")
        await emit("session_request", {"session_id": session})
        session = await until("session_confirm")  # the server's signed id
        for message, expected in turns:
            await emit("user_uttered", {"message": message, "session_id": session})
            await until("bot_uttered", expected)
    return session


async def test_socketio_over_polling_sticks_and_websockets_go_to_the_least_busy(
    balancer: dict[str, Any], cluster: dict[str, Any]
) -> None:
    turns = [("hi", "automated assistant"), (faq("withdrawal"), "withdrawal")]
    polling = await polling_conversation(balancer["port"], turns)
    await asyncio.sleep(0.5)  # nginx logs a request when it is over
    requests = access(balancer["log"], "/socket.io/")
    # Long-polling takes many requests per session; every one reached the same
    # server. (499: the long-poll the polling client dropped when it left.)
    assert len(requests) >= 8 and len({r["upstream"] for r in requests}) == 1
    assert {r["status"] for r in requests} <= {"200", "499"}, requests

    # Two widgets at once: each WebSocket (101 through nginx) goes to the server
    # with the fewer open connections, so one to each.
    websockets_ = await asyncio.gather(
        websocket_conversation(balancer["port"], turns),
        websocket_conversation(balancer["port"], turns),
    )
    await asyncio.sleep(0.5)
    upgrades = [
        r for r in access(balancer["log"], "/socket.io/") if r["status"] == "101"
    ]
    assert len(upgrades) == 2 and {r["upstream"] for r in upgrades} == set(
        balancer["servers"]
    ), upgrades
    for session in (polling, *websockets_):
        said = [
            e["text"] for e in events(cluster, "web:" + session) if e["event"] == "user"
        ]
        assert said == [message for message, _ in turns]
