"""The website page server (web/server.py) serves the page, its settings and the
widget with the socket.io client that `make install` installs from npm."""
from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from web import server


async def test_the_page_its_config_and_the_widget_are_served() -> None:
    assert server.SOCKET_IO.is_file(), "run `make install` (npm ci in web/)"
    app = server.make_app(server.Settings.from_env({"RASA_PORT": "5123"}))
    async with TestClient(TestServer(app)) as client:
        page = await client.get("/")
        assert page.status == 200
        assert 'id="chat-launcher"' in await page.text()
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        config = await client.get("/config.js")
        assert '"rasaPort": 5123' in await config.text()
        vendor = await client.get("/vendor/socket.io.min.js")
        assert vendor.status == 200 and vendor.content_type == "application/javascript"
        assert (await client.get("/../credentials.yml")).status == 404
        assert (await client.get("/server.py")).status == 404
