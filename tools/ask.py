"""`make ask Q="..."`: what the trained model does with one message.

Prints the intent or FAQ topic it picks, the confidence, whether the safety net
stepped in, and the reply. For staff checking a change: no server is needed (the
replies that need the action server, like handoffs, show only their static part).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from common.parse import chosen
from common.paths import ROOT


def current_model() -> Path:
    from tools.model_fingerprint import fingerprint

    return ROOT / "models" / f"clonazepam-{fingerprint()}.tar.gz"


async def ask_all(model: Path, messages: list[str]) -> list[dict[str, Any]]:
    from rasa_server.model_load import load_agent

    agent = load_agent(str(model))
    return [await ask(agent, message) for message in messages]


async def ask(agent: Any, message: str) -> dict[str, Any]:
    parse = await agent.parse_message(message)
    replies = await agent.handle_text(message, sender_id=f"ask-{uuid.uuid4().hex[:8]}")
    topic, confidence = chosen(parse)
    return {
        "message": message,
        "topic": topic,
        "confidence": round(confidence, 3),
        "safety_net": parse.get("safety_net"),
        "replies": [r.get("text") for r in replies or [] if r.get("text")],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("messages", nargs="+", help="one or more visitor messages")
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="default: the model of the current data",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not all(m.strip() for m in args.messages):
        print(
            'ask: give a message, e.g. make ask Q="is klonopin addictive"',
            file=sys.stderr,
        )
        return 2
    model = args.model or current_model()
    if not model.is_file():
        print(
            f"ask: no model for the current data ({model.name}) -- run `make train` first",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.ERROR)
    os.chdir(ROOT)  # config.yml names the spaCy pipeline by a relative path
    results = asyncio.run(ask_all(model, args.messages))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for result in results:
        print(f"message:    {result['message']}")
        print(f"topic:      {result['topic']} (confidence {result['confidence']:.2f})")
        if (result["safety_net"] or {}).get("level"):
            print(f"safety net: {result['safety_net']}")
        for reply in result["replies"]:
            print(f"reply:      {reply}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
