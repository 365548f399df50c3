"""deploy/load_balancer.py: the nginx configuration spreads requests, not
connections, over the Rasa servers, and words its own refusals as JSON; and
the bench counts every process of that stack. No nginx, no servers: the
running balancer is tested in tests/system (test_rest.py, test_scale_out.py)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from deploy.load_balancer import main, render
from tools.bench.report import worker_split

SERVERS = ["127.0.0.1:5006", "127.0.0.1:5007"]


def upstream(conf: str, name: str) -> str:
    match = re.search(r"upstream " + name + r" \{(.*?)\n    \}", conf, re.S)
    assert match, name
    return match.group(1)


def test_requests_go_to_the_least_busy_server_and_polling_sticks(
    tmp_path: Path,
) -> None:
    conf = render("5005", SERVERS, tmp_path, tmp_path / "access.log", workers="1")
    for name in ("rasa", "rasa_ws"):
        block = upstream(conf, name)
        assert "least_conn;" in block and all(s in block for s in SERVERS)
    assert "keepalive" in upstream(conf, "rasa")  # kept-alive pool to the servers
    assert "hash $remote_addr consistent;" in upstream(conf, "rasa_sticky")
    assert "least_conn" not in upstream(conf, "rasa_sticky")
    assert re.search(r"map \$arg_transport \$socketio_upstream \{\s+websocket rasa_ws;\s+default\s+rasa_sticky;", conf)  # fmt: skip
    assert "proxy_pass http://$socketio_upstream;" in conf
    assert "worker_processes 1;" in conf


def test_its_own_refusals_are_json(tmp_path: Path) -> None:
    conf = render("5005", SERVERS, tmp_path, tmp_path / "access.log")
    bodies = dict(re.findall(r"return (\d{3}) '(.*)';", conf))
    assert set(bodies) == {"413", "503"}
    for status, body in bodies.items():
        assert json.loads(body)["error"], status
    assert "988" in json.loads(bodies["503"])["error"]
    assert "client_max_body_size 1000000;" in conf  # Sanic's own limit


@pytest.mark.parametrize(
    ("servers", "workers", "message"),
    [([], "auto", "at least one"), (SERVERS, "two", "whole number"),
     (["5006"], "auto", "needs host:port"), (SERVERS, "0", "whole number")],
)  # fmt: skip
def test_bad_settings_are_refused(
    tmp_path: Path, servers: list[str], workers: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        render("5005", servers, tmp_path, tmp_path / "a.log", workers=workers)


def test_the_command_line_says_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--listen", "5005", "--server", "5006", "--dir", str(tmp_path),
              "--access-log", str(tmp_path / "a.log")])  # fmt: skip
    assert exit_.value.code == 2
    assert "needs host:port" in capsys.readouterr().err


def test_the_bench_splits_the_work_over_run_sh_servers_and_sanic_workers() -> None:
    servers = {"pool": "never_twice", "channel": "rest", "pattern": "persistent",
               "visitors": 10, "cpu_s": {"rasa-server-11": 30.0, "rasa-server-12": 10.0,
                                         "load-balancer-13": 0.5}}  # fmt: skip
    workers = {**servers, "cpu_s": {"rasa-server-20": 1.0, "rasa-worker-21": 5.0, "rasa-worker-22": 15.0}}  # fmt: skip
    split = worker_split([servers, workers]).splitlines()
    assert "workers 75 % / 25 % of 40.0 CPU s" in split[0]
    assert "load-balancer-13 0.5 s" in split[0]
    # a server with Sanic workers: the workers, not their parent
    assert "workers 75 % / 25 % of 20.0 CPU s (rasa-server-20 1.0 s)" in split[1]
