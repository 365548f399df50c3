"""The conversation store must be there: Rasa 3.6 carries on without it.

Rasa 3.6 starts even when its SQL tracker store cannot be reached
(``SQLTrackerStore`` logs "Could not create tables" and goes on), and it wraps
the store in a ``FailSafeTrackerStore``: a conversation it cannot read is started
afresh, one it cannot save is kept in this process's memory only. A visitor in
the middle of a callback request would be greeted as a stranger, and what they
said would be lost (or, if the store came back in between, their stored
conversation would get a new session on top).

Here (``rasa_server/__main__.py`` calls both):

- ``check_tracker_store``: at start-up, connect to the SQL tracker store the
  endpoints file configures; when it cannot be reached, refuse to start with one
  line naming the store and the settings to check.
- ``install``: the store is wrapped in ``StrictTrackerStore`` instead, whose
  errors raise ``TrackerStoreUnavailable``. The agent then sends the visitor
  ``STORE_DOWN_REPLY`` (with 911 and 988), stores nothing and re-raises; the REST
  channel answers 503 with that reply. When the store is back, the conversation
  goes on from its stored history.
"""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

STORE_DOWN_REPLY = (
    "Sorry, I can't reach our records right now, so I can't go on with this "
    "conversation. Please try again in a few minutes. If this is an emergency "
    "call 911; for a crisis call or text 988."
)
CONNECT_TIMEOUT_SECONDS = 10
#: The ``type:`` of a tracker store that is an SQL store (lower case).
SQL_STORE_TYPES = ("sql", "rasa_server.stores.sql_tracker_store.leansqltrackerstore")


def first_line(error: BaseException) -> str:
    """The driver's own message (SQLAlchemy wraps it), first line only."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


def describe(store: Any) -> str:
    """'LeanSQLTrackerStore postgresql://user:***@host:port/db' (password masked)."""
    while hasattr(store, "_tracker_store"):  # FailSafe / Awaitable wrappers
        store = store._tracker_store
    engine = getattr(store, "engine", None)
    where = f" {engine.url!r}" if engine is not None else ""
    return f"{type(store).__name__}{where}"


class TrackerStoreUnavailable(Exception):
    """The conversation store could not be read or written.

    ``replies``: what a collecting channel (REST) has to send back, the apology
    included (set by ``install``'s agent hook)."""

    def __init__(self, store: str, error: BaseException) -> None:
        super().__init__(
            f"The conversation store ({store}) cannot be reached: {first_line(error)}"
        )
        self.replies: list[dict[str, Any]] = []


class StrictTrackerStore(FailSafeTrackerStore):
    """Rasa's wrapper without its fallback: a store error raises instead of
    starting the conversation afresh or keeping it in memory."""

    def _unavailable(self, error: Exception) -> TrackerStoreUnavailable:
        return TrackerStoreUnavailable(describe(self._tracker_store), error)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            return await self._tracker_store.retrieve(sender_id)
        except Exception as error:
            raise self._unavailable(error) from error

    async def retrieve_full_tracker(
        self, sender_id: str
    ) -> DialogueStateTracker | None:
        try:
            return await self._tracker_store.retrieve_full_tracker(sender_id)
        except Exception as error:
            raise self._unavailable(error) from error

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await self._tracker_store.save(tracker)
        except Exception as error:
            raise self._unavailable(error) from error

    async def keys(self) -> Iterable[str]:
        try:
            return await self._tracker_store.keys()
        except Exception as error:
            raise self._unavailable(error) from error


def strict_tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    """``Agent._create_tracker_store`` with ``StrictTrackerStore``."""
    from rasa.core.tracker_store import InMemoryTrackerStore

    if store is None:
        store = InMemoryTrackerStore(domain)
    else:
        store.domain = domain
    return StrictTrackerStore(store)


async def tell_visitor(message: UserMessage) -> None:
    channel = message.output_channel
    if channel is None:
        return
    try:
        await channel.send_text_message(message.sender_id, STORE_DOWN_REPLY)
    except Exception:
        logger.exception("Could not send the visitor the store-down reply")


def install() -> None:
    """Rasa's agent uses ``StrictTrackerStore``; a message it cannot read or store
    the conversation for gets ``STORE_DOWN_REPLY``, then the error is re-raised
    for the channel (the REST channel answers 503)."""
    from rasa.core.agent import Agent

    original = Agent.handle_message

    async def handle_message(self: Agent, message: UserMessage) -> Any:
        try:
            return await original(self, message)
        except TrackerStoreUnavailable as error:
            logger.error("%s. The visitor was told; nothing was stored.", error)
            await tell_visitor(message)
            if isinstance(message.output_channel, CollectingOutputChannel):
                error.replies = list(message.output_channel.messages)
            raise

    Agent._create_tracker_store = staticmethod(strict_tracker_store)
    setattr(Agent, "handle_message", handle_message)  # noqa: B010


def endpoints_file(argv: list[str]) -> str | None:
    """The endpoints file ``rasa run`` or ``rasa shell`` reads (None for any
    other command)."""
    if argv[:1] not in (["run"], ["shell"]) or argv[1:2] == ["actions"]:
        return None
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--endpoints", default="endpoints.yml")
    known, _ = parser.parse_known_args(argv[1:])
    return str(known.endpoints)


def settings_named(path: str) -> str:
    """The ${VARIABLES} the tracker_store section reads, for the error message."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    names = sorted(
        set(re.findall(r"\$\{(\w+)\}", yaml.safe_dump(raw.get("tracker_store"))))
    )
    return ", ".join(names) if names else f"the tracker_store settings in {path}"


def check_tracker_store(path: str) -> None:
    """Exit with one clear line when the SQL tracker store in ``path`` cannot be
    reached (Rasa would start anyway and forget every conversation)."""
    if not Path(path).is_file():
        return
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore, validate_port
    from rasa.core.utils import AvailableEndpoints

    config = AvailableEndpoints.read_endpoints(path).tracker_store
    if config is None:
        return
    kind = str(config.type or "")
    if "." in kind:
        # Rasa would quietly fall back to an in-memory store for a class it
        # cannot import.
        import rasa.shared.utils.common

        try:
            rasa.shared.utils.common.class_from_module_path(kind)
        except (AttributeError, ImportError) as error:
            raise SystemExit(
                f"Not starting: the tracker_store type {kind!r} in {path} cannot be "
                f"imported ({first_line(error)}). Check the class path."
            ) from None
    if kind.lower() not in SQL_STORE_TYPES:
        return
    options = config.kwargs
    url = SQLTrackerStore.get_db_url(
        options.get("dialect", "sqlite"),
        config.url,
        validate_port(options.get("port")),
        options.get("db", "rasa.db"),
        options.get("username"),
        options.get("password"),
        options.get("login_db"),
        options.get("query"),
    )
    url = sa.engine.make_url(url)
    connect_args = (
        {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        if url.get_backend_name() == "postgresql"
        else {}
    )
    engine = sa.create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        raise SystemExit(
            f"Not starting: the conversation store (tracker_store in {path}: "
            f"{engine.url!r}) cannot be reached: {first_line(error)}. Check that "
            f"the database is running and reachable, and its settings: "
            f"{settings_named(path)} (Rasa would start without it and forget every "
            "conversation)."
        ) from None
    finally:
        engine.dispose()
