"""Tests that start one of the project's programs as a real process and read
what it prints: the action server and its notifier, and the Rasa server's entry
point when it refuses to start; and the SQLite lock store across processes."""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions import config
from actions.config import load_settings
from actions.store import Store, utcnow
from common.paths import ROOT
from rasa_server.stores.sqlite_lock_store import SQLiteLockStore
from tests.unit.test_notify import FakeWebhook, free_port, http_status, queue_handoff

PROJECT_ROOT = ROOT
RUN = ["run", "--model", "models/m.tar.gz", "--port", "5005"]


@pytest.fixture
def webhook() -> Iterator[FakeWebhook]:
    with FakeWebhook() as fake:
        yield fake


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in config.ENV_KEYS}
    env.update(extra)
    return env


def test_cli_once_prints_counts(tmp_path: Path, webhook: FakeWebhook) -> None:
    db_url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    store = Store(db_url)
    settings = load_settings({"NOTIFY_WEBHOOK_URL": webhook.url})
    queue_handoff(store, settings, utcnow())
    queue_handoff(store, settings, utcnow())
    store.dispose()
    webhook.statuses = [200, 500]
    command = [sys.executable, "-m", "actions.notify", "--once"]
    env = child_env(HANDOFF_DB_URL=db_url, NOTIFY_WEBHOOK_URL=webhook.url)

    result = subprocess.run(  # noqa: S603
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "claimed=2 delivered=1 failed=1 pending=1"
    assert result.returncode == 1  # something failed: non-zero for cron alerts
    assert "token" not in result.stderr


def test_server_runs_actions_delivers_in_background_and_stops_cleanly(
    tmp_path: Path, webhook: FakeWebhook, domain: dict[str, Any]
) -> None:
    port = free_port()
    db_url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    env = child_env(
        HANDOFF_DB_URL=db_url,
        NOTIFY_WEBHOOK_URL=webhook.url,
        NOTIFY_INTERVAL_SECONDS="1",
        SANIC_HOST="127.0.0.1",
        ACTION_SERVER_TOKEN="unit-test-shared-secret",
    )
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "actions.server", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http_status(f"{base}/health") == 200:
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

        call = {
            "next_action": "action_handoff_emergency",
            "sender_id": "conv-server",
            "version": "3.6.21",
            "domain": domain,
            "tracker": {
                "sender_id": "conv-server",
                "slots": {},
                "latest_message": {"text": "overdose", "intent": {"name": "emergency"}},
                "events": [],
                "paused": False,
                "followup_action": None,
                "active_loop": {},
                "latest_action_name": "action_listen",
            },
        }
        # without the shared secret, or with a wrong one: refused, nothing runs
        for auth in ({}, {"Authorization": "Bearer wrong-secret-of-some-length"}):
            refused = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
                f"{base}/webhook",
                data=json.dumps(call).encode(),
                headers={"Content-Type": "application/json", **auth},
            )
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(refused, timeout=10)  # noqa: S310
            assert error.value.code == 401
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            f"{base}/webhook",
            data=json.dumps(call).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": "Bearer unit-test-shared-secret",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310
            result = json.loads(r.read())
        assert result["events"] == [
            {
                "event": "slot",
                "timestamp": None,
                "name": "handoff_level",
                "value": "emergency",
            }
        ]
        assert any("911" in (m.get("text") or "") for m in result["responses"])

        deadline = time.monotonic() + 15
        while not webhook.requests and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(webhook.requests) == 1
        assert "EMERGENCY" in webhook.requests[0]["text"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert process.returncode == 0, output
    assert "FICTIONAL CONTACT DETAILS" in output
    assert "Traceback" not in output
    store = Store(db_url)
    try:
        [stored] = store.handoffs_for("conv-server")
        [row] = store.outbox_for(stored.id)
        assert row.delivered_at is not None
    finally:
        store.dispose()


def test_the_launcher_exits_2_with_the_reason() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rasa_server", *RUN, "--enable-api"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert "--enable-api" in done.stderr and "RASA_API_TOKEN" in done.stderr


def test_the_entry_point_refuses_an_unknown_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rasa_server", "train"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "usage: python -m rasa_server run|shell" in done.stderr


def test_the_entry_point_refuses_a_bad_setting_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rasa_server", "run"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "ACTION_TIMEOUT_SECONDS": "soon"},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "ACTION_TIMEOUT_SECONDS must be a number of seconds, not 'soon'"
    ]


def _issue_many(path: str, count: int, queue: multiprocessing.Queue) -> None:
    store = SQLiteLockStore(db=path)
    queue.put([store.issue_ticket("shared") for _ in range(count)])


def test_tickets_are_unique_across_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "locks.sqlite3")
    SQLiteLockStore(db=path)  # the schema, once
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_issue_many, args=(path, 50, queue))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    issued = [number for _ in workers for number in queue.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert len(issued) == 200
    assert len(set(issued)) == 200
