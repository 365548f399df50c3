"""Rasa's HTTP API is never open: rasa_server/__main__.py refuses --enable-api
without a token or JWT secret (the running server: tests/system/test_channels.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from rasa_server.__main__ import api_arguments
from rasa_server.settings import load

ROOT = Path(__file__).resolve().parents[2]
RUN = ["run", "--model", "models/m.tar.gz", "--port", "5005"]
TOKEN = "a-long-enough-api-token"


def test_without_the_api_nothing_changes() -> None:
    assert api_arguments(RUN, load({})) == RUN
    assert api_arguments(RUN, load({"RASA_API_TOKEN": TOKEN})) == RUN


@pytest.mark.parametrize(
    "extra",
    [
        ["--enable-api"],
        ["--enable-api", "--auth-token", ""],
        ["--enable-api", "--jwt-secret", " "],
        ["--enable-api", "-t", "short"],
        ["--enable-api", f"--auth-token={TOKEN[:15]}"],
    ],
)
def test_an_open_or_weakly_guarded_api_is_refused(extra: list[str]) -> None:
    with pytest.raises(ValueError, match="Refusing to start"):
        api_arguments(RUN + extra, load({}))


def test_a_short_environment_token_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        api_arguments([*RUN, "--enable-api"], load({"RASA_API_TOKEN": "short"}))


@pytest.mark.parametrize(
    "extra",
    [
        ["--enable-api", "--auth-token", TOKEN],
        ["--enable-api", "-t", TOKEN],
        ["--enable-api", "--jwt-secret", "a-jwt-secret-of-at-least-32-characters"],
    ],
)
def test_an_api_with_a_token_or_jwt_is_passed_on_unchanged(extra: list[str]) -> None:
    assert api_arguments(RUN + extra, load({})) == RUN + extra


def test_the_environment_token_reaches_rasa_off_the_command_line() -> None:
    argv = api_arguments([*RUN, "--enable-api"], load({"RASA_API_TOKEN": f" {TOKEN} "}))
    assert argv == [*RUN, "--enable-api", "--auth-token", TOKEN]
