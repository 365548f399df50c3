"""Reliability (issue 6, ready for real traffic): the conversation store away at
start-up or mid-conversation, a restart of the Rasa server mid-conversation, and
a soak of 1,000 conversations with flat memory.

The store-away tests run against the real PostgreSQL through a TcpProxy the test
cuts (the shared server is never stopped); the restart and the soak share one
Rasa server on the default SQLite store (endpoints.yml, as `make run`).
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from harness import (
    ACTIONS_READY,
    RASA_READY,
    REST_TOKEN,
    ROOT,
    Bot,
    TcpProxy,
    action_command,
    base_env,
    free_port,
    port_open,
    postgres_env,
    rasa_command,
    rss_mib,
    start,
)

from rasa_server.stores.tracker_guard import STORE_DOWN_REPLY
from tools.bench import held_out_questions

pytestmark = pytest.mark.system

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def text_of(replies: list[dict[str, Any]]) -> str:
    return " ".join(r.get("text", "") for r in replies).lower()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


# 1. The store unreachable at start-up ---------------------------------------


@pytest.mark.parametrize("store", ["postgresql", "sqlite"])
def test_the_server_refuses_to_start_without_its_conversation_store(
    tmp_path: Path, store: str
) -> None:
    env = base_env(tmp_path)
    env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{env['ACTION_PORT']}/webhook"
    if store == "postgresql":  # deploy/endpoints.scale.yml, nothing on that port
        closed = free_port()
        postgres_env(env, sa.engine.make_url(POSTGRES_URL), "test", port=closed)
        endpoints, where, settings = (
            "deploy/endpoints.scale.yml",
            f"127.0.0.1:{closed}",
            "TRACKER_PG_HOST, TRACKER_PG_PASSWORD, TRACKER_PG_PORT",
        )
    else:  # endpoints.yml, a SQLite file in a folder that does not exist
        env["TRACKER_DB"] = str(tmp_path / "missing" / "tracker.sqlite3")
        endpoints, where, settings = "endpoints.yml", env["TRACKER_DB"], "TRACKER_DB"
    began = time.monotonic()
    done = subprocess.run(
        rasa_command(env["RASA_PORT"], endpoints), cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    seconds = time.monotonic() - began
    output = done.stdout + done.stderr
    print(f"\n{store}: exit {done.returncode} after {seconds:.1f} s")
    assert done.returncode != 0
    assert RASA_READY not in output
    assert not port_open(int(env["RASA_PORT"]))
    assert seconds < 45, "it stops before loading the model (which takes ~30 s)"
    lines = [line for line in output.splitlines() if "conversation store" in line]
    assert len(lines) == 1, output[-3000:]
    print(lines[0])
    assert lines[0].startswith("Not starting: the conversation store")
    assert where in lines[0] and endpoints in lines[0]
    assert settings in lines[0] and "running and reachable" in lines[0]


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One action server for this module's Rasa servers; its URL."""
    tmp = tmp_path_factory.mktemp("actions")
    env = base_env(tmp)
    proc = start(env, action_command(env["ACTION_PORT"]), ACTIONS_READY, tmp / "actions.log")  # fmt: skip
    yield f"http://127.0.0.1:{env['ACTION_PORT']}/webhook"
    stop(proc)


# 2. The store going away mid-conversation -----------------------------------


@pytest.fixture
def proxied_server(tmp_path: Path, action_server: str) -> Iterator[dict[str, Any]]:
    """A Rasa server (deploy/endpoints.scale.yml) whose PostgreSQL, a throw-away
    database on the real server, is reached through a TcpProxy."""
    database = f"reliability_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    url = sa.engine.make_url(POSTGRES_URL)
    proxy = TcpProxy(url.port or 5432)
    env = base_env(tmp_path)
    env["ACTION_SERVER_URL"] = action_server
    postgres_env(env, url, database, port=proxy.port)
    proc = None
    direct = sa.create_engine(url.set(database=database))
    try:
        cmd = rasa_command(env["RASA_PORT"], "deploy/endpoints.scale.yml")
        proc = start(env, cmd, RASA_READY, tmp_path / "rasa.log")
        yield {"bot": Bot(int(env["RASA_PORT"])), "proxy": proxy, "db": direct,
               "log": tmp_path / "rasa.log"}  # fmt: skip
    finally:
        if proc is not None:
            stop(proc)
        proxy.close()
        direct.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def pg_events(engine: sa.engine.Engine, sender: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": "rest:" + sender},  # the REST channel's namespace (identity.py)
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


def test_the_store_going_away_mid_conversation_gets_a_calm_reply_and_loses_nothing(
    proxied_server: dict[str, Any]
) -> None:
    bot, proxy, db = (
        proxied_server["bot"],
        proxied_server["proxy"],
        proxied_server["db"],
    )
    sender = "rel-outage"
    assert "name" in text_of(bot.say(sender, "can someone call me back"))
    before = pg_events(db, sender)

    proxy.cut()
    for who, message in [(sender, "Sam"), ("rel-outage-new", "hi"),
                         ("rel-outage-911", "she is having a seizure right now")]:  # fmt: skip
        began = time.monotonic()
        status, replies = bot.post(
            json.dumps({"sender": who, "message": message}).encode()
        )
        seconds = time.monotonic() - began
        print(f"\nstore away: {message!r} -> {status} in {seconds:.2f} s: {replies}")
        assert status == 503
        assert [r["text"] for r in replies] == [STORE_DOWN_REPLY]
        assert "911" in STORE_DOWN_REPLY and "988" in STORE_DOWN_REPLY
        assert seconds < 10
    assert pg_events(db, sender) == before, "nothing stored, no new session"
    assert pg_events(db, "rel-outage-new") == []

    proxy.restore()
    # the form started before the outage goes on: "Sam" is taken as the name
    assert "phone" in text_of(bot.say(sender, "Sam"))
    after = pg_events(db, sender)
    assert after[: len(before)] == before
    # the answer to the name question is stored masked (form_privacy.py)
    assert [e["text"] for e in after if e["event"] == "user"] == [
        "can someone call me back", "[name]"]  # fmt: skip
    assert [e["event"] for e in after].count("session_started") == 1
    assert "automated assistant" in text_of(bot.say("rel-outage-new", "hi"))
    log = proxied_server["log"].read_text()
    assert "The conversation store (LeanSQLTrackerStore postgresql://" in log
    assert "InMemoryTrackerStore" not in log, "no fallback to memory"


# 3. and 4. One Rasa server on SQLite: a restart mid-conversation, then the soak --


class SqliteServer:
    """A Rasa server on the default store (endpoints.yml, SQLite at TRACKER_DB),
    which a test may stop and start again."""

    def __init__(self, tmp: Path, action_url: str) -> None:
        self.tmp = tmp
        self.env = base_env(tmp)
        self.env["ACTION_SERVER_URL"] = action_url
        self.port = int(self.env["RASA_PORT"])
        self.bot = Bot(self.port)
        self.starts = 0
        self.rasa = self.start()

    def start(self) -> subprocess.Popen:
        self.starts += 1
        log = self.tmp / f"rasa-{self.starts}.log"
        self.rasa = start(self.env, rasa_command(self.port), RASA_READY, log)
        return self.rasa

    def stop(self) -> int:
        stop(self.rasa)
        return int(self.rasa.returncode)

    def close(self) -> None:
        stop(self.rasa)

    def user_texts(self, sender: str) -> list[str]:
        return [e["text"] for e in self.events(sender) if e["event"] == "user"]

    def events(self, sender: str) -> list[dict[str, Any]]:
        with sqlite3.connect(self.env["TRACKER_DB"]) as conn:
            rows = conn.execute(
                "SELECT data FROM events WHERE sender_id = ? ORDER BY id",
                ("rest:" + sender,),
            ).fetchall()
        return [json.loads(data) for (data,) in rows]


@pytest.fixture(scope="module")
def sqlite_server(
    tmp_path_factory: pytest.TempPathFactory, action_server: str
) -> Iterator[SqliteServer]:
    server = SqliteServer(tmp_path_factory.mktemp("reliability"), action_server)
    yield server
    server.close()


def test_a_restart_mid_conversation_keeps_the_conversation(
    sqlite_server: SqliteServer,
) -> None:
    server, sender = sqlite_server, "rel-restart"
    assert "name" in text_of(server.bot.say(sender, "can someone call me back"))
    assert "phone" in text_of(server.bot.say(sender, "Sam"))
    before = server.events(sender)
    server.stop()  # SIGTERM, as a service manager does
    assert not port_open(server.port)
    server.start()  # same TRACKER_DB, same port
    assert server.events(sender) == before
    # the callback form goes on where it was: the number is taken, the time asked
    assert "time" in text_of(server.bot.say(sender, "(213) 555-0199"))
    # the form's answers are stored masked (form_privacy.py)
    assert server.user_texts(sender) == [
        "can someone call me back", "[name]", "[phone]"]  # fmt: skip
    assert [e["event"] for e in server.events(sender)].count("session_started") == 1


OPENERS = [
    "hi", "what is klonopin", "can i detox from klonopin at home",
    "what does klonopin withdrawal feel like", "can you get hooked on pins",
    "side effects of clonazapam", "signs my son is addicted to klonopin",
    "long term effects of klonopin", "how do i help my wife with her benzo problem",
    "how much does detox cost", "do you take my insurance", "who are you guys",
    "how do i get into your detox", "is clonazepam used for seizures",
    "i dont want to be alive anymore", "my friend took a bunch of kpins and wont wake up",
]  # fmt: skip
FOLLOW_UPS = [
    "thanks", "can i quit klonopin cold turkey", "what treatment do you offer",
    "how long does withdrawal last", "ok", "bye", "is klonopin a benzo",
    "can you treat my anxiety and addiction together", "where are you located",
]  # fmt: skip
# A follow-up is a held-out FAQ phrasing (270-odd,
# never seen in training) about half the time, so that the NLU pipeline, the
# models and the caches filling up are part of the soak, not only cache hits.
QUESTIONS = held_out_questions()
CONVERSATIONS = 1000
WARM_UP = 100
CLIENTS = 10
# Rasa keeps nothing of a conversation in memory between messages (SQL store, lock
# removed after each message). One of these conversations' trackers, loaded as
# Rasa holds it (about 20 events with parse data and rankings), takes 56-83 KB
# (median 62, measured with tracemalloc): a leak that kept even half of each
# tracker would add over 25 MiB in the 900 conversations after the warm-up.
# Measured growth so far: 9 MiB.
RSS_GROWTH_LIMIT_MIB = 25.0


async def converse(
    session: aiohttp.ClientSession, url: str, sender: str, rng: random.Random
) -> list[str]:
    """One visitor: an opener, a button of the reply, a follow-up or a held-out
    question. The problems."""
    problems: list[str] = []
    message = rng.choice(OPENERS)
    for turn in range(3):
        try:
            async with session.post(
                url,
                json={"sender": sender, "message": message},
                headers={"Authorization": f"Bearer {REST_TOKEN}"},
            ) as r:
                status, replies = r.status, await r.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            return [*problems, f"{sender} {message!r}: {error!r}"]
        if status != 200 or not any(reply.get("text") for reply in replies or []):
            problems.append(f"{sender} {message!r}: {status} {replies!r}")
        buttons = [b["payload"] for r in replies or [] for b in r.get("buttons") or []]
        if turn == 0 and buttons:
            message = rng.choice(buttons)
        else:
            message = rng.choice(FOLLOW_UPS if rng.random() < 0.5 else QUESTIONS)
    return problems


async def soak(url: str, senders: list[str], rng: random.Random) -> list[str]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for sender in senders:
        queue.put_nowait(sender)
    problems: list[str] = []

    async def client() -> None:
        while not queue.empty():
            problems.extend(await converse(session, url, queue.get_nowait(), rng))

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return problems


def test_soak_1000_conversations_no_errors_and_flat_memory(
    sqlite_server: SqliteServer,
) -> None:
    server, rng = sqlite_server, random.Random(6)
    if server.rasa.poll() is not None:  # the restart test left it down
        server.start()
    pid, url = server.rasa.pid, server.bot.url
    log = server.tmp / f"rasa-{server.starts}.log"
    log_start = log.stat().st_size
    senders = [f"soak-{n:04d}" for n in range(CONVERSATIONS)]
    began = time.monotonic()
    problems = asyncio.run(soak(url, senders[:WARM_UP], rng))
    warm = rss_mib(pid)
    samples = [warm]
    for start_at in range(WARM_UP, CONVERSATIONS, 150):
        problems += asyncio.run(soak(url, senders[start_at : start_at + 150], rng))
        samples.append(rss_mib(pid))
    seconds = time.monotonic() - began
    end = samples[-1]
    sizes = [sum(len(json.dumps(e)) for e in server.events(s)) for s in senders[::50]]
    print(
        f"\nsoak: {CONVERSATIONS} conversations, {3 * CONVERSATIONS} messages, "
        f"{CLIENTS} clients, {seconds:.0f} s, {3 * CONVERSATIONS / seconds:.1f} req/s, "
        f"{len(problems)} errors; Rasa RSS after the warm-up ({WARM_UP} conversations) "
        f"{warm:.0f} MiB, at the end {end:.0f} MiB (growth {end - warm:+.1f} MiB, "
        f"max {max(samples):.0f}); samples {[round(s) for s in samples]}; "
        f"a stored conversation ~{sum(sizes) / len(sizes) / 1024:.0f} KB of JSON"
    )
    assert problems == [], problems[:10]
    with log.open() as f:
        f.seek(log_start)
        logged = [line for line in f if " ERROR " in line or "Traceback" in line]
    assert logged == [], logged[:10]
    assert len(server.user_texts(senders[-1])) == 3
    assert end - warm < RSS_GROWTH_LIMIT_MIB
