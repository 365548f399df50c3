"""The website page server (web/server.py): settings, headers, routes."""
from __future__ import annotations

from pathlib import Path

import pytest

from web import server

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "env, message",
    [
        ({"RASA_PORT": "abc"}, "RASA_PORT"),
        ({"RASA_PORT": "70000"}, "RASA_PORT"),
        ({"CHAT_SOCKET_URL": "javascript:alert(1)"}, "CHAT_SOCKET_URL"),
    ],
)
def test_bad_settings_are_refused_by_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        server.Settings.from_env(env)


def test_bad_settings_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RASA_PORT", "nope")
    assert server.main(["--port", "0"]) == 2
    assert "RASA_PORT" in capsys.readouterr().err


def test_csp_allows_only_the_rasa_server() -> None:
    settings = server.Settings.from_env({"RASA_PORT": "5005"})
    csp = server.security_headers(settings, "localhost:8080")["Content-Security-Policy"]
    assert "connect-src 'self' http://localhost:5005 ws://localhost:5005;" in csp
    assert "script-src 'self';" in csp
    public = server.Settings.from_env({"CHAT_SOCKET_URL": "https://chat.example.org"})
    assert (
        "https://chat.example.org wss://chat.example.org"
        in server.security_headers(public, "x")["Content-Security-Policy"]
    )
