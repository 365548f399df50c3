"""What `make bench` prints and draws (results/bench.png)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tools.bench.stats import MAX_P95_MS, find, segment_ratio, stock_failed


def label(s: Mapping[str, Any]) -> str:
    channel = "socket.io" if s["channel"] == "socketio" else "REST"
    pattern = "" if s["channel"] == "socketio" else f" {s['pattern']}"
    return f"{channel}{pattern}"


def table(ours: Sequence[Mapping[str, Any]], stock: Sequence[Mapping[str, Any]]) -> str:
    """Ours beside stock, one line per segment, with the throughput ratio."""
    head = (
        f"{'pool':<11} {'channel':<16} {'vis':>3} | {'ours req/s':>10} {'p50':>6} "
        f"{'p95':>6} {'p99':>6} {'err':>4} {'empty':>5} | {'stock req/s':>11} {'p95':>6} "
        f"{'err':>4} {'empty':>5} | {'ratio':>5}"
    )
    lines = [head, "-" * len(head)]
    for o in ours:
        s = find(stock, o["channel"], o["pattern"], o["pool"], o["visitors"])
        r = segment_ratio(o, s) if s else None
        theirs = (
            f"{s['rps']:11.1f} {s['p95_ms']:6.0f} {s['errors']:4d} {s['empty_replies']:5d}"
            if s
            else f"{'-':>11} {'-':>6} {'-':>4} {'-':>5}"
        )
        lines.append(
            f"{o['pool']:<11} {label(o):<16} {o['visitors']:3d} | {o['rps']:10.1f} "
            f"{o['p50_ms']:6.0f} {o['p95_ms']:6.0f} {o['p99_ms']:6.0f} {o['errors']:4d} "
            f"{o['empty_replies']:5d} | {theirs} | {shown_ratio(r, s):>5}"
        )
    return "\n".join(lines)


def shown_ratio(r: float | None, stock: Mapping[str, Any] | None) -> str:
    if r is not None:
        return f"{r:5.2f}"
    return "void" if stock_failed(stock) else "-"


def _serving(names: Sequence[str]) -> set[str]:
    """The processes that handle messages (tools/bench/servers.py's roles): the
    Sanic worker processes where a server forked some, else deploy/run.sh's
    Rasa servers (one worker each, behind nginx)."""
    workers = {n for n in names if n.startswith("rasa-worker")}
    return workers or {n for n in names if n.startswith("rasa-server")}


def worker_split(ours: Sequence[Mapping[str, Any]]) -> str:
    """How the Rasa server (or worker) processes shared each segment's CPU time."""
    lines = []
    for o in ours:
        cpu = o.get("cpu_s") or {}
        serving = _serving(list(cpu))
        workers = {k: v for k, v in cpu.items() if k in serving}
        total = sum(workers.values())
        if not total:
            continue
        shares = " / ".join(
            f"{100 * v / total:.0f} %" for v in sorted(workers.values(), reverse=True)
        )
        others = ", ".join(
            f"{k} {v:.1f} s" for k, v in sorted(cpu.items()) if k not in serving
        )
        lines.append(f"{o['pool']:<11} {label(o):<16} {o['visitors']:3d}: workers {shares} "
                     f"of {total:.1f} CPU s ({others})")  # fmt: skip
    return "\n".join(lines)


def chart(report: Mapping[str, Any], path: Path) -> None:
    """Throughput and p95 of both assistants, one column per pool."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ours = report["ours"].get("segments", [])
    stock = report.get("stock", {}).get("segments", [])
    pools = [
        p for p in ("never_twice", "repeated") if any(s["pool"] == p for s in ours)
    ]
    if not pools:
        return
    fig, axes = plt.subplots(2, len(pools), figsize=(7 * len(pools), 8), squeeze=False)
    for column, pool in enumerate(pools):
        mine = [s for s in ours if s["pool"] == pool]
        names = [
            f"{label(s).replace(' persistent', ' keep-alive')}\n{s['visitors']}"
            for s in mine
        ]
        theirs = [
            find(stock, s["channel"], s["pattern"], pool, s["visitors"]) for s in mine
        ]
        x = list(range(len(mine)))
        top, bottom = axes[0][column], axes[1][column]
        for axis, key in ((top, "rps"), (bottom, "p95_ms")):
            axis.bar([i - 0.2 for i in x], [s[key] for s in mine], 0.4,
                     label="this assistant", color="#0b5394")  # fmt: skip
            axis.bar([i + 0.2 for i in x], [t[key] if t else 0 for t in theirs], 0.4,
                     label="stock rasa init", color="#9aa5b1")  # fmt: skip
        top.set_ylabel("requests / s")
        top.set_title(f"{pool.replace('_', ' ')}: throughput (x: channel, visitors)")
        top.set_xticks(x, names, fontsize=6)
        top.legend(fontsize=8)
        bottom.axhline(
            MAX_P95_MS,
            linestyle="--",
            color="#b42318",
            label=f"goal at 10: {MAX_P95_MS:g} ms",
        )
        bottom.set_yscale("log")
        bottom.set_ylabel("latency p95 (ms, log)")
        bottom.set_title(f"{pool.replace('_', ' ')}: p95")
        bottom.set_xticks(x, names, fontsize=6)
        bottom.legend(fontsize=8)  # fmt: skip
    fig.suptitle(f"make bench on {report['machine']['cpus']} cores, {report['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
