"""Two Rasa servers, one action server, one conversation store (the real
PostgreSQL) and one lock store (the real Redis), as config/endpoints.scale.yml
sets them up. A conversation's messages alternate between the servers and go on
correctly. No skip: if PostgreSQL or Redis is down, this test fails.

Not here yet: simultaneous messages of one visitor on two servers. Rasa 3.6's
Redis lock store issues tickets with a read-modify-write that is not atomic
across processes; tried here, a request waited out the 60 s lock lifetime and
got a 503. It needs an atomic lock store (issue 6)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from harness import ROOT, Bot, base_env, free_port, model_path, start

pytestmark = pytest.mark.system

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("scale")
    database = f"scale_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    url = sa.engine.make_url(POSTGRES_URL)
    env = base_env(tmp)
    env.update(
        ACTION_SERVER_URL=f"http://127.0.0.1:{env['ACTION_PORT']}/webhook",
        TRACKER_PG_HOST=url.host or "127.0.0.1",
        TRACKER_PG_PORT=str(url.port or 5432),
        TRACKER_PG_DB=database,
        TRACKER_PG_USER=url.username or "postgres",
        TRACKER_PG_PASSWORD=url.password or "",
        LOCK_REDIS_HOST="127.0.0.1",
        LOCK_REDIS_PORT="6379",
        LOCK_REDIS_DB="1",
        LOCK_REDIS_PREFIX=f"scale{uuid.uuid4().hex[:8]}",
    )
    procs: list[subprocess.Popen] = []
    try:
        procs.append(start(env, [str(ROOT / ".venv/bin/python"), "-m", "actions.server", "--port",
                                 env["ACTION_PORT"]], "Action server starting", tmp / "actions.log"))  # fmt: skip
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports):
            cmd = [str(ROOT / ".venv/bin/python"), "-m", "scripts.rasa_server", "run", "--model", model_path(),
                   "--port", str(port), "--endpoints", "config/endpoints.scale.yml",
                   "--credentials", "credentials.yml"]  # fmt: skip
            procs.append(
                start(env, cmd, "Rasa server is up and running", tmp / f"rasa-{n}.log")
            )
        engine = sa.create_engine(url.set(database=database))
        yield {"bots": [Bot(p) for p in ports], "db": engine}
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
    with cluster["db"].connect() as conn:
        rows = conn.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": sender},
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
    assert "permission" in text_of(b.say(sender, "weekday mornings"))
    user_texts = [e["text"] for e in events(cluster, sender) if e["event"] == "user"]
    assert user_texts == ["hi", '/open_faq{"faq_topic": "withdrawal"}', "can someone call me back",
                          "Sam", "(213) 555-0199", "weekday mornings"]  # fmt: skip
