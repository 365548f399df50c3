"""Conversation identity per channel, signed web sessions, REST access, rate
limits and the start-up checks of issue 14 (each failed on the code before)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from rasa_server import identity
from rasa_server.__main__ import api_arguments, prepare_environment
from rasa_server.channels.rest import MAX_METADATA_BYTES, small_metadata
from rasa_server.rate_limit import Buckets, RateLimiter, RateLimitError, check_settings
from rasa_server.settings import load

ROOT = Path(__file__).resolve().parents[2]
SECRET = b"k" * 40


@pytest.mark.parametrize(
    "channel, raw, conversation",
    [
        ("rest", "+12135550142", "rest:+12135550142"),
        ("twilio", "+12135550142", "sms:+12135550142"),
        ("twilio_whatsapp", "whatsapp:+12135550142", "whatsapp:+12135550142"),
        ("telegram", "12345", "telegram:12345"),
        ("facebook", "998877", "messenger:998877"),
        ("slack", "U123", "slack:U123"),
        ("socketio", "abc", "web:abc"),
        ("rest", "sms:+12135550142", "rest:sms:+12135550142"),
    ],
)
def test_each_channel_has_its_own_namespace(
    channel: str, raw: str, conversation: str
) -> None:
    assert identity.conversation_id(channel, raw) == conversation
    assert identity.platform_id(channel, conversation) == raw


def test_no_rest_sender_reaches_another_channels_conversation() -> None:
    others = {
        identity.conversation_id(c, "+12135550142")
        for c in identity.PREFIXES
        if c != "rest"
    } | {"whatsapp:+12135550142"}
    for forged in ["+12135550142", "sms:+12135550142", "whatsapp:+12135550142",
                   "telegram:12345", "web:abc"]:  # fmt: skip
        assert identity.conversation_id("rest", forged) not in others


class Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def name(self) -> str:
        return "recorder"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent.append(recipient_id)

    async def send_text_message(self, recipient_id: str, text: str) -> None:
        self.sent.append(recipient_id)


def test_replies_go_to_the_platforms_own_id() -> None:
    out = Recorder()
    message = UserMessage("hi", out, "+12135550142", input_channel="twilio")
    identity.namespace_message(message)
    identity.namespace_message(message)  # idempotent
    assert message.sender_id == "sms:+12135550142"
    asyncio.run(message.output_channel.send_response(message.sender_id, {"text": "x"}))
    asyncio.run(message.output_channel.send_text_message(message.sender_id, "x"))
    assert out.sent == ["+12135550142", "+12135550142"]
    rest = UserMessage("hi", CollectingOutputChannel(), "me", input_channel="rest")
    identity.namespace_message(rest)
    assert isinstance(rest.output_channel, CollectingOutputChannel)
    assert rest.sender_id == "rest:me"


def test_web_sessions_are_signed_and_checked() -> None:
    session = identity.issue_session(SECRET)
    assert identity.valid_session(session, SECRET)
    assert not identity.valid_session(session, b"x" * 40)  # another server's key
    random_part, mac = session.split(".")
    flipped = ("1" if random_part[0] == "0" else "0") + random_part[1:]
    assert not identity.valid_session(f"{flipped}.{mac}", SECRET)
    for forged in [None, "", "abc", random_part, "a" * 65, session + "0", 7]:
        assert not identity.valid_session(forged, SECRET)


def test_rest_needs_a_token_unless_bound_to_loopback() -> None:
    token = {"REST_API_TOKEN": "t" * 32}
    assert identity.rest_allowed("Bearer " + "t" * 32, token) is True
    assert identity.rest_allowed(None, token) is False
    assert identity.rest_allowed("Bearer wrong", token) is False
    assert identity.rest_allowed("Basic " + "t" * 32, token) is False
    assert identity.rest_allowed(None, {}) is None  # not configured: 503
    assert identity.rest_allowed(None, {"RASA_BOUND_TO_LOOPBACK": "0"}) is None
    assert identity.rest_allowed(None, {"RASA_BOUND_TO_LOOPBACK": "1"}) is True


def test_the_entry_point_prepares_secret_loopback_and_request_size() -> None:
    env: dict[str, str] = {}
    prepare_environment(["run", "--port", "5005"], env)
    assert len(env["WEB_SESSION_SECRET"]) >= identity.MIN_SECRET_CHARS
    assert env["RASA_BOUND_TO_LOOPBACK"] == "0"
    assert int(env["SANIC_REQUEST_MAX_SIZE"]) <= 1_000_000
    kept = {"WEB_SESSION_SECRET": "s" * 40, "SANIC_REQUEST_MAX_SIZE": "5000"}
    prepare_environment(["run", "-i", "127.0.0.1"], kept)
    assert kept["WEB_SESSION_SECRET"] == "s" * 40
    assert kept["RASA_BOUND_TO_LOOPBACK"] == "1"
    assert kept["SANIC_REQUEST_MAX_SIZE"] == "5000"
    with pytest.raises(RateLimitError):
        prepare_environment(["run"], {"RATE_LIMIT_PER_ADDRESS": "lots"})


def test_a_short_jwt_secret_is_refused() -> None:
    argv = ["run", "--enable-api", "--jwt-secret", "x"]
    with pytest.raises(ValueError, match="at least 32"):
        api_arguments(argv, load({}))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_limit_then_asks_to_wait_and_refills() -> None:
    clock = Clock()
    buckets = Buckets(6, clock)  # 6 a minute: one every 10 s
    assert [buckets.take("a") for _ in range(6)] == [0.0] * 6
    assert buckets.take("a") == pytest.approx(10.0)
    assert buckets.take("b") == 0.0  # another key has its own bucket
    clock.now += 10
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0


def test_limits_per_conversation_and_per_address_are_on_by_default() -> None:
    clock = Clock()
    limiter = RateLimiter(per_conversation=3, per_address=5, clock=clock)
    assert [limiter.check("rest:a", "1.2.3.4") for _ in range(3)] == [0, 0, 0]
    assert limiter.check("rest:a", "1.2.3.4") > 0  # the conversation's limit
    assert [limiter.check(f"rest:{i}", "5.6.7.8") for i in range(5)] == [0] * 5
    assert limiter.check("rest:new", "5.6.7.8") > 0  # the address's limit
    off = RateLimiter(per_conversation=0, per_address=0, clock=clock)
    assert all(off.check("rest:a", "1.2.3.4") == 0 for _ in range(1000))
    defaults = RateLimiter.from_env({})
    assert defaults.conversations.capacity > 0 and defaults.addresses.capacity > 0


def test_metadata_must_be_a_small_object() -> None:
    assert small_metadata({"page": "/klonopin"}) == {"page": "/klonopin"}
    assert small_metadata({"x": "y" * (MAX_METADATA_BYTES + 1)}) is None
    assert small_metadata(["list"]) is None
    assert small_metadata("text") is None


def test_cors_star_is_not_expanded_by_the_shell(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    line = next(
        line
        for line in (ROOT / "deploy/servers.sh").read_text().splitlines()
        if "read -r -a cors_origins" in line
    )
    script = f'CORS_ORIGINS="$1"; {line}; printf "%s\\n" "${{cors_origins[@]}}"'
    for value, words in [
        ("*", ["*"]),
        ("http://a, http://b", ["http://a", "http://b"]),
    ]:
        out = subprocess.run(["bash", "-c", script, "x", value], cwd=tmp_path,
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        assert out.split() == words
    for launcher in ["deploy/run.sh", "deploy/run_cluster.sh"]:
        text = (ROOT / launcher).read_text()
        assert '--cors "${cors_origins[@]}"' in text
        assert "${CORS_ORIGINS//" not in text


def test_worker_processes_share_the_buckets() -> None:
    import multiprocessing

    buckets = Buckets(5)
    context = multiprocessing.get_context("fork")  # as Sanic starts its workers
    workers = [context.Process(target=buckets.take, args=("rest:a",)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert buckets.take("rest:a") == 0.0  # the fifth
    assert buckets.take("rest:a") > 0  # the sixth: the workers' four counted


def _frozen_clock() -> float:
    return 1000.0  # no refill while the processes start one after another


def _take_many(path: str, count: int, granted: Any) -> None:
    """In a separate server process: take ``count`` tokens, count the grants."""
    buckets = Buckets(60, _frozen_clock, path=Path(path))
    granted.put(sum(buckets.take("rest:a") == 0.0 for _ in range(count)))


def test_servers_started_separately_share_the_buckets_through_the_state_file(
    tmp_path: Path,
) -> None:
    import multiprocessing

    # spawn, not fork: nothing is inherited, as with two servers run.sh starts;
    # 3 x 40 tries at a 60-a-minute bucket, at the same time: 60 granted in all
    state = tmp_path / "limits.conversations"
    context = multiprocessing.get_context("spawn")
    granted = context.Queue()
    servers = [
        context.Process(target=_take_many, args=(str(state), 40, granted))
        for _ in range(3)
    ]
    for server in servers:
        server.start()
    for server in servers:
        server.join(timeout=60)
    counts = [granted.get(timeout=10) for _ in servers]
    assert sum(counts) == 60, counts  # each on its own: 3 x 40 = 120
    assert Buckets(60, _frozen_clock, path=state).take("rest:a") > 0  # none left
    assert Buckets(60, _frozen_clock, path=state).take("rest:b") == 0.0


def test_a_state_file_from_an_earlier_boot_does_not_block_a_key(tmp_path: Path) -> None:
    clock = Clock()
    state = tmp_path / "limits.addresses"
    spent = Buckets(2, clock, path=state)
    assert [spent.take("1.2.3.4") for _ in range(3)][-1] > 0
    clock.now = 5.0  # the monotonic clock restarted below the stored time
    assert Buckets(2, clock, path=state).take("1.2.3.4") == 0.0


def test_a_state_place_that_cannot_be_written_is_a_clear_start_up_error(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(RateLimitError, match="RATE_LIMIT_STATE: cannot keep"):
        check_settings({"RATE_LIMIT_STATE": str(blocker / "limits")})
