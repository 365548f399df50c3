"""Where the time goes per message on the uncached path, by component.

``python -m tools.bench.profile [--messages 300]`` loads the model the way the
Rasa server does (the settings, rasa_server's patches with the inference
caches, endpoints.yml's SQLite conversation and lock stores, a real action
server), then handles never-twice texts (first without the profiler, for the
real time per message, then others) (tools/bench/pools.py: distinct, so
the NLU cache and DIET's and the ResponseSelector's forward-pass caches never
hit; TED's may, as in the server) one at a time under cProfile, six messages
per conversation, after a short warm-up. It prints, per message, the time of
each component (the NLU pipeline's components, the dialogue policies,
TensorFlow's forward passes, the conversation and lock stores, the action
server calls) and how often each runs, and writes results/profile.json and
results/profile.txt (the 60 costliest functions by cumulative time) and
results/profile.pstats (for ``python -m pstats``).

Why not py-spy under the bench's load: it is not installed here (no
py-spy in requirements/lock.txt). This profile is of one process with one
visitor; how the Sanic workers share the load comes from the bench's CPU
seconds per process (results/bench.json, ``cpu_s``).
Profiling adds overhead to every Python call, so the absolute times are
higher than the server's; the shares are what count.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import os
import pstats
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from common.paths import ROOT
from tools.bench import pools
from tools.bench.servers import free_port

RESULTS = ROOT / "results"

#: component -> groups of (file suffix, function); a group's time is its
#: costliest match (wrappers include what they wrap), a component's the sum
COMPONENTS: dict[str, list[tuple[str, str]]] = {
    "whole message (Agent.handle_message)": [("rasa/core/agent.py", "handle_message")],
    "NLU pipeline (parse_message)": [("rasa/core/processor.py", "parse_message")],
    "SpacyNLP (spaCy doc)": [("rasa/nlu/utils/spacy_utils.py", "process")],
    "SpacyTokenizer": [("rasa/nlu/tokenizers/tokenizer.py", "process")],
    "SpacyFeaturizer": [("dense_featurizer/spacy_featurizer.py", "process")],
    "LexicalSyntacticFeaturizer": [("lexical_syntactic_featurizer.py", "process")],
    "CountVectorsFeaturizer (x2: words, char n-grams)": [("count_vectors_featurizer.py", "process")],
    "DIETClassifier": [("rasa/nlu/classifiers/diet_classifier.py", "process")],
    "ResponseSelector": [("rasa/nlu/selectors/response_selector.py", "process")],
    "TopicScorer (sentence encoder)": [("rasa_server/nlu/topic_scorer.py", "process")],
    "  of which: encoding the message": [("rasa_server/nlu/encoder.py", "encode_batched")],
    "TopicFallback": [("rasa_server/nlu/topic_fallback.py", "process")],
    "SafetyNet + UrgentContext": [("safety_net/component.py", "process"), ("safety_net/urgent_context.py", "process")],
    "FallbackClassifier": [("fallback_classifier.py", "process")],
    "policies (predict_next_with_tracker_if_should)": [("rasa/core/processor.py", "predict_next_with_tracker_if_should")],
    "TEDPolicy": [("rasa/core/policies/ted_policy.py", "predict_action_probabilities")],
    "RulePolicy": [("rasa/core/policies/rule_policy.py", "predict_action_probabilities")],
    "MemoizationPolicy": [("rasa/core/policies/memoization.py", "predict_action_probabilities")],
    "tracker featurization for TED": [("rasa/core/featurizers/tracker_featurizers.py", "create_state_features")],
    "TensorFlow forward passes (cache misses)": [("rasa/utils/tensorflow/models.py", "run_inference")],
    "graph runs (dask, components included)": [("rasa/engine/runner/dask.py", "run")],
    "graph nodes (GraphNode.__call__)": [("rasa/engine/graph.py", "__call__")],
    "custom actions (RemoteAction.run)": [("rasa/core/actions/action.py", "run")],
    "  of which: response check (jsonschema.validate)": [("rasa/core/actions/action.py", "_validate_action_result")],
    "  of which: HTTP to the action server (client side)": [("rasa/utils/endpoints.py", "request")],
    "conversation store: retrieve": [("rasa_server/stores/tracker_guard.py", "retrieve")],
    "conversation store: save": [("rasa_server/stores/tracker_guard.py", "save")],
    "lock store (acquire + release)": [("rasa_server/stores/sqlite_lock_store.py", "lock")],
    "waiting for I/O (event loop select)": [("selectors.py", "select")],
}  # fmt: skip


def component_times(stats: pstats.Stats, messages: int) -> list[dict[str, Any]]:
    """Per message: each component's cumulative ms and calls."""
    table: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    out = []
    for name, groups in COMPONENTS.items():
        ms = calls = 0.0
        for suffix, function in groups:
            matches = [
                (v[3], v[1])
                for (file, _, func), v in table.items()
                if func == function and file.endswith(suffix)
            ]
            if matches:
                cum, n = max(matches)
                ms, calls = ms + cum * 1000, calls + n
        out.append(
            {
                "component": name,
                "ms_per_message": round(ms / messages, 2),
                "calls_per_message": round(calls / messages, 2),
            }
        )
    return out


def start_action_server(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "actions.server", "--port", env["ACTION_PORT"]],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(120):
        try:
            url = f"http://127.0.0.1:{env['ACTION_PORT']}/health"
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"{log}: the action server did not start")


async def run(model: Path, plain: list[str], texts: list[str], warmup: list[str]) -> dict[str, Any]:  # fmt: skip
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from rasa_server import patches
    from rasa_server import settings as settings_module

    # the server's log level (deploy/servers.sh: INFO); unset, structlog
    # prints every DEBUG event and the profile measures the logging
    configure_logging_and_warnings(logging.INFO)
    configure_structlog(logging.INFO)
    patches.apply(settings_module.load(os.environ))
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    agent = await load_agent(model_path=str(model), endpoints=endpoints)

    async def say(number: int, text: str, tag: str) -> None:
        sender = f"profile-{tag}-{number // pools.NEVER_TWICE_PER_CONVERSATION}"
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))

    for number, text in enumerate(warmup):
        await say(number, text, "warm")
    # first without the profiler (its overhead is per Python call): real times
    wall, cpu = time.perf_counter(), time.process_time()
    for number, text in enumerate(plain):
        await say(number, text, "plain")
    out: dict[str, Any] = {
        "plain_wall_s": time.perf_counter() - wall,
        "plain_cpu_s": time.process_time() - cpu,
    }
    profile = cProfile.Profile()
    wall, cpu = time.perf_counter(), time.process_time()
    profile.enable()
    for number, text in enumerate(texts):
        await say(number, text, "run")
    profile.disable()
    out.update(profile=profile, wall_s=time.perf_counter() - wall, cpu_s=time.process_time() - cpu)  # fmt: skip
    return out


#: deploy/servers.sh's thread settings, one thread each
THREAD_SETTINGS = (
    "TF_INTRA_OP_PARALLELISM_THREADS",
    "TF_INTER_OP_PARALLELISM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.profile")
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args(argv)
    from tools.model_fingerprint import fingerprint

    model = ROOT / "models" / f"clonazepam-{fingerprint()}.tar.gz"
    if not model.is_file():
        print(f"{model.relative_to(ROOT)}: no model: run `make train`", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="profile-"))
    # as deploy/servers.sh sets them (unless set here): one compute thread.
    # OpenBLAS reads its setting when numpy loads: this must come first.
    for key in THREAD_SETTINGS:
        os.environ.setdefault(key, "1")
    os.environ.update(
        {
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            "ACTION_PORT": str(free_port()),
            "ACTION_SERVER_TOKEN": "profile-action-token-" + "0" * 16,
            "TRACKER_DB": str(tmp / "tracker.sqlite3"),
            "LOCK_DB": str(tmp / "locks.sqlite3"),
            "HANDOFF_DB_URL": f"sqlite:///{tmp / 'handoffs.sqlite3'}",
        }
    )
    os.environ["ACTION_SERVER_URL"] = f"http://127.0.0.1:{os.environ['ACTION_PORT']}/webhook"  # fmt: skip
    from rasa.utils.tensorflow.environment import setup_tf_environment

    setup_tf_environment()
    questions = pools.held_out_questions()
    stream = pools.never_twice(2 * args.messages, pools.base_phrasings(), pools.repeated_texts(questions))  # fmt: skip
    plain, texts = stream[: args.messages], stream[args.messages :]
    warmup = pools.repeated_texts(questions)[:12]
    RESULTS.mkdir(exist_ok=True)
    action = start_action_server(dict(os.environ), tmp / "action-server.log")
    try:
        result = asyncio.run(run(model, plain, texts, warmup))
    finally:
        action.terminate()
        action.wait(timeout=30)
    profile, wall, cpu = result["profile"], result["wall_s"], result["cpu_s"]
    stats = pstats.Stats(profile)
    stats.dump_stats(str(RESULTS / "profile.pstats"))
    rows = component_times(stats, len(texts))
    with (RESULTS / "profile.txt").open("w") as out:
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(60)
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "messages": len(texts),
        "without_profiler": {
            "wall_ms_per_message": round(result["plain_wall_s"] * 1000 / len(plain), 1),
            "cpu_ms_per_message": round(result["plain_cpu_s"] * 1000 / len(plain), 1),
        },
        "wall_ms_per_message": round(wall * 1000 / len(texts), 1),
        "cpu_ms_per_message": round(cpu * 1000 / len(texts), 1),
        "components": rows,
        "threads": {key: os.environ[key] for key in THREAD_SETTINGS},
    }
    (RESULTS / "profile.json").write_text(json.dumps(report, indent=2))
    bare = report["without_profiler"]
    print("threads: " + ", ".join(f"{k}={v}" for k, v in report["threads"].items()))
    print(f"{len(plain)} never-twice messages, one at a time, no profiler: "
          f"{bare['wall_ms_per_message']} ms wall, {bare['cpu_ms_per_message']} ms CPU per message")  # fmt: skip
    print(f"{len(texts)} more under cProfile: "
          f"{report['wall_ms_per_message']} ms wall, {report['cpu_ms_per_message']} ms CPU per message")  # fmt: skip
    for row in rows:
        print(f"  {row['ms_per_message']:8.2f} ms  {row['calls_per_message']:5.2f} calls  {row['component']}")  # fmt: skip
    print("(calls per message: a coroutine counts once per resume)")
    print("Details: results/profile.json, results/profile.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
