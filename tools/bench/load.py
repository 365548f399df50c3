"""The load generators: closed-loop visitors over REST or the widget's socket.io.

Each visitor sends one message, waits for the whole answer, and sends the next
one at once (no think time), so the figures are the server's capacity at that
many visitors.

- **REST, persistent**: one keep-alive connection per visitor for the whole
  segment, as a browser or a proxy keeps it (aiohttp, ``limit=1``). A Sanic
  worker process keeps every connection the kernel gave it, so the two workers
  can get uneven shares.
- **REST, new**: a new connection per request (``force_close``), as many
  webhook deliveries come; the kernel spreads them over the workers.
- **socket.io**: what the widget (web/public/chat.js) does, over a WebSocket
  (its only transport): connect, ``session_request`` and wait for
  ``session_confirm`` (the server's signed session id), then ``user_uttered``
  ``{"message", "session_id"}`` and the answers as ``bot_uttered`` events. One
  WebSocket per conversation, kept for its six messages, as a page visit keeps
  it. The engine.io / socket.io packets are written here (as
  tests/system/test_scale_out.py does): python-socketio's client needs a newer
  aiohttp for WebSockets than Rasa 3.6 pins. socket.io has no end-of-answer
  event: an answer is the first ``bot_uttered`` and every other one that follows
  within :data:`QUIET_S`; its latency runs to the last of them.

A request that fails, times out or gets a non-200 status is an error; an
answer with no message is an *empty reply* (the stock assistant has no fallback
answer, so it has some).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from tools.bench.pools import NEVER_TWICE_PER_CONVERSATION, conversation
from tools.bench.stats import Segment, summarise

#: a socket.io answer ends when no further bot_uttered comes for this long
QUIET_S = 0.05
#: one request or answer waited for longer than this is an error
TIMEOUT_S = 60.0


class Feed:
    """What each visitor sends next: ``(sender, text, new_conversation)``.

    ``never_twice``: the texts in order, shared by the visitors (whoever is
    free takes the next one), a new conversation every six messages; the feed
    ends when the texts run out. ``repeated``: each visitor's own seeded
    repeated-pool conversations, without end (the segment is timed).
    """

    def __init__(
        self,
        pool: str,
        visitors: int,
        texts: Sequence[str] = (),
        questions: Sequence[str] = (),
    ) -> None:
        self.pool = pool
        self.texts = deque(texts)
        self.questions = list(questions)
        self.rngs = [
            random.Random(f"{visitors}-{n}") for n in range(visitors)  # noqa: S311
        ]
        self.pending: list[list[str]] = [[] for _ in range(visitors)]
        self.sent = [0] * visitors
        self.senders = [""] * visitors

    def next(self, visitor: int) -> tuple[str, str, bool] | None:
        new = False
        if self.pool == "never_twice":
            if not self.texts:
                return None
            text = self.texts.popleft()
            new = self.sent[visitor] % NEVER_TWICE_PER_CONVERSATION == 0
        else:
            if not self.pending[visitor]:
                self.pending[visitor] = conversation(self.rngs[visitor], self.questions)
                new = True
            text = self.pending[visitor].pop(0)
        if new:
            self.senders[visitor] = f"bench-{uuid.uuid4().hex[:12]}"
        self.sent[visitor] += 1
        return self.senders[visitor], text, new


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.empty = 0
        self.multi = 0

    def add(self, started: float, ok: bool, messages: int) -> None:
        self.latencies.append((time.perf_counter() - started) * 1000)
        self.errors += 0 if ok else 1
        self.empty += int(ok and messages == 0)
        self.multi += int(ok and messages > 1)


async def rest_segment(
    url: str,
    headers: Mapping[str, str],
    spec: Mapping[str, Any],
    feed: Feed,
    seconds: float,
) -> Segment:
    """Drive the REST channel: ``spec["visitors"]`` visitors until the feed
    ends or ``seconds`` pass."""
    import aiohttp

    tally = Tally()
    stop_at = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)

    async def visitor(number: int) -> None:
        connector = aiohttp.TCPConnector(limit=1, force_close=spec["pattern"] == "new")
        async with aiohttp.ClientSession(
            timeout=timeout, connector=connector
        ) as session:
            while time.monotonic() < stop_at:
                item = feed.next(number)
                if item is None:
                    return
                sender, text, _ = item
                started = time.perf_counter()
                messages = 0
                try:
                    async with session.post(
                        url, json={"sender": sender, "message": text}, headers=headers
                    ) as r:
                        body = await r.json()
                        ok = r.status == 200 and isinstance(body, list)
                        messages = len(body) if ok else 0
                except Exception:
                    ok = False
                tally.add(started, ok, messages)

    began = time.monotonic()
    await asyncio.gather(*(visitor(n) for n in range(int(spec["visitors"]))))
    return summarise(
        spec,
        tally.latencies,
        tally.errors,
        tally.empty,
        time.monotonic() - began,
        tally.multi,
    )


class WidgetSocket:
    """One socket.io connection over a WebSocket, as the widget opens it."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str) -> WidgetSocket:
        import websockets.client

        ws = await websockets.client.connect(url, max_size=None, open_timeout=TIMEOUT_S)
        opening = await asyncio.wait_for(ws.recv(), TIMEOUT_S)
        if not str(opening).startswith("0"):
            raise ConnectionError(f"not an engine.io open packet: {opening!r}")
        await ws.send("40")  # socket.io: connect to the default namespace
        return cls(ws)

    async def emit(self, name: str, data: Any) -> None:
        await self.ws.send("42" + json.dumps([name, data]))

    async def event(self, timeout: float) -> tuple[str, Any]:
        """The next event (answering the server's pings meanwhile)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError
            packet = await asyncio.wait_for(self.ws.recv(), left)
            if packet == "2":
                await self.ws.send("3")
            elif isinstance(packet, str) and packet.startswith("42"):
                name, *rest = json.loads(packet[2:])
                return str(name), rest[0] if rest else None

    async def until(self, name: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            event, data = await self.event(max(deadline - time.monotonic(), 0))
            if event == name:
                return data

    async def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken socket
            await self.ws.close()


async def socketio_segment(
    url: str, spec: Mapping[str, Any], feed: Feed, seconds: float
) -> Segment:
    """Drive the socket.io channel (``url``: ``ws://host:port``) like the
    widget, ``spec["visitors"]`` visitors at once."""
    tally = Tally()
    stop_at = time.monotonic() + seconds
    endpoint = f"{url}/socket.io/?EIO=4&transport=websocket"

    async def visitor(number: int) -> None:
        sock: WidgetSocket | None = None
        session = ""
        try:
            while time.monotonic() < stop_at:
                item = feed.next(number)
                if item is None:
                    return
                _, text, new = item
                if new or sock is None:
                    if sock is not None:
                        await sock.close()
                        sock = None
                    try:
                        sock = await WidgetSocket.open(endpoint)
                        await sock.emit("session_request", {"session_id": None})
                        confirmed = await sock.until("session_confirm", TIMEOUT_S)
                        session = (
                            confirmed
                            if isinstance(confirmed, str)
                            else str((confirmed or {}).get("session_id", ""))
                        )
                    except Exception:
                        tally.add(time.perf_counter(), False, 0)
                        sock = None
                        continue
                started = time.perf_counter()
                messages = 0
                try:
                    await sock.emit(
                        "user_uttered", {"message": text, "session_id": session}
                    )
                    await sock.until("bot_uttered", TIMEOUT_S)
                    messages, last = 1, time.perf_counter()
                    while True:
                        try:
                            event, _ = await sock.event(QUIET_S)
                        except asyncio.TimeoutError:
                            break
                        if event == "bot_uttered":
                            messages, last = messages + 1, time.perf_counter()
                    tally.latencies.append((last - started) * 1000)
                    tally.multi += int(messages > 1)
                except Exception:
                    tally.add(started, False, 0)
                    await sock.close()
                    sock = None
        finally:
            if sock is not None:
                await sock.close()

    began = time.monotonic()
    await asyncio.gather(*(visitor(n) for n in range(int(spec["visitors"]))))
    return summarise(
        spec,
        tally.latencies,
        tally.errors,
        tally.empty,
        time.monotonic() - began,
        tally.multi,
    )
