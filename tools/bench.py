"""`make bench`: this assistant against a stock `rasa init` assistant, same machine.

For each assistant in turn (never both at once, so they do not share the CPU):
start it (ours with deploy/run.sh, as `make run` does; the stock one with
`rasa run`), time the start-up to the first answer, then drive its REST channel
with a closed-loop load generator: C concurrent visitors, each sending a
realistic conversation (same messages for both assistants), one message at a
time, for a fixed duration per load level. Prints requests/s, p50/p95/p99
latency and errors per level for both and the ratio; resident memory of the Rasa
server; training time and model size. Writes results/bench.json and
results/bench.png.

The stock assistant is created once in build/stock (`rasa init --no-prompt`,
default config), its training timed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common.data import read_phrasings
from common.paths import ROOT

STOCK = ROOT / "build" / "stock"
RESULTS = ROOT / "results"
PY = ROOT / ".venv" / "bin" / "python"
RASA = ROOT / ".venv" / "bin" / "rasa"

# A visitor's conversation: a greeting, four questions, thanks (no emergencies:
# those page staff). The questions are drawn from the held-out FAQ phrasings
# (tests/nlu/faq_test.yml: 270-odd wordings the model never saw in training), so
# the load is varied like real visitors' typing and not one message repeated.
# Each visitor draws with its own seeded generator: both assistants get exactly
# the same messages in the same order.
# our REST channel needs a token (the stock bot ignores the header)
BENCH_TOKEN = "bench-rest-token-" + "0" * 16
AUTH = {"Authorization": f"Bearer {BENCH_TOKEN}"}
GREETINGS = ["hi", "hello", "hey", "good morning"]
QUESTIONS_PER_CONVERSATION = 4


def held_out_questions() -> list[str]:
    return [p.text for p in read_phrasings(ROOT / "tests" / "nlu" / "faq_test.yml")]


def conversation(rng: random.Random, questions: list[str]) -> list[str]:
    return [
        rng.choice(GREETINGS),
        *rng.sample(questions, QUESTIONS_PER_CONVERSATION),
        "thanks",
    ]


@dataclass
class Level:
    concurrency: int
    requests: int
    errors: int
    empty_replies: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def drive(
    url: str, concurrency: int, seconds: float, questions: list[str]
) -> Level:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    empty = 0
    stop_at = time.monotonic() + seconds

    async def visitor(session: aiohttp.ClientSession, number: int) -> None:
        nonlocal errors, empty
        seed = f"{concurrency}-{number}"
        rng = random.Random(seed)  # noqa: S311 - a load pattern, not a secret
        while time.monotonic() < stop_at:
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            for message in conversation(rng, questions):
                if time.monotonic() >= stop_at:
                    return
                started = time.perf_counter()
                try:
                    async with session.post(
                        url, json={"sender": sender, "message": message}, headers=AUTH
                    ) as r:
                        body = await r.json()
                        ok = r.status == 200 and isinstance(body, list)
                        # answered with nothing (the stock bot has no fallback reply)
                        empty += int(ok and not body)
                except Exception:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += 0 if ok else 1

    timeout = aiohttp.ClientTimeout(total=60)
    # A new connection per request, as most webhook deliveries come: the kernel
    # hands each to a free Rasa worker process. With keep-alive, the 10
    # connections split unevenly between 2 workers and the p95 at 10 visitors
    # varied from 108 to 230 ms between runs (docs/speed.md).
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=True)
    began = time.monotonic()
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await asyncio.gather(*(visitor(session, n) for n in range(concurrency)))
    elapsed = time.monotonic() - began
    return Level(
        concurrency=concurrency,
        requests=len(latencies),
        errors=errors,
        empty_replies=empty,
        seconds=round(elapsed, 2),
        rps=round(len(latencies) / elapsed, 1),
        p50_ms=round(statistics.median(latencies), 1) if latencies else float("nan"),
        p95_ms=round(percentile(latencies, 95), 1),
        p99_ms=round(percentile(latencies, 99), 1),
    )


def wait_for_answer(url: str, deadline: float, proc: subprocess.Popen) -> None:
    import urllib.request

    body = json.dumps({"sender": "bench-warmup", "message": "hi"}).encode()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"the server exited while starting (code {proc.returncode})"
            )
        try:
            request = urllib.request.Request(  # noqa: S310 - a loopback http URL
                url, data=body, headers={"Content-Type": "application/json", **AUTH}
            )
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError("the server did not answer in time")


def rss_mb(port: int) -> float:
    """Resident memory of the Rasa server listening on ``port``: its process and
    its Sanic worker processes (each loads the model), summed."""
    out = subprocess.run(
        ["pgrep", "-f", f"run .*--port {port}"], capture_output=True, text=True
    ).stdout
    total = 0.0
    for pid in out.split():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"rasa" not in cmdline or b"bash" in cmdline.split(b"\0")[0]:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match:
            total += int(match.group(1)) / 1024
    return round(total, 1)


def measure(name: str, cmd: list[str], cwd: Path, env: dict[str, str], port: int,
            levels: list[int], seconds: float, log: Path, questions: list[str]) -> dict[str, Any]:  # fmt: skip
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    print(f"\n== {name}: starting ({' '.join(cmd[:3])} ...)", flush=True)
    with log.open("w") as out:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        try:
            wait_for_answer(url, started + 600, proc)
            startup = round(time.monotonic() - started, 1)
            print(f"   first answer after {startup} s", flush=True)
            asyncio.run(drive(url, 5, 5, questions))  # warm-up
            results = []
            for concurrency in levels:
                level = asyncio.run(drive(url, concurrency, seconds, questions))
                results.append(level)
                print(f"   {concurrency:3d} visitors: {level.rps:7.1f} req/s  p50 {level.p50_ms:7.1f} ms  "
                      f"p95 {level.p95_ms:7.1f} ms  p99 {level.p99_ms:7.1f} ms  errors {level.errors}  empty {level.empty_replies}", flush=True)  # fmt: skip
            memory = rss_mb(port)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    return {
        "startup_s": startup,
        "rss_mb": memory,
        "levels": [asdict(x) for x in results],
    }


def ensure_stock() -> dict[str, Any]:
    """Create and train the stock assistant once; returns its training figures."""
    info_file = STOCK / "bench-training.json"
    models = (
        sorted((STOCK / "models").glob("*.tar.gz"))
        if (STOCK / "models").is_dir()
        else []
    )
    if models and info_file.is_file():
        return dict(json.loads(info_file.read_text()))
    STOCK.mkdir(parents=True, exist_ok=True)
    print(
        "Creating the stock assistant (rasa init --no-prompt, default config) ...",
        flush=True,
    )
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    with (STOCK / "init.log").open("w") as log:
        subprocess.run([str(RASA), "init", "--no-prompt", "--init-dir", str(STOCK)], cwd=STOCK,
                       env=env, stdout=log, stderr=subprocess.STDOUT, check=True)  # fmt: skip
    for model in (STOCK / "models").glob("*.tar.gz"):
        model.unlink()
    env["RASA_CACHE_DIRECTORY"] = tempfile.mkdtemp(
        prefix="stock-cache-"
    )  # a full training
    started = time.monotonic()
    with (STOCK / "train.log").open("w") as log:
        subprocess.run([str(RASA), "train", "--fixed-model-name", "stock"], cwd=STOCK, env=env,
                       stdout=log, stderr=subprocess.STDOUT, check=True)  # fmt: skip
    info = {
        "training_s": round(time.monotonic() - started, 1),
        "model_mb": round((STOCK / "models" / "stock.tar.gz").stat().st_size / 1e6, 1),
    }
    info_file.write_text(json.dumps(info))
    return info


def chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ours, stock = report["ours"]["levels"], report["stock"]["levels"]
    labels = [str(level["concurrency"]) for level in ours]
    x = range(len(labels))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.bar(
        [i - 0.2 for i in x],
        [lv["rps"] for lv in ours],
        0.4,
        label="this assistant",
        color="#0b5394",
    )
    left.bar(
        [i + 0.2 for i in x],
        [lv["rps"] for lv in stock],
        0.4,
        label="stock rasa init",
        color="#9aa5b1",
    )
    left.set_xticks(list(x), labels)
    left.set_xlabel("concurrent visitors")
    left.set_ylabel("requests / s")
    left.set_title("Throughput")
    left.legend()
    right.plot(
        labels,
        [lv["p95_ms"] for lv in ours],
        "o-",
        label="this assistant p95",
        color="#0b5394",
    )
    right.plot(
        labels, [lv["p95_ms"] for lv in stock], "o-", label="stock p95", color="#9aa5b1"
    )
    right.axhline(150, linestyle="--", color="#b42318", label="goal at 10: 150 ms")
    right.set_xlabel("concurrent visitors")
    right.set_ylabel("latency p95 (ms)")
    right.set_title("Latency")
    right.legend()
    fig.suptitle(f"make bench on {report['machine']['cpus']} cores, {report['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=20.0, help="per load level")
    parser.add_argument("--no-uncached", dest="uncached", action="store_false",
                        help="skip the run of this assistant with the inference cache off")  # fmt: skip
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "logs").mkdir(exist_ok=True)

    from tools.model_fingerprint import fingerprint

    model = ROOT / "models" / f"clonazepam-{fingerprint()}.tar.gz"
    if not model.is_file():
        print(
            f"bench: no model for the current data ({model.name}): run `make train`",
            file=sys.stderr,
        )
        return 2
    train_info = (
        json.loads((RESULTS / "train.json").read_text())
        if (RESULTS / "train.json").is_file()
        else {}
    )
    stock_info = ensure_stock()

    questions = held_out_questions()
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    base = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # the load comes from one address and floods conversations on purpose
        "REST_API_TOKEN": BENCH_TOKEN,
        "RATE_LIMIT_PER_ADDRESS": "0",
        "RATE_LIMIT_PER_CONVERSATION": "0",
    }

    def ours_run(name: str, tag: str, extra: dict[str, str]) -> dict[str, Any]:
        port = free_port()
        env = {**base, "RASA_PORT": str(port), "ACTION_PORT": str(free_port()),
               "WEB_PORT": str(free_port()), "TRACKER_DB": str(tmp / f"{tag}-tracker.sqlite3"),
               "LOCK_DB": str(tmp / f"{tag}-locks.sqlite3"),
               "HANDOFF_DB_URL": f"sqlite:///{tmp / f'{tag}-handoffs.sqlite3'}", **extra}  # fmt: skip
        return measure(name, ["deploy/run.sh"], ROOT, env, port, levels, args.seconds,
                       RESULTS / "logs" / f"bench-{tag}.log", questions)  # fmt: skip

    ours = ours_run("this assistant (make run)", "ours", {})
    # The same, with the inference cache off: how much of the gain is the cache.
    uncached = (
        ours_run("this assistant, inference cache off", "ours-uncached", {"INFERENCE_CACHE_SIZE": "0"})
        if args.uncached
        else None
    )  # fmt: skip
    stock_port = free_port()
    stock = measure("stock rasa init", [str(RASA), "run", "--model", "models/stock.tar.gz", "--port",
                    str(stock_port)], STOCK, base, stock_port, levels, args.seconds,
                    RESULTS / "logs" / "bench-stock.log", questions)  # fmt: skip

    ours["training_s"] = train_info.get("seconds")
    ours["model_mb"] = (
        round(train_info["bytes"] / 1e6, 1)
        if "bytes" in train_info
        else round(model.stat().st_size / 1e6, 1)
    )
    stock.update(stock_info)

    def ratios_of(mine: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"concurrency": o["concurrency"], "throughput_ratio": round(o["rps"] / s["rps"], 2) if s["rps"] else None,
             "p95_ratio": round(o["p95_ms"] / s["p95_ms"], 2) if s["p95_ms"] else None}
            for o, s in zip(mine["levels"], stock["levels"], strict=True)
        ]  # fmt: skip

    ratios = ratios_of(ours)
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "seconds_per_level": args.seconds,
        "messages": {
            "greetings": GREETINGS,
            "questions": "tests/nlu/faq_test.yml (held out)",
            "distinct_questions": len(questions),
            "questions_per_conversation": QUESTIONS_PER_CONVERSATION,
        },
        "ours": ours,
        "stock": stock,
        "ratios": ratios,
    }
    if uncached is not None:
        report["ours_cache_off"] = uncached
        report["ratios_cache_off"] = ratios_of(uncached)
    (RESULTS / "bench.json").write_text(json.dumps(report, indent=2))
    chart(report, RESULTS / "bench.png")

    print(f"\n{'visitors':>8} | {'ours req/s':>10} {'p50':>7} {'p95':>7} {'p99':>7} {'err':>4} | "
          f"{'stock req/s':>11} {'p95':>7} {'err':>4} | {'ratio':>5}")  # fmt: skip
    for o, s, r in zip(ours["levels"], stock["levels"], ratios, strict=True):
        print(f"{o['concurrency']:8d} | {o['rps']:10.1f} {o['p50_ms']:7.1f} {o['p95_ms']:7.1f} {o['p99_ms']:7.1f} "
              f"{o['errors']:4d} | {s['rps']:11.1f} {s['p95_ms']:7.1f} {s['errors']:4d} | {r['throughput_ratio']:5}")  # fmt: skip
    if uncached is not None:
        print("cache off:")
        for o, r in zip(uncached["levels"], report["ratios_cache_off"], strict=True):
            print(f"{o['concurrency']:8d} | {o['rps']:10.1f} {o['p50_ms']:7.1f} {o['p95_ms']:7.1f} {o['p99_ms']:7.1f} "
                  f"{o['errors']:4d} | {'':>11} {'':>7} {'':>4} | {r['throughput_ratio']:5}")  # fmt: skip
    at10 = next(
        (
            r
            for r, o in zip(ratios, ours["levels"], strict=True)
            if o["concurrency"] == 10
        ),
        None,
    )
    if at10 is not None:
        level = next(o for o in ours["levels"] if o["concurrency"] == 10)
        met = (
            (at10["throughput_ratio"] or 0) >= 3
            and level["p95_ms"] < 150
            and level["errors"] == 0
        )
        print(
            f"goal at 10 visitors (>= 3x stock, p95 < 150 ms, no errors): {'met' if met else 'NOT met'}"
        )
    print(
        f"start-up to first answer: ours {ours['startup_s']} s, stock {stock['startup_s']} s"
    )
    print(
        f"resident memory (Rasa server, all workers): ours {ours['rss_mb']} MB, stock {stock['rss_mb']} MB"
    )
    print(f"training: ours {ours['training_s']} s, stock {stock['training_s']} s; "
          f"model: ours {ours['model_mb']} MB, stock {stock['model_mb']} MB")  # fmt: skip
    print("Figures: results/bench.json, chart: results/bench.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
