"""Start Rasa (`python -m scripts.rasa_server run ...`, as scripts/run.sh does)
with a short timeout for calls to the action server.

Rasa 3.6 waits up to 300 s for a custom action (DEFAULT_REQUEST_TIMEOUT, not
configurable): a hung action server would leave a visitor in distress with no
answer for five minutes. Here the wait is ACTION_TIMEOUT_SECONDS (default 10);
when it passes, Rasa logs the failure and the conversation goes on, and the
static 911 / 988 replies, sent by rules before any action, have already gone out.
"""

from __future__ import annotations

import os
import sys

DEFAULT_ACTION_TIMEOUT = 10.0


def action_timeout(env: dict[str, str]) -> float:
    raw = env.get("ACTION_TIMEOUT_SECONDS") or str(DEFAULT_ACTION_TIMEOUT)
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(
            f"ACTION_TIMEOUT_SECONDS must be a number of seconds, not {raw!r}"
        ) from None
    if not 0.5 <= value <= 300:
        raise SystemExit(
            f"ACTION_TIMEOUT_SECONDS must be between 0.5 and 300, not {value}"
        )
    return value


def apply_action_timeout(seconds: float) -> None:
    import rasa.core.actions.action as actions_module
    import rasa.utils.endpoints as endpoints_module

    # Both modules read the constant at call time (the per-request timeout and
    # the client session's total timeout).
    actions_module.DEFAULT_REQUEST_TIMEOUT = seconds
    endpoints_module.DEFAULT_REQUEST_TIMEOUT = seconds


def main() -> None:
    apply_action_timeout(action_timeout(dict(os.environ)))
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
