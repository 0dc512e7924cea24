"""Altering a ledger's store behind its back, as someone with write access to the database
could: straight SQL on its tables, on SQLite or PostgreSQL. (Test code only: the ledger has
no way to do this, and verify must catch every kind.)"""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tests.conftest import PG_ADMIN


class Store:
    """The tables of one store location: ``{events}``, ``{chain}``, ``{snapshots}``,
    ``{tracking}``, and the views as ``{p}accounts`` etc. Parameters are written ``%s``."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.postgres = location.startswith("postgresql://")
        if self.postgres:
            schema = location.rpartition("schema=")[2]
            q = f'"{schema}".'
            self.tables = {"events": f"{q}billingledger_events", "chain": f"{q}billingledger_events_chain",
                           "snapshots": f"{q}billingledger_snapshots",
                           "tracking": f"{q}billingviews_tracking", "p": f"{q}billing_"}
        else:
            self.tables = {"events": "stored_events", "chain": "event_chain", "snapshots": "snapshots",
                           "tracking": "tracking", "p": "billing_"}

    def sql(self, template: str) -> str:
        text = template.format(**self.tables)
        return text if self.postgres else text.replace("%s", "?")

    def execute(self, template: str, *params: Any) -> list[dict[str, Any]]:
        """Run one statement and commit; the rows it returns, if any."""
        if self.postgres:
            with psycopg.connect(PG_ADMIN, autocommit=True, row_factory=dict_row) as conn:
                cursor = conn.execute(self.sql(template), params)
                return list(cursor.fetchall()) if cursor.description else []
        conn = sqlite3.connect(self.location)
        conn.row_factory = sqlite3.Row
        try:
            cursor = conn.execute(self.sql(template), params)
            rows = [dict(row) for row in cursor.fetchall()] if cursor.description else []
            conn.commit()
            return rows
        finally:
            conn.close()

    def events(self) -> list[dict[str, Any]]:
        """Every stored event with its position, in order."""
        position = "notification_id" if self.postgres else "rowid"
        return self.execute(f"SELECT {position} AS position, originator_id, originator_version, "
                            "topic, state FROM {events} ORDER BY " + position)

    def position_of(self, topic_end: str, nth: int = -1) -> int:
        found = [row["position"] for row in self.events() if str(row["topic"]).endswith(topic_end)]
        return int(found[nth])

    def where_position(self) -> str:
        return "notification_id" if self.postgres else "rowid"
