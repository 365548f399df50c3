"""Starting the real servers for system tests, as `make run` does."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Bot:
    def __init__(self, port: int, timeout: float = 60) -> None:
        self.url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        self.timeout = timeout

    def post(self, body: bytes) -> tuple[int, Any]:
        """Any body; (status, decoded JSON) also for 4xx answers."""
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        status, replies = self.post(
            json.dumps({"sender": sender, "message": message}).encode()
        )
        assert status == 200, (status, replies)
        return list(replies)


def start(
    env: dict[str, str], cmd: list[str], ready: str, log: Path
) -> subprocess.Popen:
    out = open(log, "w")  # noqa: SIM115 - closed by the fixture's teardown
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if ready in log.read_text():
            return proc
        if proc.poll() is not None:
            pytest.fail(f"{cmd[0]} exited early:\n{log.read_text()[-3000:]}")
        time.sleep(1)
    proc.kill()
    pytest.fail(f"{cmd[0]} did not get ready in time:\n{log.read_text()[-3000:]}")


def credential_keys() -> list[str]:
    """The ${VARIABLES} credentials.yml reads (every channel's keys)."""
    text = (ROOT / "credentials.yml").read_text()
    return sorted(set(re.findall(r"\$\{([A-Z0-9_]+)\}", text)))


def model_path() -> str:
    fingerprint = subprocess.check_output(
        [str(ROOT / ".venv/bin/python"), "scripts/model_fingerprint.py"],
        cwd=ROOT,
        text=True,
    ).strip()
    return f"models/clonazepam-{fingerprint}.tar.gz"


def base_env(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADMISSIONS_", "NOTIFY_", "SMTP_"))
    }
    env.update({key: "" for key in credential_keys()})
    env.update(
        RASA_PORT=str(free_port()),
        ACTION_PORT=str(free_port()),
        TRACKER_DB=str(tmp / "tracker.sqlite3"),
        HANDOFF_DB_URL=f"sqlite:///{tmp / 'handoffs.sqlite3'}",
        WEB_PORT=str(free_port()),
        ACTION_SERVER_TOKEN="system-test-shared-secret",
    )
    return env


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group (run.sh and its servers) and wait."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, 15)
        except ProcessLookupError:
            return
        proc.wait(timeout=60)
