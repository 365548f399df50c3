"""Serve the demo website page with the chat widget (``make run`` starts it).

The page stands in for the center's site. It loads ``/config.js`` (where the
Rasa server is), the socket.io client installed from npm by ``make install``
(``web/node_modules``, never copied into the repository) and the widget.

Settings (environment): ``WEB_PORT`` (8080), ``WEB_HOST`` (127.0.0.1),
``RASA_PORT`` (5005) or ``CHAT_SOCKET_URL`` (the Rasa server's public URL when
it is not on the page's host).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

WEB = Path(__file__).resolve().parent
PUBLIC = WEB / "public"
SOCKET_IO = WEB / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

FILES: dict[str, tuple[Path, str]] = {
    "/": (PUBLIC / "index.html", "text/html"),
    "/index.html": (PUBLIC / "index.html", "text/html"),
    "/chat.js": (PUBLIC / "chat.js", "application/javascript"),
    "/chat.css": (PUBLIC / "chat.css", "text/css"),
    "/vendor/socket.io.min.js": (SOCKET_IO, "application/javascript"),
}


class Settings:
    def __init__(self, rasa_port: int, socket_url: str | None) -> None:
        self.rasa_port = rasa_port
        self.socket_url = socket_url

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Settings:
        raw_port = env.get("RASA_PORT") or "5005"
        if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
            raise ValueError(f"RASA_PORT must be a port number, not {raw_port!r}")
        url = env.get("CHAT_SOCKET_URL") or None
        if url is not None and urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"CHAT_SOCKET_URL must be an http(s) URL, not {url!r}")
        return cls(int(raw_port), url)

    def socket_origins(self, page_host: str) -> str:
        """The origins the page may connect to (for the CSP's connect-src)."""
        if self.socket_url:
            parts = urlsplit(self.socket_url)
            ws = "wss" if parts.scheme == "https" else "ws"
            return f"{parts.scheme}://{parts.netloc} {ws}://{parts.netloc}"
        host = page_host.rsplit(":", 1)[0] if page_host else "localhost"
        return f"http://{host}:{self.rasa_port} ws://{host}:{self.rasa_port}"


def security_headers(settings: Settings, host: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src 'self' data:; connect-src 'self' {settings.socket_origins(host)}; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


def make_app(settings: Settings) -> web.Application:
    if not SOCKET_IO.is_file():
        raise FileNotFoundError(
            f"{SOCKET_IO} is missing: run `make install` (it runs `npm ci` in web/)."
        )

    async def static(request: web.Request) -> web.Response:
        path, content_type = FILES[request.path]
        return web.Response(
            body=path.read_bytes(),
            content_type=content_type,
            charset="utf-8",
            headers=security_headers(settings, request.host),
        )

    async def config_js(request: web.Request) -> web.Response:
        config = {"rasaPort": settings.rasa_port, "socketUrl": settings.socket_url}
        return web.Response(
            text=f"window.CHAT_CONFIG = {json.dumps(config)};\n",
            content_type="application/javascript",
            headers=security_headers(settings, request.host),
        )

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    for route in FILES:
        app.router.add_get(route, static)
    app.router.add_get("/config.js", config_js)
    app.router.add_get("/health", health)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("WEB_PORT") or 8080)
    )
    parser.add_argument("--host", default=os.environ.get("WEB_HOST") or "127.0.0.1")
    args = parser.parse_args(argv)
    try:
        app = make_app(Settings.from_env(dict(os.environ)))
    except (ValueError, FileNotFoundError) as error:
        print(f"web server: {error}", file=sys.stderr)
        return 2
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
