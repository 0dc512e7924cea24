"""Altering a ledger's store behind its back, as someone with write access to the database
could: straight SQL on its tables, on SQLite or PostgreSQL. (Test code only: the ledger has
no way to do this, and verify must catch every kind.)"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ledger.chain import GENESIS, link
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
            self.tables = {"events": "stored_events", "chain": "event_chain", "snapshots": "stored_snapshots",
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

    # ---------------------------------------------------------------- alterations
    def state(self, position: int) -> dict[str, Any]:
        (row,) = [row for row in self.events() if row["position"] == position]
        return dict(json.loads(bytes(row["state"])))

    def edit_event(self, position: int, change: Callable[[dict[str, Any]], None]) -> None:
        """Rewrite the stored state of the event at ``position``."""
        state = self.state(position)
        change(state)
        data = json.dumps(state, separators=(",", ":")).encode()
        self.execute("UPDATE {events} SET state = %s WHERE " + self.where_position() + " = %s",
                     data, position)

    def delete_event(self, position: int) -> None:
        self.execute("DELETE FROM {events} WHERE " + self.where_position() + " = %s", position)

    def rechain(self) -> None:
        """Recompute every seal from the events as they are now (an attacker with the code)."""
        previous = GENESIS
        self.execute("DELETE FROM {chain}")
        for row in self.events():
            previous = link(previous, row["position"], row["originator_id"],
                            row["originator_version"], row["topic"], bytes(row["state"]))
            self.execute("INSERT INTO {chain} (notification_id, hash) VALUES (%s, %s)",
                         row["position"], previous)

    def swap(self, first: int, second: int) -> None:
        """Exchange the events at two positions (each keeps its aggregate and version)."""
        rows = {row["position"]: row for row in self.events()}
        a, b = rows[first], rows[second]
        where = " WHERE " + self.where_position() + " = %s"
        for position in (first, second):  # out of the way of the (aggregate, version) key
            self.execute("UPDATE {events} SET originator_version = originator_version + 1000000"
                         + where, position)
        for source, target in ((b, first), (a, second)):
            self.execute("UPDATE {events} SET originator_id = %s, originator_version = %s, topic = %s, "
                         "state = %s" + where, source["originator_id"], source["originator_version"],
                         source["topic"], bytes(source["state"]), target)
