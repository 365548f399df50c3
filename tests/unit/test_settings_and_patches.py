"""The Rasa side's settings (rasa_server/settings.py) and its one list of changes
to Rasa internals (rasa_server/patches.py)."""

from __future__ import annotations

import pytest
import rasa

from common.paths import ROOT
from rasa_server import patches, settings
from rasa_server.settings import ServerSettings, SettingsError


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, 4096), ({"INFERENCE_CACHE_SIZE": ""}, 4096), ({"INFERENCE_CACHE_SIZE": "0"}, 0),
     ({"INFERENCE_CACHE_SIZE": "100"}, 100)],
)  # fmt: skip
def test_cache_size(env: dict[str, str], expected: int) -> None:
    assert settings.load(env).cache_size == expected


@pytest.mark.parametrize("raw", ["many", "-1", "1.5", "99999999"])
def test_a_bad_cache_size_is_a_clear_error(raw: str) -> None:
    with pytest.raises(SettingsError, match="INFERENCE_CACHE_SIZE"):
        settings.load({"INFERENCE_CACHE_SIZE": raw})


@pytest.mark.parametrize(
    "raw, seconds", [(None, 10.0), ("", 10.0), ("2.5", 2.5), ("300", 300.0)]
)
def test_action_timeout_setting(raw: str | None, seconds: float) -> None:
    env = {} if raw is None else {"ACTION_TIMEOUT_SECONDS": raw}
    assert settings.load(env).action_timeout == seconds


@pytest.mark.parametrize("raw", ["soon", "0", "301", "-1"])
def test_bad_action_timeout_is_refused_by_name(raw: str) -> None:
    with pytest.raises(SettingsError, match="ACTION_TIMEOUT_SECONDS"):
        settings.load({"ACTION_TIMEOUT_SECONDS": raw})


def test_the_api_token_is_read_and_trimmed() -> None:
    assert settings.load({"RASA_API_TOKEN": "  abc  "}).api_token == "abc"
    assert settings.load({}).api_token == ""


def patch_named(name: str) -> patches.Patch:
    return next(p for p in patches.PATCHES if p.name == name)


def test_the_timeout_reaches_rasas_action_calls() -> None:
    import rasa.core.actions.action as actions_module
    import rasa.utils.endpoints as endpoints_module

    before = actions_module.DEFAULT_REQUEST_TIMEOUT
    timeout = patch_named("action timeout")
    try:
        timeout.apply(ServerSettings(action_timeout=4.0))
        assert actions_module.DEFAULT_REQUEST_TIMEOUT == 4.0
        assert endpoints_module.DEFAULT_REQUEST_TIMEOUT == 4.0
    finally:
        timeout.apply(ServerSettings(action_timeout=before))


def test_the_installed_rasa_is_the_one_the_patches_were_written_for() -> None:
    assert rasa.__version__ == patches.RASA_VERSION
    patches.check_version()  # does not raise


def test_another_rasa_version_is_refused_with_what_to_do() -> None:
    with pytest.raises(patches.WrongRasaVersion) as refused:
        patches.check_version("3.7.0")
    message = str(refused.value)
    assert "3.7.0" in message and patches.RASA_VERSION in message
    assert "rasa_server/patches.py" in message and "make install" in message


def test_each_patch_names_real_rasa_attributes_and_says_why() -> None:
    import importlib

    assert len({p.name for p in patches.PATCHES}) == len(patches.PATCHES)
    for patch in patches.PATCHES:
        assert len(patch.why) > 40, patch.name
        for target in patch.targets:
            if not target.startswith("rasa."):
                continue
            module_path, _, attribute = target.rpartition(".")
            owner: object
            try:
                owner = importlib.import_module(module_path)
            except ImportError:
                module_path, _, cls = module_path.rpartition(".")
                owner = getattr(importlib.import_module(module_path), cls)
            assert hasattr(owner, attribute), target


def test_the_duplicate_guard_wraps_log_redaction() -> None:
    """Both wrap MessageProcessor._handle_message_with_tracker; the guard, applied
    later, runs first, so a redelivered message is refused before anything of it
    is remembered."""
    names = [p.name for p in patches.PATCHES]
    assert names.index("log redaction") < names.index("duplicate guard")


@pytest.mark.parametrize(
    "path",
    [
        "Makefile",
        "deploy/run.sh",
        "deploy/run_cluster.sh",
        "deploy/docker/rasa.Dockerfile",
    ],
)
def test_every_way_of_running_rasa_goes_through_the_entry_point(path: str) -> None:
    """make run, make shell, the cluster and the image all start Rasa with
    `python -m rasa_server`, so none of them runs without the patches' guards."""
    import re

    text = (ROOT / path).read_text(encoding="utf-8")
    entry = re.search(r"-m rasa_server (run|shell)\b", text) or re.search(
        r'ENTRYPOINT \["python", "-m", "rasa_server"\]', text
    )
    assert entry, path
    bare = re.findall(
        r"(?:\$\(RASA\)|bin/rasa|^rasa|\brasa\") +(?:run|shell)\b", text, re.M
    )
    assert bare == [], f"{path} starts Rasa without the entry point: {bare}"
