"""Starting the two assistants, and what their processes use.

Each assistant starts in its own session (``start_new_session``), so every
process it starts is found by its session id: this assistant's serving stack
is deploy/run.sh's action server, Rasa servers, load balancer (nginx, its
master and worker process) and page server, as ``make run`` starts them; the
stock one is one ``rasa run`` process. Memory is the sum of their resident sets (RSS:
pages shared by forked workers count once per process, the conservative
reading) and their proportional sets (PSS: shared pages split between the
sharers, what the machine really spends).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common.paths import ROOT
from deploy.ports import first_taken

STOCK = ROOT / "build" / "stock"
RASA = ROOT / ".venv" / "bin" / "rasa"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

#: the stock assistant's channels: REST, and socket.io as the widget talks to it.
#: Rasa's own channel without session persistence: with it, Rasa 3.6 never joins
#: the room its answers go to (rasa_server/channels/socketio.py), so none arrive.
STOCK_CREDENTIALS = """\
rest:
socketio:
  user_message_evt: user_uttered
  bot_message_evt: bot_uttered
  session_persistence: false
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int, low: int = 20_000, high: int = 32_000) -> int:
    """The first of ``count`` consecutive free ports on 127.0.0.1, below the
    kernel's range for outgoing connections (32768 up), so that no client
    connection takes one of them before the server binds it: deploy/run.sh's
    Rasa servers (``RASA_BACKEND_PORT``)."""
    rng = random.Random()  # noqa: S311 - not a secret
    for _ in range(200):
        first = rng.randrange(low, high - count)
        if first_taken(first, count) is None:
            return first
    raise RuntimeError(f"no {count} consecutive free ports in {low}-{high}")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (2nd field) is in parentheses and may hold spaces
    return [raw[: raw.index("(")].strip(), "comm", *raw[raw.rindex(")") + 2 :].split()]


def session_pids(session: int) -> list[int]:
    """Every live process of the session ``session``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and fields[2] != "Z" and int(fields[5]) == session:
                pids.append(int(entry.name))
    return sorted(pids)


def role(pid: int) -> str | None:
    """What a process of a serving stack is (None for shells and helpers)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    line = b" ".join(argv)
    if b"actions.server" in line:
        return "action-server"
    if b"web.server" in line:
        return "page-server"
    if argv[0].startswith(b"nginx"):
        return f"load-balancer-{pid}"
    if b"rasa_server run" in line or b"rasa run" in line or b"multiprocessing" in line:
        fields = _stat(pid)
        parent = int(fields[3]) if fields else 0
        if role(parent):
            return f"rasa-worker-{pid}"  # a Sanic worker forked by a Rasa server
        # deploy/run.sh's servers (one each behind nginx), or stock's one
        return f"rasa-server-{pid}" if b"rasa_server run" in line else "rasa"
    return None


def memory(session: int) -> dict[str, Any]:
    """RSS and PSS (MiB) of each process of the stack, and their sums."""
    per: dict[str, dict[str, float]] = {}
    for pid in session_pids(session):
        name = role(pid)
        if name is None:
            continue
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        rss = re.search(r"VmRSS:\s+(\d+) kB", status)
        pss = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
        per[name] = {
            "rss_mib": round(int(rss.group(1)) / 1024, 1) if rss else 0.0,
            "pss_mib": round(int(pss.group(1)) / 1024, 1) if pss else 0.0,
        }
    return {
        "rss_mib": round(sum(p["rss_mib"] for p in per.values()), 1),
        "pss_mib": round(sum(p["pss_mib"] for p in per.values()), 1),
        "processes": per,
    }


def cpu_seconds(session: int) -> dict[str, float]:
    """CPU seconds (user + system) each process of the stack used so far."""
    out = {}
    for pid in session_pids(session):
        name, fields = role(pid), _stat(pid)
        if name and fields:
            out[name] = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
    return out


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (every core, every process)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(x) for x in fields[:8]
    )
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def cpu_delta(
    before: Mapping[str, float], after: Mapping[str, float]
) -> dict[str, float]:
    return {k: round(v - before.get(k, 0.0), 2) for k, v in after.items()}


class Server:
    """One assistant, started in its own session; ``stop()`` ends the session."""

    def __init__(
        self, cmd: list[str], cwd: Path, env: dict[str, str], log: Path
    ) -> None:
        self.log = log.open("w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.session = self.proc.pid

    def wait_for_answer(
        self, url: str, headers: Mapping[str, str], limit: float
    ) -> float:
        """Seconds from the start to the first answer over REST."""
        body = json.dumps({"sender": "bench-startup", "message": "hi"}).encode()
        while time.monotonic() < self.started + limit:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.log.name}: the server exited while starting "
                    f"(code {self.proc.returncode})"
                )
            request = urllib.request.Request(  # noqa: S310 - a loopback URL
                url, data=body, headers={"Content-Type": "application/json", **headers}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as r:  # noqa: S310
                    if r.status == 200:
                        return round(time.monotonic() - self.started, 1)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.log.name}: no answer within {limit:g} s")

    def stop(self) -> None:
        try:
            os.killpg(self.session, signal.SIGTERM)
            self.proc.wait(timeout=60)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.session, signal.SIGKILL)
            self.proc.wait()
        finally:
            self.log.close()


def ensure_stock() -> dict[str, Any]:
    """Create and train the stock assistant once (build/stock: ``rasa init
    --no-prompt``, default config, trained from scratch); its training figures."""
    info_file = STOCK / "bench-training.json"
    (STOCK / "bench-credentials.yml").parent.mkdir(parents=True, exist_ok=True)
    model = STOCK / "models" / "stock.tar.gz"
    if model.is_file() and info_file.is_file():
        (STOCK / "bench-credentials.yml").write_text(STOCK_CREDENTIALS)
        return dict(json.loads(info_file.read_text()))
    print("Creating the stock assistant (rasa init --no-prompt) ...", flush=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    with (STOCK / "init.log").open("w") as log:
        subprocess.run([str(RASA), "init", "--no-prompt", "--init-dir", str(STOCK)],
                       cwd=STOCK, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)  # fmt: skip
    for old in (STOCK / "models").glob("*.tar.gz"):
        old.unlink()
    env["RASA_CACHE_DIRECTORY"] = tempfile.mkdtemp(
        prefix="stock-cache-"
    )  # from scratch
    started = time.monotonic()
    with (STOCK / "train.log").open("w") as log:
        subprocess.run([str(RASA), "train", "--fixed-model-name", "stock"], cwd=STOCK,
                       env=env, stdout=log, stderr=subprocess.STDOUT, check=True)  # fmt: skip
    info = {
        "training_s": round(time.monotonic() - started, 1),
        "model_mb": round(model.stat().st_size / 1e6, 1),
    }
    info_file.write_text(json.dumps(info))
    (STOCK / "bench-credentials.yml").write_text(STOCK_CREDENTIALS)
    return info
