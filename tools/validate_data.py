"""Run `rasa data validate` and fail on any warning that is not explained.

Explained warnings live in tests/validate_allowlist.yml, each with a pattern and the
reason it is expected. A pattern that no longer matches anything is reported too,
so the list does not go stale.
"""
from __future__ import annotations

import re
import subprocess
import sys

import yaml

from common.paths import ROOT

ALLOWLIST = ROOT / "tests" / "validate_allowlist.yml"
LOG = ROOT / "results" / "logs" / "validate.log"
WARNING = re.compile(
    r"UserWarning: (.*)|\bWARNING\b\s+\S+\s+-\s+(.*)|\bERROR\b\s+\S+\s+-\s+(.*)"
)


def warnings_in(output: str) -> list[str]:
    found = []
    for line in output.splitlines():
        match = WARNING.search(line)
        if match:
            found.append(next(g for g in match.groups() if g).strip())
    return found


def main() -> int:
    entries = yaml.safe_load(ALLOWLIST.read_text()) or []
    allowed = [(re.compile(e["pattern"]), e["reason"]) for e in entries]
    optional = {e["pattern"] for e in entries if e.get("optional")}
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "rasa"), "data", "validate", "--debug"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    output = proc.stdout + proc.stderr
    LOG.parent.mkdir(parents=True, exist_ok=True)
    LOG.write_text(output)
    found = warnings_in(output)
    unexplained = [w for w in found if not any(p.search(w) for p, _ in allowed)]
    unused = [
        p.pattern
        for p, _ in allowed
        if p.pattern not in optional and not any(p.search(w) for w in found)
    ]
    for w in found:
        reason = next((r for p, r in allowed if p.search(w)), None)
        print(
            ("explained: " if reason else "UNEXPLAINED: ")
            + w
            + (f"  [{reason}]" if reason else "")
        )
    if proc.returncode != 0:
        print(f"rasa data validate failed (exit {proc.returncode}); see {LOG}")
        return 1
    if unexplained:
        print(
            f"{len(unexplained)} unexplained warning(s): fix the data or explain them in {ALLOWLIST.name}"
        )
        return 1
    if unused:
        print(
            f"Stale entries in {ALLOWLIST.name} (nothing matches them any more): {unused}"
        )
        return 1
    print(f"rasa data validate: OK ({len(found)} warning(s), all explained)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
