"""Starting the real servers for system tests, as `make run` does."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tools.bench.servers import free_ports

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


#: the REST channel's token in system tests (base_env sets REST_API_TOKEN)
REST_TOKEN = "system-test-rest-token-0123456789"


class Bot:
    def __init__(
        self, port: int, timeout: float = 60, token: str | None = REST_TOKEN
    ) -> None:
        self.url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        self.timeout = timeout
        self.token = token

    def post(self, body: bytes) -> tuple[int, Any]:
        """Any body; (status, decoded JSON) also for 4xx answers."""
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers)
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
        [str(ROOT / ".venv/bin/python"), "-m", "tools.model_fingerprint"],
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
        # deploy/run.sh's two Rasa servers: RASA_PORT + 1 and + 2 could be a
        # client connection's ports (both are in the kernel's outgoing range)
        RASA_BACKEND_PORT=str(free_ports(2)),
        ACTION_PORT=str(free_port()),
        TRACKER_DB=str(tmp / "tracker.sqlite3"),
        LOCK_DB=str(tmp / "locks.sqlite3"),
        HANDOFF_DB_URL=f"sqlite:///{tmp / 'handoffs.sqlite3'}",
        WEB_PORT=str(free_port()),
        ACTION_SERVER_TOKEN="system-test-shared-secret",
        REST_API_TOKEN=REST_TOKEN,
        # every test client is 127.0.0.1; the per-address limit is tested on its
        # own (test_security.py), the per-conversation one stays at its default
        RATE_LIMIT_PER_ADDRESS="0",
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


RASA_READY = "Rasa server is up and running"
ACTIONS_READY = "Action server starting"


def rasa_command(port: int | str, endpoints: str = "endpoints.yml") -> list[str]:
    """The Rasa server as deploy/run.sh starts it (without the CORS origins)."""
    return [str(ROOT / ".venv/bin/python"), "-m", "rasa_server", "run", "--model", model_path(),
            "--port", str(port), "--endpoints", endpoints, "--credentials", "credentials.yml"]  # fmt: skip


def action_command(port: int | str) -> list[str]:
    return [str(ROOT / ".venv/bin/python"), "-m", "actions.server", "--port", str(port)]


def postgres_env(
    env: dict[str, str], url: Any, database: str, port: int | None = None
) -> None:
    """deploy/endpoints.scale.yml's settings: PostgreSQL at ``url`` (a SQLAlchemy
    URL; ``port`` instead of its own, e.g. a TcpProxy's), database ``database``,
    the real Redis as lock store under a key prefix of its own."""
    env.update(
        TRACKER_PG_HOST=url.host or "127.0.0.1",
        TRACKER_PG_PORT=str(port or url.port or 5432),
        TRACKER_PG_DB=database,
        TRACKER_PG_USER=url.username or "postgres",
        TRACKER_PG_PASSWORD=url.password or "",
        LOCK_REDIS_HOST="127.0.0.1",
        LOCK_REDIS_PORT="6379",
        LOCK_REDIS_DB="1",
        LOCK_REDIS_PREFIX=f"test{os.getpid()}{free_port()}",
    )


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (Sanic workers), in MiB
    (VmRSS in /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{current}/status").read_text()
            total += sum(int(line.split()[1]) for line in status.splitlines()
                         if line.startswith("VmRSS:"))  # fmt: skip
    assert total, f"no process {pid}"
    return total / 1024


class TcpProxy:
    """A TCP forwarder to 127.0.0.1:``target_port`` that a test can cut (open
    connections dropped, new ones closed at once) and restore: a database server
    going away and coming back, without touching the shared one."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.up = threading.Event()
        self.up.set()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed
            if not self.up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open |= {client, upstream}
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pipe, args=(src, dst), daemon=True
                ).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._drop([src, dst])

    def _drop(self, sockets: list[socket.socket]) -> None:
        for sock in sockets:
            with self._lock:
                self._open.discard(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the other pipe's recv
            sock.close()

    def cut(self) -> None:
        self.up.clear()
        with self._lock:
            sockets = list(self._open)
        self._drop(sockets)

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.cut()
        self.server.close()


def same_outputs(a: Any, b: Any, atol: float = 0.0) -> bool:
    """Two models' outputs (nested dicts, lists, arrays) are equal; floats within atol."""
    import numpy as np

    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_outputs(a[k], b[k], atol) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(
            same_outputs(x, y, atol) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, np.ndarray) and a.dtype.kind in "fc" and atol:
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=0, atol=atol))
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b))
    if isinstance(a, float) and atol:
        return abs(a - b) <= atol
    return bool(a == b)


def run_conversations(agent: Any, count: int, seed: int, prefix: str) -> None:
    """``count`` varied conversations of held-out questions through ``agent``
    (tools.bench's conversation pattern), each with its own sender id."""
    import asyncio
    import random

    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    from tools.bench import conversation, held_out_questions

    questions = held_out_questions()
    rng = random.Random(seed)  # noqa: S311 - a test pattern, not a secret

    async def talk() -> None:
        for number in range(count):
            for text in conversation(rng, questions):
                await agent.handle_message(
                    UserMessage(
                        text, CollectingOutputChannel(), sender_id=f"{prefix}{number}"
                    )
                )

    asyncio.run(talk())
