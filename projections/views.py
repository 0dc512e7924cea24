"""The view store: tables the billing projection writes, on SQLite or PostgreSQL.

Each store is one of the eventsourcing library's tracking recorders with the view tables
added, so a batch of view changes and the tracking position it reaches are written in one
transaction (:meth:`apply`). A crash at any point leaves either both or neither, and a
restart resumes from the recorded position: every notification is applied exactly once.
Two workers racing on the same position cannot both commit: the second tracking insert
fails and its transaction is rolled back.
"""

from __future__ import annotations

import copy
import hashlib
import operator
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from ledger.errors import StoreError
from projections.reconciliation import LINE_FACTS


@dataclass(frozen=True)
class Op:
    """A row inserted: the insert statement's name and the row, by column name (the
    statement's columns say the order the values go in)."""

    statement: str
    row: Mapping[str, Any]


def insert_params(statement: str, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """The values of rows of one insert statement, each in the statement's column order;
    ValueError naming the columns when a row has other columns than the table's."""
    columns = INSERT_COLUMNS[statement]
    try:
        if set(map(len, rows)) - {len(columns)}:
            raise KeyError
        # One C call per row (a rebuild makes hundreds of thousands).
        return list(map(_ROW_GETTERS[statement], rows))
    except KeyError:
        odd = next(row for row in rows if len(row) != len(columns) or set(row) != set(columns))
        raise ValueError(f"{statement}: a row of columns {sorted(odd)}, the table's "
                         f"are {sorted(columns)}") from None


@dataclass(frozen=True)
class Update:
    """Columns of one row changed by one event (None: unchanged)."""

    table: str
    key: str
    fields: dict[str, Any]
    notification_id: int


# Statements in psycopg's %s style; the SQLite store turns %s into ?.
TABLES = (
    """CREATE TABLE IF NOT EXISTS {p}accounts (
        account_id TEXT PRIMARY KEY, account TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
        billing_day INTEGER NOT NULL, currency TEXT, locale TEXT, opened_on TEXT NOT NULL,
        last_amount_due TEXT, last_billing_date TEXT, notification_id BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {p}subscriptions (
        subscription_id TEXT PRIMARY KEY, account TEXT NOT NULL, subscription TEXT NOT NULL,
        offer_id TEXT NOT NULL, status TEXT NOT NULL, quantity INTEGER NOT NULL,
        term_start TEXT, term_end TEXT, auto_renew INTEGER NOT NULL, version INTEGER NOT NULL,
        notification_id BIGINT NOT NULL, UNIQUE (account, subscription))""",
    # An issued invoice's document is its InvoiceIssued event (account_id, event_version);
    # the view indexes it and keeps what finance asks of it.
    """CREATE TABLE IF NOT EXISTS {p}invoices (
        account TEXT NOT NULL, billing_date TEXT NOT NULL, invoice_number TEXT NOT NULL,
        account_id TEXT NOT NULL, event_version INTEGER NOT NULL, digest TEXT NOT NULL,
        cut_position BIGINT NOT NULL, total TEXT NOT NULL, amount_due TEXT NOT NULL,
        account_name TEXT NOT NULL, partner_id TEXT NOT NULL, currency TEXT NOT NULL,
        notification_id BIGINT NOT NULL, PRIMARY KEY (billing_date, account)){without_rowid}""",
    # Each issued line's facts, as its invoice states them (the strings the documents show):
    # its reconciliation row (projections/reconciliation.py) and its entries in the books
    # (projections/journal.py) are both computed from this row and its invoice's.
    # Keys lead with the billing date: the log cuts billing dates in date order, so a
    # rebuild appends at the end of each index instead of writing all over it.
    """CREATE TABLE IF NOT EXISTS {p}invoice_lines (
        account TEXT NOT NULL, billing_date TEXT NOT NULL, line_no INTEGER NOT NULL,
        subscription TEXT NOT NULL, order_id TEXT NOT NULL, offer_id TEXT NOT NULL,
        offer_name TEXT NOT NULL, billing_cycle TEXT NOT NULL, term_start TEXT NOT NULL,
        term_end TEXT NOT NULL, service_start TEXT NOT NULL, service_end TEXT NOT NULL,
        charge_type TEXT NOT NULL, unit_price TEXT NOT NULL, quantity INTEGER NOT NULL,
        amount TEXT NOT NULL, sources TEXT NOT NULL, notification_id BIGINT NOT NULL,
        PRIMARY KEY (billing_date, account, line_no)){without_rowid}""",
    # The books' other fact, each recorded payment. A payment's account is its event's
    # aggregate; key and currency come from accounts.
    """CREATE TABLE IF NOT EXISTS {p}journal_payments (
        paid_on TEXT NOT NULL, account_id TEXT NOT NULL, event_version INTEGER NOT NULL,
        amount TEXT NOT NULL, reference TEXT NOT NULL, notification_id BIGINT NOT NULL,
        PRIMARY KEY (paid_on, account_id, event_version)){without_rowid}""",
    "CREATE INDEX IF NOT EXISTS {i}invoices_by_number ON {p}invoices (invoice_number)",
    "CREATE INDEX IF NOT EXISTS {i}invoices_by_account ON {p}invoices (account, billing_date)",
)
VIEW_TABLES = ("invoice_lines", "invoices", "subscriptions", "accounts", "journal_payments")
#: Tables earlier shapes of the views had (dropped with the others when the shape changes).
RETIRED_TABLES = ("recon_lines", "journal_lines")
#: Each view table's key (the order verify reads rows in).
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id",),
    "subscriptions": ("subscription_id",),
    "invoices": ("billing_date", "account"),
    "invoice_lines": ("billing_date", "account", "line_no"),
    "journal_payments": ("paid_on", "account_id", "event_version"),
}

#: The shape of the view tables. A store whose tables were made to another shape (by an
#: older or newer version of this code) has them dropped and rebuilt from the log when it
#: is opened: views are derived data, the events are the record.
SCHEMA_FINGERPRINT = hashlib.sha256("\n".join(TABLES).encode()).hexdigest()[:16]

STATEMENTS: dict[str, str] = {
    "account_opened": (
        "INSERT INTO {p}accounts (account_id, account, name, billing_day, currency, locale, "
        "opened_on, last_amount_due, last_billing_date, notification_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ),
    "subscription_purchased": (
        "INSERT INTO {p}subscriptions (subscription_id, account, subscription, offer_id, status, "
        "quantity, term_start, term_end, auto_renew, version, notification_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ),
    "invoice_issued": (
        "INSERT INTO {p}invoices (account, billing_date, invoice_number, account_id, "
        "event_version, digest, cut_position, total, amount_due, account_name, partner_id, "
        "currency, notification_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ),
    "invoice_line": (
        f"INSERT INTO {{p}}invoice_lines (account, billing_date, line_no, {', '.join(LINE_FACTS)}, "
        f"notification_id) VALUES (%s, %s, %s, {', '.join(['%s'] * len(LINE_FACTS))}, %s)"
    ),
    "journal_payment": (
        "INSERT INTO {p}journal_payments (paid_on, account_id, event_version, amount, reference, "
        "notification_id) VALUES (%s, %s, %s, %s, %s, %s)"
    ),
}



def _insert_columns(insert: str) -> tuple[str, ...]:
    """The columns an ``INSERT INTO table (a, b, ...) VALUES ...`` statement names, in order."""
    listed = insert.partition(" (")[2].partition(")")[0]
    return tuple(name.strip().strip('"') for name in listed.split(","))


#: Each insert statement's columns, in the order its values go.
INSERT_COLUMNS: dict[str, tuple[str, ...]] = {
    name: _insert_columns(insert) for name, insert in STATEMENTS.items()}
# A row's values in its statement's column order, in one C call (the fold makes millions).
_ROW_GETTERS = {name: operator.itemgetter(*columns) for name, columns in INSERT_COLUMNS.items()}


def _copy_statement(insert: str) -> str:
    """``COPY`` into the table and columns of an ``INSERT ... VALUES (%s, ...)`` statement."""
    head, _, values = insert.partition(" VALUES ")
    assert set(values.strip("()").replace(" ", "").split(",")) == {"%s"}, insert
    return head.replace("INSERT INTO ", "COPY ", 1) + " FROM STDIN"


COPIES = {name: _copy_statement(insert) for name, insert in STATEMENTS.items()}

# Row updates: the columns each table's rows may change, and how. A batch merges every
# update of a row (later values win) and sends one statement per table.
UPDATABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "accounts": ("account_id", ("currency", "last_amount_due", "last_billing_date")),
    "subscriptions": ("subscription_id", ("status", "quantity", "term_start", "term_end",
                                          "offer_id", "auto_renew", "version")),
}
_KEEP_FIRST = {"currency"}  # set once: the first subscription's currency


def _update_statement(table: str) -> str:
    key, columns = UPDATABLE[table]
    sets = ", ".join(
        f"{c} = COALESCE({c}, %s)" if c in _KEEP_FIRST else f"{c} = COALESCE(%s, {c})"
        for c in columns
    )
    return f"UPDATE {{p}}{table} SET {sets}, notification_id = %s WHERE {key} = %s"


UPDATES = {table: _update_statement(table) for table in UPDATABLE}

_INTEGER_COLUMNS = {"quantity", "auto_renew", "version"}


def _bulk_update_statement(table: str) -> str:
    """PostgreSQL: :data:`UPDATES` for many rows at once, their values unnested from arrays."""
    key, columns = UPDATABLE[table]
    sets = ", ".join(
        f"{c} = COALESCE(t.{c}, v.{c})" if c in _KEEP_FIRST else f"{c} = COALESCE(v.{c}, t.{c})"
        for c in columns
    )
    arrays = ", ".join(
        f"%s::{'integer' if c in _INTEGER_COLUMNS else 'text'}[]" for c in columns
    )
    return (
        f"UPDATE {{p}}{table} AS t SET {sets}, notification_id = v.notification_id "
        f"FROM unnest({arrays}, %s::bigint[], %s::text[]) "
        f"AS v({', '.join(columns)}, notification_id, key) WHERE t.{key} = v.key"
    )


BULK_UPDATES = {table: _bulk_update_statement(table) for table in UPDATABLE}

QUERIES: dict[str, str] = {
    "invoice": "SELECT * FROM {p}invoices WHERE account = %s AND billing_date = %s",
    "invoice_by_number": "SELECT * FROM {p}invoices WHERE invoice_number = %s",
    "invoices_of": "SELECT * FROM {p}invoices WHERE account = %s ORDER BY billing_date",
    "all_invoices": "SELECT * FROM {p}invoices ORDER BY account, billing_date",
    # An invoice's lines with what the invoice says once for all of them (the facts its
    # reconciliation rows are made of).
    "invoice_lines": (
        "SELECT l.*, i.account_name, i.partner_id, i.invoice_number, i.currency "
        "FROM {p}invoice_lines l "
        "JOIN {p}invoices i ON i.billing_date = l.billing_date AND i.account = l.account "
        "WHERE l.account = %s AND l.billing_date = %s ORDER BY l.line_no"
    ),
    "account": "SELECT * FROM {p}accounts WHERE account = %s",
    "accounts": "SELECT * FROM {p}accounts ORDER BY account",
    "subscriptions_of": (
        "SELECT * FROM {p}subscriptions WHERE account = %s ORDER BY subscription"
    ),
    # The books: issued lines with their invoice, payments with their account, to a date.
    "journal_lines": (
        "SELECT l.*, i.invoice_number, i.event_version, i.currency FROM {p}invoice_lines l "
        "JOIN {p}invoices i ON i.billing_date = l.billing_date AND i.account = l.account "
        "WHERE l.billing_date <= %s AND (CAST(%s AS TEXT) IS NULL OR l.account = %s) "
        "ORDER BY l.billing_date, l.account, l.line_no"
    ),
    "journal_payments": (
        "SELECT p.*, a.account, a.currency FROM {p}journal_payments p "
        "JOIN {p}accounts a ON a.account_id = p.account_id "
        "WHERE p.paid_on <= %s AND (CAST(%s AS TEXT) IS NULL OR a.account = %s) "
        "ORDER BY p.paid_on, a.account, p.event_version"
    ),
}


#: What the drivers raise when a row already exists.
_DUPLICATE_ROW = (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)


class PositionMoved(Exception):
    """A batch's start is no longer the tracked position: another worker committed a batch
    first, or a rebuild swapped the views in. Nothing was written; read the position again."""


class ViewsCorrupt(StoreError):
    """The views cannot be brought up to date safely (their tracking row is missing, or they
    hold rows beyond their tracked position): ``billing-ledger rebuild`` rebuilds them from
    the log."""


class _Views:
    """What both stores share: statements, queries and the one-transaction apply.

    The tracking row of a set of views is moved by compare-and-set: a batch is written only
    if the tracked position is still the one it was read after, so two workers, or a worker
    and a rebuild being swapped in, can never both write a batch, and no batch is ever
    written into views it did not start from."""

    prefix = "billing_"
    _for_update = ""  # how a SELECT locks the rows it reads, where the database needs it
    #: Tables of a rebuild in progress are named with this prefix, beside the live ones.
    SHADOW_PREFIX = "billing_rebuild_"
    datastore: Any

    if TYPE_CHECKING:  # provided by the eventsourcing tracking recorder each store extends

        def _max_tracking_id(self, application_name: str, cursor: Any) -> int | None: ...

        table_migration_identifier: str

    def _sql(self, template: str) -> str:
        raise NotImplementedError

    def _tracking_table(self) -> str:
        raise NotImplementedError

    def _transaction(self, *, commit: bool) -> Any:
        return self.datastore.transaction(commit=commit)

    def view_statements(self, *, indexes: bool = True) -> list[str]:
        return [self._sql(statement) for statement in TABLES
                if indexes or not statement.startswith("CREATE INDEX")]

    def create_table(self) -> None:
        super().create_table()  # type: ignore[misc]  # the tracking recorder's, then ours
        self._upgrade_views()

    def _upgrade_views(self) -> None:
        """Drop and recreate the view tables, and forget every tracked position, when they
        were made to another shape than :data:`SCHEMA_FINGERPRINT`; the next catch-up
        rebuilds them from the log."""
        with self._schema_transaction() as cursor:
            cursor.execute(self._sql("CREATE TABLE IF NOT EXISTS {p}schema (fingerprint TEXT NOT NULL)"))
            cursor.execute(self._sql("SELECT fingerprint FROM {p}schema"))
            row = cursor.fetchone()
            if row is not None and (row["fingerprint"] == SCHEMA_FINGERPRINT):
                return
            for table in (*VIEW_TABLES, *RETIRED_TABLES):
                cursor.execute(self._sql(f"DROP TABLE IF EXISTS {{p}}{table}"))
            for statement in self.view_statements():
                cursor.execute(statement)
            cursor.execute(self._forget_positions_sql(), (self.table_migration_identifier,))
            cursor.execute(self._sql("DELETE FROM {p}schema"))
            cursor.execute(self._sql("INSERT INTO {p}schema (fingerprint) VALUES (%s)"),
                           (SCHEMA_FINGERPRINT,))

    def _schema_transaction(self) -> Any:
        return self._transaction(commit=True)

    def _forget_positions_sql(self) -> str:
        raise NotImplementedError

    # ------------------------------------------------------------------ tracking
    def start_tracking(self, name: str) -> None:
        """Make sure ``name`` has a tracking row (at 0 when it is new)."""
        with self._transaction(commit=True) as cursor:
            cursor.execute(self._sql(f"INSERT INTO {self._tracking_table()} "
                                     "(application_name, notification_id) VALUES (%s, 0) "
                                     "ON CONFLICT DO NOTHING"), (name,))

    def position(self, application_name: str) -> int:
        """The tracked position; :class:`ViewsCorrupt` when the tracking row is missing."""
        with self._transaction(commit=False) as cursor:
            found = self._max_tracking_id(application_name, cursor)
        if found is None:
            raise ViewsCorrupt(
                "the views' tracking row is missing (deleted outside the ledger?), so where "
                "they stand in the log is unknown: run `billing-ledger rebuild`"
            )
        return found

    def apply(self, ops: Sequence[Op | Update], name: str, start: int, end: int) -> None:
        """Write ``ops`` and move ``name``'s tracking position from ``start`` to ``end``, in
        one transaction; :class:`PositionMoved` (nothing written) when it is not at
        ``start`` any more.

        Inserts go first, a statement at a time (each row is inserted once, before any
        update of it; rows of a table have no order). Then every row's updates, merged in
        event order, one statement per table."""
        inserted: dict[str, list[Mapping[str, Any]]] = {}
        # Per table, each row's merged changes and the last notification that made one.
        changed: dict[str, dict[str, tuple[dict[str, Any], int]]] = {t: {} for t in UPDATABLE}
        for op in ops:
            if isinstance(op, Op):
                inserted.setdefault(op.statement, []).append(op.row)
                continue
            rows = changed[op.table]
            fields = rows[op.key][0] if op.key in rows else {}
            for field_name, value in op.fields.items():
                if value is not None and not (field_name in _KEEP_FIRST and field_name in fields):
                    fields[field_name] = value
            rows[op.key] = (fields, op.notification_id)
        inserts = {statement: insert_params(statement, found) for statement, found in inserted.items()}
        with self._transaction(commit=True) as cursor:
            cursor.execute(self._sql(f"UPDATE {self._tracking_table()} SET notification_id = %s "
                                     "WHERE application_name = %s AND notification_id = %s "
                                     "RETURNING notification_id"), (end, name, start))
            if cursor.fetchone() is None:
                raise PositionMoved(start)
            try:
                for statement, params in inserts.items():
                    self._insert_rows(cursor, statement, params)
            except _DUPLICATE_ROW:
                raise ViewsCorrupt(
                    f"the views already hold rows of events after their tracked position "
                    f"({start}): the tracking row was lowered, or rows were added outside the "
                    "ledger; run `billing-ledger rebuild`"
                ) from None
            for table, (_, columns) in UPDATABLE.items():
                params = [
                    (*map(fields.get, columns), notification_id, key)
                    for key, (fields, notification_id) in changed[table].items()
                ]
                if params:
                    self._update_rows(cursor, table, params)

    def _insert_rows(self, cursor: Any, statement: str, params: list[tuple[Any, ...]]) -> None:
        cursor.executemany(self._sql(STATEMENTS[statement]), params)

    def _update_rows(self, cursor: Any, table: str, params: list[tuple[Any, ...]]) -> None:
        cursor.executemany(self._sql(UPDATES[table]), params)

    # ------------------------------------------------------------------ rebuilding beside
    def shadow(self) -> _Views:
        """These views' rebuild in progress: the same statements on tables named with
        :data:`SHADOW_PREFIX` (without their secondary indexes, made at the swap)."""
        twin = copy.copy(self)
        twin.prefix = self.SHADOW_PREFIX
        return twin

    @staticmethod
    def shadow_name(name: str) -> str:
        return f"{name}@rebuild:{SCHEMA_FINGERPRINT}"

    def prepare_shadow(self, name: str) -> None:
        """Make the tables of a rebuild of ``name`` beside the live ones, or keep those of an
        unfinished rebuild of the same shape (its rows and position commit together, so it
        resumes where it stopped)."""
        assert self.prefix == self.SHADOW_PREFIX
        shadow_name = self.shadow_name(name)
        with self._schema_transaction() as cursor:
            cursor.execute(self._sql(f"SELECT notification_id FROM {self._tracking_table()} "
                                     "WHERE application_name = %s"), (shadow_name,))
            if cursor.fetchone() is not None:
                return
            for table in (*VIEW_TABLES, *RETIRED_TABLES):
                cursor.execute(self._sql(f"DROP TABLE IF EXISTS {{p}}{table}"))
            for statement in self.view_statements(indexes=False):
                cursor.execute(statement)
            cursor.execute(self._sql(f"DELETE FROM {self._tracking_table()} "
                                     "WHERE application_name LIKE %s"), (f"{name}@rebuild:%",))
            cursor.execute(self._sql(f"INSERT INTO {self._tracking_table()} "
                                     "(application_name, notification_id) VALUES (%s, 0)"),
                           (shadow_name,))

    def swap_in(self, shadow: _Views, name: str) -> bool:
        """Replace these (live) views by the rebuilt ``shadow`` ones in one transaction, the
        live position becoming the rebuild's. False when there was nothing to swap in (a
        concurrent rebuild did it first)."""
        shadow_name = self.shadow_name(name)
        with self._schema_transaction() as cursor:
            # The tracking rows first, as every batch takes them before its tables: a batch
            # under way finishes before the swap starts, and the next one waits for it.
            cursor.execute(self._sql(f"SELECT application_name, notification_id FROM "
                                     f"{self._tracking_table()} WHERE application_name IN (%s, %s) "
                                     f"ORDER BY application_name{self._for_update}"),
                           (name, shadow_name))
            positions = {row["application_name"]: row["notification_id"] for row in cursor.fetchall()}
            if shadow_name not in positions:
                return False
            row = {"notification_id": positions[shadow_name]}
            for table in VIEW_TABLES:
                cursor.execute(self._sql(f"DROP TABLE IF EXISTS {{p}}{table}"))
                cursor.execute(shadow._sql(f"ALTER TABLE {{p}}{table} RENAME TO ")
                               + self._bare(table))
            self._rename_shadow_indexes(cursor)
            for statement in self.view_statements():
                if statement.startswith("CREATE INDEX"):
                    cursor.execute(statement)
            cursor.execute(self._sql(f"DELETE FROM {self._tracking_table()} "
                                     "WHERE application_name IN (%s, %s)"), (name, shadow_name))
            cursor.execute(self._sql(f"INSERT INTO {self._tracking_table()} "
                                     "(application_name, notification_id) VALUES (%s, %s)"),
                           (name, row["notification_id"]))
        return True

    def _bare(self, table: str) -> str:
        """A live table's name as ``ALTER TABLE ... RENAME TO`` wants it (no schema)."""
        return f"{self.prefix}{table}"

    def _rename_shadow_indexes(self, cursor: Any) -> None:
        """SQLite renames the indexes that come with a table's keys; see PostgreSQL's."""

    def query(self, name: str, *params: Any) -> list[dict[str, Any]]:
        with self._transaction(commit=False) as cursor:
            cursor.execute(self._sql(QUERIES[name]), params)
            return [dict(row) for row in cursor.fetchall()]

    def table_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a view table, in key order (what verify compares)."""
        key = TABLE_KEYS[table]
        with self._transaction(commit=False) as cursor:
            cursor.execute(self._sql(f"SELECT * FROM {{p}}{table} ORDER BY {', '.join(key)}"))
            return [dict(row) for row in cursor.fetchall()]

    def fingerprint(self) -> str | None:
        """The shape the stored view tables were made to (None: no view tables), read
        without creating or changing anything."""
        with self._transaction(commit=False) as cursor:
            cursor.execute(self._sql("SELECT fingerprint FROM {p}schema"))
            row = cursor.fetchone()
        return None if row is None else str(row["fingerprint"])

    def dump(self, application_name: str) -> tuple[dict[str, list[dict[str, Any]]], int]:
        """Every row of every view table and the position they stand at, read in one
        snapshot (to copy the views somewhere else)."""
        with self._transaction(commit=False) as cursor:
            self._snapshot(cursor)
            tables: dict[str, list[dict[str, Any]]] = {}
            for table in VIEW_TABLES:
                cursor.execute(self._sql(f"SELECT * FROM {{p}}{table}"))
                tables[table] = [dict(row) for row in cursor.fetchall()]
            return tables, self._max_tracking_id(application_name, cursor) or 0

    def _snapshot(self, cursor: Any) -> None:
        """Make the transaction's reads one snapshot (SQLite's already are)."""

    def load(self, tables: dict[str, list[dict[str, Any]]], name: str, position: int) -> None:
        """Insert rows :meth:`dump` read (into empty views) and set ``name``'s tracking
        position, in one transaction."""
        with self._transaction(commit=True) as cursor:
            for table, rows in tables.items():
                if not rows:
                    continue
                columns = list(rows[0])
                names = ", ".join(f'"{column}"' for column in columns)
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    self._sql(f"INSERT INTO {{p}}{table} ({names}) VALUES ({marks})"),
                    [tuple(row[column] for column in columns) for row in rows])
            cursor.execute(self._sql(f"INSERT INTO {self._tracking_table()} "
                                     "(application_name, notification_id) VALUES (%s, %s)"),
                           (name, position))


class SQLiteBillingViews(_Views, SQLiteTrackingRecorder):
    """The views in the ledger's SQLite file (tables ``billing_*`` beside ``stored_events``).

    Its connections commit with ``synchronous=NORMAL``: in WAL mode a commit stays atomic and
    consistent, and a power cut can only lose the last batches, together with the tracking
    position that records them, so they are projected again. (The event store keeps FULL.)
    """

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.get_connection(commit=commit) as connection:
            raw = connection._sqlite_conn
            if not getattr(connection, "views_pragmas", False):
                raw.execute("PRAGMA synchronous=NORMAL")
                raw.execute("PRAGMA wal_autocheckpoint=10000")
                connection.views_pragmas = True
            with connection.transaction(commit=commit) as cursor:
                yield cursor

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self.view_statements()]

    def create_table(self) -> None:
        # eventsourcing's SQLite recorder reads "does the tracking table exist?" outside the
        # transaction that creates it, so when two processes open a fresh file at once the
        # slower one also inserts the table's migration row and gets an IntegrityError. The
        # tables exist by then: a second pass sees them and inserts nothing.
        try:
            super().create_table()
        except IntegrityError:
            self.tracking_table_exists = False
            self.tracking_migration_current = self.tracking_migration_previous = None
            super().create_table()

    def _sql(self, template: str) -> str:
        return (template.replace("{p}", self.prefix).replace("{i}", self.prefix)
                .replace("{without_rowid}", " WITHOUT ROWID").replace("%s", "?"))

    def _tracking_table(self) -> str:
        return "tracking"

    def _forget_positions_sql(self) -> str:
        return "DELETE FROM tracking WHERE application_name <> ?"

    @contextmanager
    def _schema_transaction(self) -> Iterator[Any]:
        # BEGIN IMMEDIATE: two processes opening the file at once take turns, rather than
        # both reading an old fingerprint and then failing to upgrade their read locks.
        with self.datastore.get_connection(commit=True) as connection:
            raw = connection._sqlite_conn
            raw.execute("BEGIN IMMEDIATE")
            try:
                yield raw.cursor()
            except BaseException:
                raw.rollback()
                raise
            raw.commit()


class PostgresBillingViews(_Views, PostgresTrackingRecorder):
    """The views in the ledger's PostgreSQL schema (tables ``billing_*``)."""

    _for_update = " FOR UPDATE"

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        from psycopg.sql import SQL

        for statement in self.view_statements():
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]

    def _snapshot(self, cursor: Any) -> None:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def _sql(self, template: str) -> str:
        qualified = f'"{self.datastore.schema}".{self.prefix}'
        return (template.replace("{p}", qualified).replace("{i}", self.prefix)
                .replace("{without_rowid}", ""))

    def _tracking_table(self) -> str:
        return f'"{self.datastore.schema}"."{self.tracking_table_name}"'

    def _rename_shadow_indexes(self, cursor: Any) -> None:
        # The indexes of a table's keys keep the names they were made with when the table
        # is renamed: give the rebuilt tables' the live names (the live ones were dropped).
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s AND indexname LIKE %s",
                       (self.datastore.schema, self.SHADOW_PREFIX.replace("_", "\\_") + "%"))
        for row in cursor.fetchall():
            old = row["indexname"]
            new = self.prefix + old.removeprefix(self.SHADOW_PREFIX)
            cursor.execute(f'ALTER INDEX "{self.datastore.schema}"."{old}" RENAME TO "{new}"')

    def _insert_rows(self, cursor: Any, statement: str, params: list[tuple[Any, ...]]) -> None:
        # COPY: one stream per table and batch instead of a round of the protocol per row
        # (a rebuild spent more than half its time in executemany's per-row messages).
        with cursor.copy(self._sql(COPIES[statement])) as copy:
            for row in params:
                copy.write_row(row)

    def _update_rows(self, cursor: Any, table: str, params: list[tuple[Any, ...]]) -> None:
        # One statement per table and batch: the rows' values go as one array per column.
        columns = [list(column) for column in zip(*params, strict=True)]
        cursor.execute(self._sql(BULK_UPDATES[table]), columns)

    def _forget_positions_sql(self) -> str:
        # Called with the schema lock held (ledger.eventstore.schema_lock), so processes opening
        # the store at once take turns.
        return f"DELETE FROM {self._tracking_table()} WHERE application_name <> %s"
