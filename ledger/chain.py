"""The tamper-evident log: a hash chain over every recorded event.

Each event the ledger records is *sealed* in the same transaction that records it: its seal
is the SHA-256 of the previous seal and the event as stored (its position in the log, its
aggregate id and version, its topic and its stored bytes). The seal of the last event is the
log's *head*: it commits to every event before it, in order. The head at each billing cut is
written into the issued invoice, so a customer's copy of any invoice (or an exported head,
``billing-ledger anchor``) anchors everything recorded before it, as a Certificate
Transparency tree head or an Amazon QLDB digest does.

The seals live in a table of their own beside the library's events table
(``event_chain``), written by recorder classes that extend the eventsourcing library's own
SQLite and PostgreSQL application recorders. Writes to the log are serialised by both
backends (SQLite's single writer, PostgreSQL's table lock on the events table), so every
seal follows exactly the seal before it.

What a seal cannot do on its own, and :mod:`projections.audit` says in its findings:
someone with write access to the database can edit an event and recompute every seal after
it. Such a rewrite is caught by the heads recorded in later invoices, unless those were
rewritten too; and a rewrite of everything after a point is caught only by a head kept
outside the database (an anchor).
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from ledger.errors import LogAltered

#: The seal before the first event.
GENESIS = "0" * 64


def link(previous: str, position: int, originator_id: UUID | str, originator_version: int,
         topic: str, state: bytes) -> str:
    """The seal of the event recorded at ``position``, following the seal ``previous``."""
    originator = originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)
    digest = hashlib.sha256(bytes.fromhex(previous))
    digest.update(f"\x1f{position}\x1f{originator}\x1f{originator_version}\x1f{topic}\x1f".encode())
    digest.update(state)
    return digest.hexdigest()


def seal_of(previous: str, notification: Notification) -> str:
    return link(previous, notification.id, notification.originator_id,
                notification.originator_version, notification.topic, notification.state)


@dataclass(frozen=True)
class Seal:
    position: int
    hash: str


@runtime_checkable
class ChainedRecorder(Protocol):
    """What the audit reads of a chained log."""

    def seals(self, after: int, limit: int) -> Sequence[Seal]: ...

    def head(self, position: int) -> Seal | None: ...

    def chain_origin(self) -> int: ...


def _seal_rows(previous: str, ids: Sequence[int], events: Sequence[StoredEvent]) -> list[tuple[int, str]]:
    rows = []
    for position, event in zip(ids, events, strict=True):
        previous = link(previous, position, event.originator_id, event.originator_version,
                        event.topic, event.state)
        rows.append((position, previous))
    return rows


def _check_follows(last: int, first_new: int, before_new: int | None) -> None:
    """New events must follow the last seal: the event before them is the last one sealed,
    not one after it (added outside the ledger) nor before it (the end of the log deleted)."""
    before = before_new or 0
    if first_new <= last or before < last:
        raise LogAltered(
            f"the log's seals reach position {last}, but the events there are gone: events at "
            "the end of the log were deleted; nothing was recorded (run billing-ledger verify)"
        )
    if before > last:
        raise LogAltered(
            f"the event at position {before} has no seal: it was recorded outside the "
            "ledger; nothing was recorded (run billing-ledger verify)"
        )


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite application recorder, sealing every event it records."""

    chain_table = "event_chain"
    origin_table = "event_chain_origin"

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.chain_table} ("
            "notification_id INTEGER PRIMARY KEY, hash TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.origin_table} (position INTEGER NOT NULL)",
        ]

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"SELECT position FROM {self.origin_table}")
            if c.fetchone() is not None:
                return
            # A ledger recorded before the chain existed: seal what it holds, once.
            c.execute(f"SELECT rowid, * FROM {self.events_table_name} ORDER BY rowid")
            found = c.fetchall()
            ids = [row["rowid"] for row in found]
            rows = _seal_rows(GENESIS, ids, [
                StoredEvent(originator_id=row["originator_id"],
                            originator_version=row["originator_version"], topic=row["topic"],
                            state=row["state"])
                for row in found
            ])
            c.executemany(f"INSERT INTO {self.chain_table} VALUES (?, ?)", rows)
            c.execute(f"INSERT INTO {self.origin_table} VALUES (?)", (ids[-1] if ids else 0,))

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:
            c.execute(f"SELECT notification_id, hash FROM {self.chain_table} "
                      "ORDER BY notification_id DESC LIMIT 1")
            row = c.fetchone()
            last, previous = (row[0], row[1]) if row is not None else (0, GENESIS)
            c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name} WHERE rowid < ?", (ids[0],))
            _check_follows(last, ids[0], c.fetchone()[0])
            c.executemany(f"INSERT INTO {self.chain_table} VALUES (?, ?)",
                          _seal_rows(previous, ids, stored_events))
        return ids

    def seals(self, after: int, limit: int) -> Sequence[Seal]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT notification_id, hash FROM {self.chain_table} "
                      "WHERE notification_id > ? ORDER BY notification_id LIMIT ?", (after, limit))
            return [Seal(row[0], row[1]) for row in c.fetchall()]

    def head(self, position: int) -> Seal | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT notification_id, hash FROM {self.chain_table} "
                      "WHERE notification_id <= ? ORDER BY notification_id DESC LIMIT 1", (position,))
            row = c.fetchone()
            return None if row is None else Seal(row[0], row[1])

    def chain_origin(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT position FROM {self.origin_table}")
            row = c.fetchone()
            return 0 if row is None else int(row[0])


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL application recorder, sealing every event it records (in
    the transaction that holds the events table's lock)."""

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        from psycopg.sql import SQL, Identifier

        schema = Identifier(self.datastore.schema)
        self.chain_table = SQL("{}.{}").format(schema, Identifier(f"{self.events_table_name}_chain"))
        self.origin_table = SQL("{}.{}").format(
            schema, Identifier(f"{self.events_table_name}_chain_origin"))
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {} (notification_id BIGINT PRIMARY KEY, hash TEXT NOT NULL)"
        ).format(self.chain_table))
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {} (position BIGINT NOT NULL)").format(self.origin_table))
        self._head = threading.local()  # this thread's read of the chain's head, in flight

    def _sql(self, template: str, *tables: Any) -> Any:
        from psycopg.sql import SQL

        return SQL(template).format(*tables)

    def create_table(self) -> None:
        if self.datastore.enable_db_functions:
            raise LogAltered("the ledger seals events in Python: POSTGRES_ENABLE_DB_FUNCTIONS "
                             "must be off")
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._sql("SELECT position FROM {}", self.origin_table))
            if curs.fetchone() is not None:
                return
            curs.execute(self._sql("LOCK TABLE {}.{} IN EXCLUSIVE MODE", *self._events_table()))
            curs.execute(self._sql(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {}.{} ORDER BY notification_id", *self._events_table()))
            rows = curs.fetchall()
            events = [StoredEvent(row["originator_id"], row["originator_version"], row["topic"],
                                  bytes(row["state"])) for row in rows]
            ids = [row["notification_id"] for row in rows]
            seals = _seal_rows(GENESIS, ids, events)
            with curs.copy(self._sql("COPY {} (notification_id, hash) FROM STDIN",
                                     self.chain_table)) as copy:
                for seal in seals:
                    copy.write_row(seal)
            curs.execute(self._sql("INSERT INTO {} VALUES (%s)", self.origin_table),
                         (ids[-1] if ids else 0,))

    def _events_table(self) -> tuple[Any, Any]:
        from psycopg.sql import Identifier

        return Identifier(self.datastore.schema), Identifier(self.events_table_name)

    def _lock_table(self, curs: Any) -> None:
        """Take the events table's lock (the library's), then ask, in the same pipeline as
        the insert that follows, for the last seal and the last position: no round trip of
        its own while the lock is held."""
        super()._lock_table(curs)
        head = curs.connection.cursor()
        head.execute(self._sql(
            "SELECT last.notification_id, last.hash, (SELECT MAX(notification_id) FROM {}.{}) "
            "AS before FROM (SELECT 1) AS one LEFT JOIN (SELECT notification_id, hash FROM {} "
            "ORDER BY notification_id DESC LIMIT 1) AS last ON true",
            *self._events_table(), self.chain_table))
        self._head.cursor = head

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent],
                                       **kwargs: Any) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        head = self._head.__dict__.pop("cursor", None)
        if ids:
            assert head is not None, "the events were inserted without the table's lock"
            row = head.fetchone()
            head.close()
            last, previous = ((row["notification_id"], row["hash"])
                              if row["notification_id"] is not None else (0, GENESIS))
            _check_follows(last, ids[0], row["before"])
            curs.executemany(self._sql("INSERT INTO {} VALUES (%s, %s)", self.chain_table),
                             _seal_rows(previous, ids, stored_events))
        elif head is not None:
            head.close()
        return ids

    def seals(self, after: int, limit: int) -> Sequence[Seal]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql("SELECT notification_id, hash FROM {} WHERE notification_id > %s "
                                   "ORDER BY notification_id LIMIT %s", self.chain_table),
                         (after, limit))
            return [Seal(row["notification_id"], row["hash"]) for row in curs.fetchall()]

    def head(self, position: int) -> Seal | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql("SELECT notification_id, hash FROM {} WHERE notification_id <= %s "
                                   "ORDER BY notification_id DESC LIMIT 1", self.chain_table),
                         (position,))
            row = curs.fetchone()
            return None if row is None else Seal(row["notification_id"], row["hash"])

    def chain_origin(self) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql("SELECT position FROM {}", self.origin_table))
            row = curs.fetchone()
            return 0 if row is None else int(row["position"])


def walk(recorder: Any, batch: int = 5000) -> Iterator[tuple[int, Notification | None, Seal | None]]:
    """Every position of the log in order, with its event and its seal (either may be
    missing: an event deleted, or one recorded outside the ledger)."""
    after_event = after_seal = 0
    events: deque[Notification] = deque()
    seals: deque[Seal] = deque()
    events_done = seals_done = False
    while True:
        if not events and not events_done:
            events = deque(recorder.select_notifications(start=after_event, limit=batch,
                                                         inclusive_of_start=False))
            events_done = len(events) < batch
            if events:
                after_event = events[-1].id
        if not seals and not seals_done:
            seals = deque(recorder.seals(after_seal, batch))
            seals_done = len(seals) < batch
            if seals:
                after_seal = seals[-1].position
        if not events and not seals:
            return
        next_event = events[0].id if events else None
        next_seal = seals[0].position if seals else None
        position = min(p for p in (next_event, next_seal) if p is not None)
        event = events.popleft() if next_event == position else None
        seal = seals.popleft() if next_seal == position else None
        yield position, event, seal
