"""`make bench` (``python -m tools.bench``): this assistant beside a stock
`rasa init` assistant, same texts, same machine, one after the other.

For each assistant in turn (never both at once, so they do not share the CPU):
start it fresh (ours with deploy/run.sh, as `make run` does: action server,
Rasa server with its worker processes, page server; the stock one with
`rasa run`), time the start-up to the first answer, warm it up with a few
repeated-pool conversations, then run every measurement of the plan
(:func:`tools.bench.pools.segment_plan`):

- pools: *never twice* first (:mod:`tools.bench.pools`: distinct texts, a
  fixed number per measurement, the same texts in the same order for both
  assistants), then *repeated* (a pool of held-out questions cycled, for
  ``--seconds`` per measurement);
- channels and connection patterns: REST over persistent keep-alive
  connections, REST with a new connection per request, the widget's socket.io
  (:mod:`tools.bench.load`);
- 1, 10 and 50 visitors at once.

It also records each process's CPU seconds per measurement (how the two Sanic
workers shared the work), the whole serving stack's resident memory (highest
after any measurement), our last `make train` time (results/train.json) and
model size, and the stock assistant's (build/stock, created and trained once).

Writes results/bench.json and results/bench.png, prints each figure, the
ratios and issue 16's goals (:func:`tools.bench.stats.check_goals`), and exits
with 1 when a goal is missed (2 when it cannot run). The machine is shared and
noisy: the ratios are the figures that count. Not part of `make test`.

``--quick`` tries it in a few minutes (1 and 10 visitors, short measurements);
``--levels``, ``--pools``, ``--patterns``, ``--channels`` and ``--assistants``
choose what runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from common.paths import ROOT
from tools.bench import load, pools, report, servers, stats

RESULTS = ROOT / "results"
#: our REST channel needs a token (the stock bot ignores the header)
BENCH_TOKEN = "bench-rest-token-" + "0" * 16
AUTH = {"Authorization": f"Bearer {BENCH_TOKEN}"}
STARTUP_LIMIT_S = 600.0


def csv(allowed: Sequence[str]) -> Callable[[str], list[str]]:
    def parse(raw: str) -> list[str]:
        items = [x.strip() for x in raw.split(",") if x.strip()]
        wrong = [x for x in items if x not in allowed]
        if wrong or not items:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
        return items

    return parse


def levels(raw: str) -> list[int]:
    try:
        out = [int(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("visitor counts, e.g. 1,10,50") from None
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError("visitor counts, e.g. 1,10,50")
    return out


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description="This assistant vs a stock rasa init one (issue 16).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 and 10 visitors, short measurements: to try it",
    )
    parser.add_argument("--levels", type=levels, help="visitors at once (1,10,50)")
    parser.add_argument("--pools", type=csv(pools.POOLS), default=list(pools.POOLS))
    parser.add_argument(
        "--channels", type=csv(pools.CHANNELS), default=list(pools.CHANNELS)
    )
    parser.add_argument(
        "--patterns", type=csv(pools.PATTERNS), default=list(pools.PATTERNS)
    )
    parser.add_argument(
        "--assistants", type=csv(("ours", "stock")), default=["ours", "stock"]
    )
    parser.add_argument(
        "--seconds", type=float, help="per repeated-pool measurement (15; quick 5)"
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=300.0,
        help="longest never-twice measurement",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "bench.json")  # fmt: skip
    args = parser.parse_args(argv)
    args.levels = args.levels or ([1, 10] if args.quick else [1, 10, 50])
    args.seconds = args.seconds or (5.0 if args.quick else 15.0)
    return args


def run_assistant(
    name: str,
    server: servers.Server,
    port: int,
    plan: list[dict[str, Any]],
    texts: list[list[str]],
    questions: list[str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    rest = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    ws = f"ws://127.0.0.1:{port}"
    print(f"\n== {name}", flush=True)
    try:
        startup = server.wait_for_answer(rest, AUTH, STARTUP_LIMIT_S)
        print(f"   first answer {startup} s after the start", flush=True)
        warm = {
            "channel": "rest",
            "pattern": "persistent",
            "pool": "repeated",
            "visitors": 5,
        }
        asyncio.run(load.rest_segment(rest, AUTH, warm, load.Feed("repeated", 5, questions=questions), 3))  # fmt: skip
        peak = servers.memory(server.session)
        segments = []
        for spec, mine in zip(plan, texts, strict=True):
            visitors = int(spec["visitors"])
            feed = load.Feed(spec["pool"], visitors, texts=mine, questions=questions)
            limit = args.max_seconds if spec["pool"] == "never_twice" else args.seconds
            before = servers.cpu_seconds(server.session)
            busy, client = servers.machine_busy_seconds(), time.process_time()
            if spec["channel"] == "rest":
                seg = asyncio.run(load.rest_segment(rest, AUTH, spec, feed, limit))
            else:
                seg = asyncio.run(load.socketio_segment(ws, spec, feed, limit))
            seg.cpu_s = servers.cpu_delta(before, servers.cpu_seconds(server.session))
            # the noise: the load generator's CPU, and everything else's (a
            # training job on the shared machine shows here)
            seg.cpu_s["load-generator"] = round(time.process_time() - client, 2)
            seg.cpu_s["other-processes"] = round(
                servers.machine_busy_seconds() - busy - sum(seg.cpu_s.values()), 2
            )
            if spec["pool"] == "never_twice" and seg.requests < len(mine):
                print(
                    f"   (stopped after {args.max_seconds:g} s: {seg.requests} of {len(mine)} texts sent)"
                )
            segments.append(seg.as_dict())
            print(f"   {seg.pool:<11} {report.label(spec):<16} {visitors:3d} visitors: {seg.rps:7.1f} req/s  "
                  f"p50 {seg.p50_ms:6.0f}  p95 {seg.p95_ms:6.0f}  p99 {seg.p99_ms:6.0f} ms  "
                  f"errors {seg.errors}  empty {seg.empty_replies}  ({seg.requests} in {seg.seconds:g} s)", flush=True)  # fmt: skip
            now = servers.memory(server.session)
            if now["rss_mib"] > peak["rss_mib"]:
                peak = now
    finally:
        server.stop()
    return {"startup_s": startup, "memory": peak, "segments": segments}


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "logs").mkdir(exist_ok=True)
    from tools.model_fingerprint import fingerprint

    model = ROOT / "models" / f"clonazepam-{fingerprint()}.tar.gz"
    if "ours" in args.assistants and not model.is_file():
        print(f"{model.relative_to(ROOT)}: no model for the current data: run `make train`", file=sys.stderr)  # fmt: skip
        return 2
    stock_info = servers.ensure_stock() if "stock" in args.assistants else {}

    plan = pools.segment_plan(args.levels, args.pools, args.channels, args.patterns)
    questions = pools.held_out_questions()
    stream = pools.never_twice(
        pools.needed(plan, args.quick),
        pools.base_phrasings(),
        pools.repeated_texts(questions),
    )
    texts = pools.assign(plan, stream, args.quick)
    print(f"{len(plan)} measurements per assistant; {len(stream)} never-twice texts, "
          f"{len(questions)} repeated-pool questions", flush=True)  # fmt: skip

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
    results: dict[str, Any] = {}
    if "ours" in args.assistants:
        port = servers.free_port()
        env = {**base, "RASA_PORT": str(port), "ACTION_PORT": str(servers.free_port()),
               "RASA_BACKEND_PORT": str(servers.free_ports(2)),
               "WEB_PORT": str(servers.free_port()), "TRACKER_DB": str(tmp / "tracker.sqlite3"),
               "LOCK_DB": str(tmp / "locks.sqlite3"), "LOG_DIR": str(RESULTS / "logs" / "bench-ours"),
               "HANDOFF_DB_URL": f"sqlite:///{tmp / 'handoffs.sqlite3'}"}  # fmt: skip
        server = servers.Server(
            ["deploy/run.sh"], ROOT, env, RESULTS / "logs" / "bench-ours.log"
        )
        results["ours"] = run_assistant("this assistant (deploy/run.sh, as make run)", server, port, plan, texts, questions, args)  # fmt: skip
        train = (
            json.loads((RESULTS / "train.json").read_text())
            if (RESULTS / "train.json").is_file()
            else {}
        )
        # the last `make train`'s time, if it trained this model (a
        # retrain that Rasa's cache shortened is not told apart)
        same = train.get("model") == str(model.relative_to(ROOT))
        results["ours"]["training_s"] = train.get("seconds") if same else None
        results["ours"]["model_mb"] = round(model.stat().st_size / 1e6, 1)  # fmt: skip
    if "stock" in args.assistants:
        port = servers.free_port()
        cmd = [str(servers.RASA), "run", "--model", "models/stock.tar.gz", "--port", str(port),
               "--credentials", "bench-credentials.yml"]  # fmt: skip
        server = servers.Server(
            cmd, servers.STOCK, base, RESULTS / "logs" / "bench-stock.log"
        )
        results["stock"] = run_assistant("stock rasa init (rasa run)", server, port, plan, texts, questions, args)  # fmt: skip
        results["stock"].update(stock_info)

    ours = results.get("ours", {})
    stock = results.get("stock", {})
    goals = stats.check_goals(
        ours.get("segments", []),
        stock.get("segments", []),
        ours.get("memory", {}).get("rss_mib"),
        ours.get("startup_s"),
    )
    out = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "system": platform.platform(), "load_average": os.getloadavg()},
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "pools": {"repeated": "tests/nlu/faq_test.yml (held out), greeting + 4 questions + thanks",
                  "repeated_questions": len(questions), "never_twice_texts": len(stream),
                  "never_twice_first": stream[:3]},
        "socketio_quiet_s": load.QUIET_S,
        **results,
        "ratios": [
            {**{k: o[k] for k in ("pool", "channel", "pattern", "visitors")},
             # None where the stock side erred (stats.segment_ratio)
             "throughput": stats.segment_ratio(o, s), "p95": stats.segment_ratio(o, s, "p95_ms"),
             "stock_errors": s["errors"]}
            for o in ours.get("segments", [])
            if (s := stats.find(stock.get("segments", []), o["channel"], o["pattern"], o["pool"], o["visitors"]))
        ],
        "goals": [{"name": g.name, "value": g.value, "target": g.target, "met": g.met, "note": g.note} for g in goals],
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    chart_path = args.out.with_suffix(".png")
    if ours:
        report.chart(out, chart_path)

    print()
    print(report.table(ours.get("segments", []), stock.get("segments", [])))
    split = report.worker_split(ours.get("segments", []))
    if split:
        print("\nCPU per Rasa worker process (this assistant):\n" + split)
    for name, r in (("ours", ours), ("stock", stock)):
        if r:
            m = r["memory"]
            parts = ", ".join(
                f"{k} {v['rss_mib']:.0f}" for k, v in m["processes"].items()
            )
            print(f"{name}: first answer after {r['startup_s']} s; memory {m['rss_mib']:.0f} MiB RSS, "
                  f"{m['pss_mib']:.0f} MiB PSS ({parts}); "
                  + (f"training {r['training_s']} s; " if r.get("training_s") is not None
                     else "training: no `make train` of this model recorded; ")
                  + f"model {r.get('model_mb')} MB")  # fmt: skip
    print("\nIssue 16's goals:")
    for g in goals:
        print("  " + g.line())
    print(f"Figures: {args.out}" + (f", chart: {chart_path}" if ours else ""))
    return 0 if all(g.met for g in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
