"""Imports point one way: each process's package imports only what it may.

- ``common`` (shared by both servers) imports neither Rasa nor rasa_sdk nor any
  other package of this project;
- ``actions`` (the action server) imports ``common`` and rasa_sdk, never Rasa
  itself or the Rasa server's code;
- ``rasa_server`` (the Rasa process) imports ``common`` and Rasa, never the
  action server's code or rasa_sdk;
- ``web`` (the page server) imports only ``common`` of ours, and no Rasa;
- ``deploy`` imports no server code;
- nothing but the tests imports ``tools``;
- inside ``rasa_server``, nothing imports the entry point or the patches list
  (they sit on top), and the safety net imports nothing else of the server.

Function-level imports count too. Every rule is checked on the real tree and
shown to fail on a made-up file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from common.paths import ROOT

OURS = {"actions", "common", "deploy", "rasa_server", "tools", "web"}

#: package -> top-level modules it must not import
FORBIDDEN: dict[str, set[str]] = {
    "common": {"rasa", "rasa_sdk"} | (OURS - {"common"}),
    "actions": {"rasa", "rasa_server", "tools", "web", "deploy"},
    "rasa_server": {"rasa_sdk", "actions", "tools", "web", "deploy"},
    "web": {"rasa", "rasa_sdk", "actions", "rasa_server", "tools", "deploy"},
    "deploy": {"rasa", "rasa_sdk", "actions", "rasa_server", "tools", "web"},
    "tools": set(),
}
#: module prefix inside rasa_server -> module prefixes it must not import
INTERNAL: dict[str, tuple[str, ...]] = {
    "rasa_server": ("rasa_server.__main__",),
    "rasa_server.safety_net": (
        "rasa_server.channels",
        "rasa_server.stores",
        "rasa_server.patches",
        "rasa_server.dedupe",
        "rasa_server.log_redaction",
        "rasa_server.inference_cache",
        "rasa_server.settings",
    ),
    "rasa_server.stores": ("rasa_server.channels", "rasa_server.patches"),
    "rasa_server.channels": ("rasa_server.patches",),
}


def imports_of(source: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
            found.extend(
                (node.lineno, f"{node.module}.{alias.name}") for alias in node.names
            )
    return found


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def violations(root: Path) -> list[str]:
    """``file:line: what -- how to fix`` for every import against the rules."""
    found: list[str] = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((root / package).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            name = module_name(path, root)
            for line, imported in imports_of(path.read_text(encoding="utf-8")):
                top = imported.split(".")[0]
                where = f"{path.relative_to(root)}:{line}"
                if top in forbidden:
                    found.append(
                        f"{where}: {package} imports {imported} -- move the shared "
                        f"code to common/ (see docs/architecture.md)"
                    )
                if top == "tools" and package != "tools":
                    found.append(f"{where}: imports {imported} -- tools are run, "
                                 "never imported by server code")  # fmt: skip
                for prefix, banned in INTERNAL.items():
                    if name != prefix and not name.startswith(prefix + "."):
                        continue
                    for target in banned:
                        if (imported == target or imported.startswith(target + ".")) \
                                and not name.startswith(target):  # fmt: skip
                            found.append(
                                f"{where}: {name} imports {imported} -- an import "
                                f"that runs back up; pass what it needs instead"
                            )
    return sorted(set(found))


def test_imports_point_one_way() -> None:
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    ("package", "file", "source", "expected"),
    [
        ("common", "x.py", "import rasa\n", "common imports rasa"),
        ("common", "x.py", "from actions import config\n", "common imports actions"),
        ("actions", "x.py", "def f():\n    from rasa.core import agent\n",
         "actions imports rasa.core"),
        ("actions", "x.py", "from rasa_server import patches\n",
         "actions imports rasa_server"),
        ("rasa_server", "x.py", "from actions.faq import x\n",
         "rasa_server imports actions.faq"),
        ("rasa_server", "x.py", "import tools.check_data\n", "tools are run"),
        ("web", "x.py", "from rasa_server.channels import rest\n",
         "web imports rasa_server.channels"),
        ("rasa_server", "safety_net/x.py", "from rasa_server.channels import rest\n",
         "rasa_server.safety_net.x imports rasa_server.channels"),
        ("rasa_server", "stores/x.py", "from rasa_server import patches\n",
         "rasa_server.stores.x imports rasa_server.patches"),
        ("rasa_server", "channels/x.py", "import rasa_server.__main__\n",
         "an import that runs back up"),
    ],
)  # fmt: skip
def test_each_rule_can_fail(
    tmp_path: Path, package: str, file: str, source: str, expected: str
) -> None:
    path = tmp_path / package / file
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    problems = violations(tmp_path)
    assert any(expected in problem for problem in problems), problems
    assert all(problem.startswith(f"{package}/{file}:") for problem in problems)
