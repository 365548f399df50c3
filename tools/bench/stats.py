"""The bench's figures and issue 16's goals, as pure functions (no servers).

A *segment* is one measurement: one assistant, one channel (``rest`` or
``socketio``), one connection pattern (``persistent``: one keep-alive
connection per visitor; ``new``: a new connection per request), one pool
(``never_twice`` or ``repeated``) and a number of visitors sending at once.
:func:`summarise` turns its latencies into requests/s and percentiles;
:func:`check_goals` compares this assistant's segments with the stock
assistant's against issue 16's goals.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

#: issue 16's goals: at 10 visitors, never twice, persistent connections, over
#: REST and over socket.io; the whole serving stack's memory; start-up
GOAL_VISITORS = 10
GOAL_POOL = "never_twice"
GOAL_PATTERN = "persistent"
GOAL_CHANNELS = ("rest", "socketio")
MIN_THROUGHPUT_RATIO = 3.0
MAX_P95_MS = 150.0
MAX_STACK_MIB = 2048.0
MAX_STARTUP_S = 20.0


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100): the smallest value
    with at least q % of the values at or below it. NaN for no values."""
    if not values:
        return float("nan")
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is not in (0, 100]")
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass
class Segment:
    """One measurement's figures."""

    channel: str
    pattern: str
    pool: str
    visitors: int
    requests: int
    errors: int
    empty_replies: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    #: socket.io: turns answered with more than one message
    multi_message_turns: int = 0
    #: CPU seconds each process of the serving stack used during the segment
    cpu_s: dict[str, float] | None = None

    def key(self) -> tuple[str, str, str, int]:
        return (self.channel, self.pattern, self.pool, self.visitors)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(
    spec: Mapping[str, Any],
    latencies_ms: Sequence[float],
    errors: int,
    empty: int,
    seconds: float,
    multi: int = 0,
) -> Segment:
    """A segment's figures from its latencies (one per request, failed ones
    included) and wall-clock seconds."""
    return Segment(
        channel=str(spec["channel"]),
        pattern=str(spec["pattern"]),
        pool=str(spec["pool"]),
        visitors=int(spec["visitors"]),
        requests=len(latencies_ms),
        errors=errors,
        empty_replies=empty,
        seconds=round(seconds, 2),
        rps=round(len(latencies_ms) / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=round(statistics.median(latencies_ms), 1)
        if latencies_ms
        else float("nan"),
        p95_ms=round(percentile(latencies_ms, 95), 1),
        p99_ms=round(percentile(latencies_ms, 99), 1),
        multi_message_turns=multi,
    )


def ratio(ours: float | None, stock: float | None) -> float | None:
    if ours is None or not stock or math.isnan(stock) or math.isnan(ours):
        return None
    return round(ours / stock, 2)


def stock_failed(stock: Mapping[str, Any] | None) -> bool:
    """Whether a stock measurement had errors, which voids its ratio.

    A stock request that errs (a socket.io reply that never comes waits out
    the client's timeout) stalls its visitor, so stock's throughput would
    fall and the ratio rise for a reason that is not speed: that ratio is
    void, never a goal met.
    """
    return bool(stock and int(stock.get("errors") or 0))


def segment_ratio(
    ours: Mapping[str, Any], stock: Mapping[str, Any], key: str = "rps"
) -> float | None:
    """ours / stock for one measurement, or None when the stock side failed."""
    if stock_failed(stock):
        return None
    return ratio(ours[key], stock[key])


@dataclass(frozen=True)
class Goal:
    """One of issue 16's goals: what was measured, the target, met or not."""

    name: str
    value: float | None
    target: str
    met: bool
    #: why there is no value, when there is a reason beyond "not measured"
    note: str = ""

    def line(self) -> str:
        shown = (
            (self.note or "not measured") if self.value is None else f"{self.value:g}"
        )
        return f"{'met   ' if self.met else 'MISSED'} {self.name}: {shown} (goal {self.target})"


def find(
    segments: Sequence[Mapping[str, Any]],
    channel: str,
    pattern: str = GOAL_PATTERN,
    pool: str = GOAL_POOL,
    visitors: int = GOAL_VISITORS,
) -> Mapping[str, Any] | None:
    for s in segments:
        if (s["channel"], s["pattern"], s["pool"], s["visitors"]) == (
            channel,
            pattern,
            pool,
            visitors,
        ):
            return s
    return None


def check_goals(
    ours: Sequence[Mapping[str, Any]],
    stock: Sequence[Mapping[str, Any]],
    stack_rss_mib: float | None,
    startup_s: float | None,
) -> list[Goal]:
    """Issue 16's goals against this run's figures. A goal that was not
    measured (a level, channel or assistant left out) is not met."""
    goals: list[Goal] = []
    where = f"{GOAL_VISITORS} visitors, {GOAL_POOL.replace('_', ' ')}, {GOAL_PATTERN}"
    for channel in GOAL_CHANNELS:
        mine, theirs = find(ours, channel), find(stock, channel)
        r = segment_ratio(mine, theirs) if mine and theirs else None
        goals.append(
            Goal(
                f"{channel} throughput vs stock ({where})",
                r,
                f">= {MIN_THROUGHPUT_RATIO:g}x",
                r is not None and r >= MIN_THROUGHPUT_RATIO,
                f"void: the stock assistant had {theirs['errors']} error(s) here"
                if mine and theirs and stock_failed(theirs)
                else "",
            )
        )
        p95 = float(mine["p95_ms"]) if mine else None
        goals.append(
            Goal(
                f"{channel} p95 ms ({where})",
                p95,
                f"< {MAX_P95_MS:g}",
                p95 is not None and not math.isnan(p95) and p95 < MAX_P95_MS,
            )
        )
        # an empty answer from this assistant is a failure too: it always replies
        failed = int(mine["errors"]) + int(mine["empty_replies"]) if mine else None
        goals.append(
            Goal(
                f"{channel} errors and empty replies ({where})",
                failed,
                "0",
                failed == 0 and bool(mine and mine["requests"]),
            )
        )
    goals.append(
        Goal(
            "serving stack resident memory MiB",
            stack_rss_mib,
            f"< {MAX_STACK_MIB:g}",
            stack_rss_mib is not None and stack_rss_mib < MAX_STACK_MIB,
        )
    )
    goals.append(
        Goal(
            "start-up to first answer s",
            startup_s,
            f"< {MAX_STARTUP_S:g}",
            startup_s is not None and startup_s < MAX_STARTUP_S,
        )
    )
    return goals
