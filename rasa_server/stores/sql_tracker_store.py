"""Leaner queries for Rasa's SQL tracker store (SQLite and PostgreSQL alike).

Profiling the server under load showed SQLAlchemy's ORM as the largest single
cost of a reply after the caches (a quarter of the CPU): for every message Rasa
3.6's `SQLTrackerStore` builds an ORM object per stored event to read the
conversation, counts the stored events with a `count()` wrapped in a subquery,
and builds an ORM object per new event to write them.

`LeanSQLTrackerStore` (named by `type:` in endpoints.yml) keeps Rasa's queries, table and semantics (the events of the latest
session, in id order; only events not stored yet are written) and changes how
they run: the read fetches the `data` column only, the count is a plain
`count(id)`, and the new events go in with one multi-row INSERT. Conversations
written before and after are the same rows; `make review` and the integration
tests read them with Rasa's own store.

It also keeps the callback form's personal data out of the stored rows
(`form_privacy.py`): answers masked as they are stored, the form's slot values
and the bot messages repeating them rewritten masked when the form ends.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import func

from rasa_server.stores import form_privacy

logger = logging.getLogger(__name__)


class LeanSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store (same table, rows and options) with leaner queries.

    ``endpoints.yml``::

        tracker_store:
          type: rasa_server.stores.sql_tracker_store.LeanSQLTrackerStore
          dialect: sqlite
          db: ${TRACKER_DB}
    """

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            rows = (
                self._event_query(session, sender_id, fetch_events_from_all_sessions)
                .with_entities(self.SQLEvent.data)
                .all()
            )
        events = [json.loads(data) for (data,) in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def _additional_events(
        self, session: Any, tracker: DialogueStateTracker
    ) -> Iterator:
        stored = (
            self._event_query(session, tracker.sender_id, False)
            .order_by(None)
            .with_entities(func.count(self.SQLEvent.id))
            .scalar()
        )
        return itertools.islice(tracker.events, stored or 0, len(tracker.events))

    def _stored_count(self, session: Any, sender_id: str) -> int:
        return int(
            self._event_query(session, sender_id, False)
            .order_by(None)
            .with_entities(func.count(self.SQLEvent.id))
            .scalar()
            or 0
        )

    def _mask_ended_form(self, session: Any, sender_id: str, values: set[str]) -> None:
        """The form has ended: mask its slot values, and the bot messages that
        repeat them, in the rows already stored (form_privacy.py)."""
        rows = (
            session.query(self.SQLEvent.id, self.SQLEvent.data)
            .filter(
                self.SQLEvent.sender_id == sender_id,
                self.SQLEvent.type_name.in_(("slot", "bot")),
            )
            .all()
        )
        for row_id, data in rows:
            masked = form_privacy.mask_stored(json.loads(data), values)
            if masked is not None:
                session.query(self.SQLEvent).filter(self.SQLEvent.id == row_id).update(
                    {"data": json.dumps(masked)}, synchronize_session=False
                )

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            events = [event.as_dict() for event in tracker.events]
            stored = self._stored_count(session, tracker.sender_id)
            new, form = form_privacy.masked_new_events(events, stored)
            for data in new:
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": data.get("event"),
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {})
                        .get("intent", {})
                        .get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            if form.ended:
                self._mask_ended_form(session, tracker.sender_id, form.values)
            session.commit()
