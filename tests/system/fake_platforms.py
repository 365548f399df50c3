"""A local stand-in for the send APIs of Twilio, Telegram, Messenger and Slack.

It records every call and answers as the platform would (just enough for the
client libraries to accept the answer). The channel classes are pointed at it with
TWILIO_API_URL, TELEGRAM_API_URL, FACEBOOK_GRAPH_URL and SLACK_API_URL.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    path: str
    query: dict[str, str]
    fields: dict[str, Any]


@dataclass
class FakePlatforms:
    port: int
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def since(self, start: int, prefix: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls[start:] if c.path.startswith(prefix)]

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def wait_for(
        self, start: int, prefix: str, count: int = 1, timeout: float = 60
    ) -> list[Call]:
        """Calls to ``prefix`` after ``start``; waits until at least ``count``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.since(start, prefix)
            if len(found) >= count:
                time.sleep(0.5)  # let the rest of one reply arrive
                return self.since(start, prefix)
            time.sleep(0.1)
        raise AssertionError(
            f"no call to {prefix} within {timeout} s: {self.calls[start:]}"
        )

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        fields: dict[str, Any]
        if request.content_type == "application/json":
            fields = json.loads(raw or b"{}")
        elif request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            fields = dict((await request.post()).items())
        else:
            fields = {"raw": raw.decode(errors="replace")}
        with self._lock:
            self.calls.append(Call(request.path, dict(request.query), fields))
        path = request.path
        if path.endswith("/Messages.json"):  # Twilio
            return web.json_response(
                {"sid": "SM" + "0" * 32, "status": "queued", "body": fields.get("Body"),
                 "to": fields.get("To"), "from": fields.get("From")},
                status=201,
            )  # fmt: skip
        if "/bot" in path:  # Telegram
            return web.json_response(
                {"ok": True, "result": {"message_id": len(self.calls), "date": 0,
                 "chat": {"id": int(fields.get("chat_id", 0) or 0), "type": "private"}}}
            )  # fmt: skip
        if path.endswith("/me/messages"):  # Messenger
            return web.json_response({"recipient_id": "x", "message_id": "m"})
        if path.endswith("/chat.postMessage"):  # Slack
            return web.json_response(
                {"ok": True, "channel": fields.get("channel"), "ts": "1.1"}
            )
        return web.json_response({"error": "unknown fake endpoint"}, status=404)


def start_fake(port: int) -> FakePlatforms:
    fake = FakePlatforms(port)
    ready = threading.Event()

    def serve() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", fake.handle)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    ready.wait(10)
    return fake
