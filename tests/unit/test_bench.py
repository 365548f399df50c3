"""tools/bench: the never-twice texts never repeat and are the same for both
assistants, the percentile is the nearest rank, and issue 16's goal check
fails on a miss and passes on a hit. No servers, no network."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.bench import load, pools
from tools.bench.report import table
from tools.bench.stats import check_goals, percentile, summarise

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_never_twice_has_no_repeats_across_a_whole_run() -> None:
    questions = pools.held_out_questions()
    plan = pools.segment_plan([1, 10, 50])
    stream = pools.never_twice(
        pools.needed(plan), pools.base_phrasings(), pools.repeated_texts(questions)
    )
    sent = [t for texts in pools.assign(plan, stream) for t in texts]
    assert len(sent) >= 2500
    keys = [pools.text_key(t) for t in sent]
    assert len(set(keys)) == len(keys)
    # nor any text of the repeated pool, a greeting, thanks or the warm-up
    assert not set(keys) & {pools.text_key(t) for t in pools.repeated_texts(questions)}


def test_never_twice_is_the_same_list_for_both_assistants() -> None:
    bases = pools.base_phrasings()
    first = pools.never_twice(3000, bases, ["hi"])
    second = pools.never_twice(3000, list(bases), ["hi"])
    assert first == second
    plan = pools.segment_plan([1, 10], pools=["never_twice"])
    assert pools.assign(plan, first, quick=True) == pools.assign(
        plan, second, quick=True
    )


def test_never_twice_does_not_depend_on_the_process() -> None:
    """Both assistants' texts come from one list in one run, but a later run
    (or `--assistants stock` alone) must get the same texts: no set order or
    string hashing may leak into the stream."""
    script = (
        "import hashlib; from tools.bench import pools;"
        "q = pools.held_out_questions();"
        "t = pools.never_twice(3000, pools.base_phrasings(), pools.repeated_texts(q));"
        "print(hashlib.sha256('\\n'.join(t).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1, digests


def test_never_twice_treats_case_and_punctuation_as_the_same_text() -> None:
    out = pools.never_twice(
        3, ["What is it?", "what is it", "Is it safe"], lead_ins=("", "hi, ")
    )
    assert len(out) == 3 and "what is it" not in out
    assert len({pools.text_key(t) for t in out}) == 3


def test_never_twice_says_when_it_cannot_give_enough() -> None:
    with pytest.raises(ValueError, match="only 2 distinct"):
        pools.never_twice(3, ["a b", "c d"], lead_ins=("",))


def test_emergencies_and_forms_are_never_sent() -> None:
    bases = pools.base_phrasings()
    urgent = pools.read_phrasings(pools.NLU_TESTS / "urgent_test.yml")
    assert urgent and not {p.text for p in urgent} & set(bases)


def test_slices_refuse_to_reuse_texts() -> None:
    assert pools.slices(["a", "b", "c"], [1, 0, 2]) == [["a"], [], ["b", "c"]]
    with pytest.raises(ValueError):
        pools.slices(["a", "b"], [2, 1])


def test_never_twice_feed_sends_each_text_once_then_stops() -> None:
    feed = load.Feed("never_twice", 2, texts=["a", "b", "c"])
    got = [feed.next(0), feed.next(1), feed.next(0), feed.next(1)]
    assert [g[1] for g in got if g] == ["a", "b", "c"] and got[-1] is None


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 95) == 95.0
    assert percentile(values, 50) == 50.0
    assert percentile(values, 100) == 100.0
    assert percentile(list(reversed(values)), 99) == 99.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([float(v) for v in range(1, 21)], 95) == 19.0


def test_percentile_of_nothing_is_nan() -> None:
    assert percentile([], 95) != percentile([], 95)


def segment(channel: str, rps: float, p95: float, errors: int = 0) -> dict[str, Any]:
    spec = {
        "channel": channel,
        "pattern": "persistent",
        "pool": "never_twice",
        "visitors": 10,
    }
    seg = summarise(spec, [p95] * 20, errors, 0, 20 / rps)
    return seg.as_dict()  # fmt: skip


def goals_for(
    ratio: float, p95: float, errors: int, mib: float, startup: float
) -> list[Any]:
    ours = [
        segment("rest", 30 * ratio, p95, errors),
        segment("socketio", 30 * ratio, p95, errors),
    ]
    stock = [segment("rest", 30, 900), segment("socketio", 30, 900)]
    return check_goals(ours, stock, mib, startup)  # fmt: skip


def test_the_goal_check_passes_on_a_hit() -> None:
    goals = goals_for(ratio=3.2, p95=120, errors=0, mib=1800, startup=15)
    assert all(g.met for g in goals), [g.line() for g in goals if not g.met]


@pytest.mark.parametrize(
    "change, missed",
    [
        ({"ratio": 2.9}, "throughput"),
        ({"p95": 150}, "p95"),
        ({"errors": 1}, "errors"),
        ({"mib": 2048}, "memory"),
        ({"startup": 20}, "start-up"),
    ],
)
def test_the_goal_check_fails_on_a_miss(change: dict[str, float], missed: str) -> None:
    hit = {"ratio": 3.2, "p95": 120, "errors": 0, "mib": 1800, "startup": 15}
    goals = goals_for(**{**hit, **change})  # type: ignore[arg-type]
    failed = [g.name for g in goals if not g.met]
    assert failed and all(missed in name for name in failed), failed


def test_a_goal_not_measured_is_not_met() -> None:
    ours = [segment("rest", 100, 100)]  # no socket.io, no stock, no memory
    goals = check_goals(ours, [], None, None)
    assert not any(g.met for g in goals if "throughput" in g.name)
    assert not any(g.met for g in goals if "socketio" in g.name)


def test_a_ratio_against_a_stock_measurement_with_errors_is_void() -> None:
    # stock socket.io replies that never come wait out the client's timeout:
    # stock's throughput collapses, and ours looks 10 times faster
    ours = [segment("rest", 100, 100), segment("socketio", 100, 100)]
    stock = [segment("rest", 30, 900), segment("socketio", 10, 900, errors=2)]
    goals = {g.name.split(" (")[0]: g for g in check_goals(ours, stock, 1800, 15)}
    assert goals["rest throughput vs stock"].met
    void = goals["socketio throughput vs stock"]
    assert not void.met and void.value is None
    assert "void: the stock assistant had 2 error(s)" in void.line()
    assert "void" in table(ours, stock).splitlines()[-1]


def test_free_ports_are_consecutive_bindable_and_below_the_outgoing_range() -> None:
    import socket

    from tools.bench.servers import free_ports

    first = free_ports(3)
    assert first >= 20_000 and first + 2 < 32_768
    with socket.socket() as a, socket.socket() as b, socket.socket() as c:
        for sock, port in ((a, first), (b, first + 1), (c, first + 2)):
            sock.bind(("127.0.0.1", port))
        # with the three held, no two consecutive free ports among them
        with pytest.raises(RuntimeError, match="no 2 consecutive free ports"):
            free_ports(2, low=first, high=first + 3)
