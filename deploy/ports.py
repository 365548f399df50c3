"""Whether the Rasa servers' ports are free, bound as the servers bind them.

``python -m deploy.ports FIRST COUNT WHAT`` (deploy/servers.sh's
``check_ports_free``) exits with a message naming the first of the COUNT
ports from FIRST that is taken; ``tools.bench.servers.free_ports`` uses
:func:`first_taken` to pick ports that are not.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Sequence


def first_taken(first: int, count: int) -> int | None:
    """The first of the ``count`` ports from ``first`` that cannot be bound on
    127.0.0.1 with SO_REUSEADDR (as asyncio's servers bind), or None."""
    with contextlib.ExitStack() as held:
        for port in range(first, first + count):
            sock = held.enter_context(socket.socket())
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return port
    return None


def main(argv: Sequence[str] | None = None) -> None:
    first, count, what = (sys.argv[1:] if argv is None else list(argv))[:3]
    taken = first_taken(int(first), int(count))
    if taken is not None:
        sys.exit(
            f"Port {taken} ({what}) is in use: set RASA_BACKEND_PORT to the "
            f"first of {count} free ports."
        )


if __name__ == "__main__":
    main()
