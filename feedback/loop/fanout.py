"""Events of a whole batch of writes, fanned out to the outbox in one statement.

`outbox.emit` records one event through an ORM session; the group-commit writer and imports store
hundreds of responses per transaction on a blocking `Connection`
(feedback.responses.store_statements) and must not pay a statement per response. Here a batch's
events travel as one parameter and are joined with `webhook_topic` by the database, so a batch that
no webhook wants writes nothing and costs one cheap statement (an index probe per organisation and
event type).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, select

from feedback.loop.models import WebhookDelivery, WebhookTopic
from feedback.loop.outbox import EVENT_TYPES, event_payload
from feedback.responses import bulk

EVENT_COLUMNS = ("event_id", "org_id", "event_type", "payload", "created_at")
_DELIVERY_COLUMNS = (
    "webhook_id, event_id, org_id, event_type, payload, created_at, status, attempts, "
    "next_attempt_at"
)


def subscribed(conn: Connection, org_ids: set[uuid.UUID], event_type: str) -> set[uuid.UUID]:
    """The organisations among `org_ids` with a webhook for `event_type`. A batch builds events
    for these only: building a payload per response cost more than the fan-out (BENCHMARKS.md,
    "Webhooks"), and most organisations subscribe to nothing."""
    if not org_ids:
        return set()
    query = select(WebhookTopic.org_id).where(
        WebhookTopic.event_type == event_type, WebhookTopic.org_id.in_(list(org_ids))
    )
    return set(conn.execute(query.distinct()).scalars())


class Events:
    """The events of one transaction on a blocking connection."""

    def __init__(self, conn: Connection) -> None:
        self.rows = bulk.Rows(conn, WebhookDelivery, EVENT_COLUMNS)
        self.dialect = conn.dialect.name

    def __len__(self) -> int:
        return len(self.rows)

    def add(
        self,
        *,
        event_id: uuid.UUID,
        org_id: uuid.UUID,
        event_type: str,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")
        self.rows.add_row(event_id, org_id, event_type, event_payload(event_type, data, now), now)

    def postgres_insert(self, param: int, *, only_events_in: str | None = None) -> tuple[str, str]:
        """PostgreSQL: the INSERT … SELECT (usable as a CTE) and its parameter. `only_events_in`:
        a subquery of event ids; the others are dropped (responses a batch did not insert)."""
        select_sql, value = self.rows.select(param)
        where = f" WHERE e.event_id IN ({only_events_in})" if only_events_in else ""
        sql = (
            f"INSERT INTO webhook_delivery ({_DELIVERY_COLUMNS}) "  # noqa: S608
            "SELECT t.webhook_id, e.event_id, e.org_id, e.event_type, e.payload, e.created_at, "
            f"'pending', 0, e.created_at FROM ({select_sql}) e "
            "JOIN webhook_topic t ON t.org_id = e.org_id AND t.event_type = e.event_type"
            f"{where}"
        )
        return sql, value

    def write(self, conn: Connection) -> None:
        """Fan the events out now, in the connection's transaction."""
        if not self.rows.rows:
            return
        if self.dialect == "postgresql":
            sql, value = self.postgres_insert(1)
            conn.exec_driver_sql(sql, (value,))
            return
        # SQLite: the encoded values (text and numbers) travel as one JSON array, read back by
        # json_each, so one statement however many events.
        sql = (
            f"INSERT INTO webhook_delivery ({_DELIVERY_COLUMNS}) "  # noqa: S608
            "SELECT t.webhook_id, json_extract(e.value, '$[0]'), t.org_id, "
            "json_extract(e.value, '$[2]'), json_extract(e.value, '$[3]'), "
            "json_extract(e.value, '$[4]'), 'pending', 0, json_extract(e.value, '$[4]') "
            "FROM json_each(?) e JOIN webhook_topic t "
            "ON t.org_id = json_extract(e.value, '$[1]') "
            "AND t.event_type = json_extract(e.value, '$[2]')"
        )
        conn.exec_driver_sql(sql, (msgspec.json.encode(self.rows.rows).decode(),))
