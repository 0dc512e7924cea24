"""The view store: tables the billing projection writes, on SQLite or PostgreSQL.

Each store is one of the eventsourcing library's tracking recorders with the view tables
added, so a batch of view changes and the tracking position it reaches are written in one
transaction (:meth:`apply`). A crash at any point leaves either both or neither, and a
restart resumes from the recorded position: every notification is applied exactly once.
Two workers racing on the same position cannot both commit: the second tracking insert
fails and its transaction is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from projections.reconciliation import COLUMNS


@dataclass(frozen=True)
class Op:
    """One statement of a view change: the statement's name and its parameters."""

    statement: str
    params: tuple[Any, ...]


_RECON_COLUMNS = ", ".join(f'"{name}"' for name in COLUMNS)
_RECON_MARKS = ", ".join(["%s"] * len(COLUMNS))

# Statements in psycopg's %s style; the SQLite store turns %s into ?.
TABLES = (
    """CREATE TABLE IF NOT EXISTS {p}accounts (
        account_id TEXT PRIMARY KEY, account TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
        billing_day INTEGER NOT NULL, currency TEXT, opened_on TEXT NOT NULL,
        last_amount_due TEXT, last_billing_date TEXT, notification_id BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {p}subscriptions (
        subscription_id TEXT PRIMARY KEY, account TEXT NOT NULL, subscription TEXT NOT NULL,
        offer_id TEXT NOT NULL, status TEXT NOT NULL, quantity INTEGER NOT NULL,
        term_start TEXT, term_end TEXT, auto_renew INTEGER NOT NULL, version INTEGER NOT NULL,
        notification_id BIGINT NOT NULL, UNIQUE (account, subscription))""",
    """CREATE TABLE IF NOT EXISTS {p}invoices (
        account TEXT NOT NULL, billing_date TEXT NOT NULL, invoice_number TEXT NOT NULL,
        document TEXT NOT NULL, digest TEXT NOT NULL, cut_position BIGINT NOT NULL,
        amount_due TEXT NOT NULL, notification_id BIGINT NOT NULL,
        PRIMARY KEY (account, billing_date))""",
    f"""CREATE TABLE IF NOT EXISTS {{p}}recon_lines (
        account TEXT NOT NULL, billing_date TEXT NOT NULL, line_no INTEGER NOT NULL,
        {", ".join(f'"{name}" TEXT NOT NULL' for name in COLUMNS)},
        PRIMARY KEY (account, billing_date, line_no))""",
    "CREATE INDEX IF NOT EXISTS {i}invoices_by_number ON {p}invoices (invoice_number)",
)
VIEW_TABLES = ("recon_lines", "invoices", "subscriptions", "accounts")

_SUB = " version = %s, notification_id = %s WHERE subscription_id = %s"
STATEMENTS: dict[str, str] = {
    "account_opened": (
        "INSERT INTO {p}accounts (account_id, account, name, billing_day, currency, opened_on, "
        "last_amount_due, last_billing_date, notification_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, NULL, NULL, %s)"
    ),
    "account_currency": (
        "UPDATE {p}accounts SET currency = COALESCE(currency, %s), notification_id = %s "
        "WHERE account_id = %s"
    ),
    "account_billed": (
        "UPDATE {p}accounts SET last_amount_due = %s, last_billing_date = %s, "
        "notification_id = %s WHERE account_id = %s"
    ),
    "account_closed_date": (
        "UPDATE {p}accounts SET last_billing_date = %s, notification_id = %s WHERE account_id = %s"
    ),
    "subscription_purchased": (
        "INSERT INTO {p}subscriptions (subscription_id, account, subscription, offer_id, status, "
        "quantity, term_start, term_end, auto_renew, version, notification_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ),
    "subscription_quantity": "UPDATE {p}subscriptions SET quantity = %s," + _SUB,
    "subscription_status": "UPDATE {p}subscriptions SET status = %s," + _SUB,
    "subscription_term": (
        "UPDATE {p}subscriptions SET status = 'active', term_start = %s, term_end = %s, "
        "offer_id = COALESCE(%s, offer_id)," + _SUB
    ),
    "subscription_auto_renew": "UPDATE {p}subscriptions SET auto_renew = %s," + _SUB,
    "subscription_version": "UPDATE {p}subscriptions SET" + _SUB,
    "invoice_issued": (
        "INSERT INTO {p}invoices (account, billing_date, invoice_number, document, digest, "
        "cut_position, amount_due, notification_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    ),
    "recon_line": (
        f"INSERT INTO {{p}}recon_lines (account, billing_date, line_no, {_RECON_COLUMNS}) "
        f"VALUES (%s, %s, %s, {_RECON_MARKS})"
    ),
}

INSERTS = frozenset(name for name, sql in STATEMENTS.items() if sql.startswith("INSERT"))

QUERIES: dict[str, str] = {
    "invoice": "SELECT * FROM {p}invoices WHERE account = %s AND billing_date = %s",
    "invoice_by_number": "SELECT * FROM {p}invoices WHERE invoice_number = %s",
    "invoices_of": "SELECT * FROM {p}invoices WHERE account = %s ORDER BY billing_date",
    "all_invoices": "SELECT * FROM {p}invoices ORDER BY account, billing_date",
    "recon_lines": (
        f"SELECT {_RECON_COLUMNS} FROM {{p}}recon_lines "
        "WHERE account = %s AND billing_date = %s ORDER BY line_no"
    ),
    "account": "SELECT * FROM {p}accounts WHERE account = %s",
    "accounts": "SELECT * FROM {p}accounts ORDER BY account",
    "subscriptions_of": (
        "SELECT * FROM {p}subscriptions WHERE account = %s ORDER BY subscription"
    ),
}


class _Views:
    """What both stores share: statements, queries and the one-transaction apply."""

    prefix = "billing_"
    datastore: Any

    if TYPE_CHECKING:  # provided by the eventsourcing tracking recorder each store extends

        def _insert_tracking(self, cursor: Any, tracking: Tracking) -> None: ...

        def _max_tracking_id(self, application_name: str, cursor: Any) -> int | None: ...

    def _sql(self, template: str) -> str:
        raise NotImplementedError

    def _transaction(self, *, commit: bool) -> Any:
        return self.datastore.transaction(commit=commit)

    def view_statements(self) -> list[str]:
        return [self._sql(statement) for statement in TABLES]

    def apply(self, ops: Sequence[Op], tracking: Tracking) -> None:
        """Write ``ops`` and advance the tracking position, in one transaction.

        Inserts go first, one statement at a time (each row is inserted once, before any
        update of it, and rows of a table have no order); updates follow in event order,
        consecutive ones of a kind sent together."""
        inserts: dict[str, list[tuple[Any, ...]]] = {}
        updates: list[Op] = []
        for op in ops:
            if op.statement in INSERTS:
                inserts.setdefault(op.statement, []).append(op.params)
            else:
                updates.append(op)
        with self._transaction(commit=True) as cursor:
            for statement, rows in inserts.items():
                self._run_many(cursor, statement, rows)
            batch: list[tuple[Any, ...]] = []
            current: str | None = None
            for op in updates:
                if op.statement != current and batch:
                    self._run_many(cursor, current, batch)
                    batch = []
                current = op.statement
                batch.append(op.params)
            if batch:
                self._run_many(cursor, current, batch)
            self._insert_tracking(cursor, tracking)

    def _run_many(self, cursor: Any, statement: str | None, params: list[tuple[Any, ...]]) -> None:
        assert statement is not None
        cursor.executemany(self._sql(STATEMENTS[statement]), params)

    def clear(self, application_name: str) -> None:
        """Empty every view and forget the tracking position, in one transaction."""
        with self._transaction(commit=True) as cursor:
            for table in VIEW_TABLES:
                cursor.execute(self._sql(f"DELETE FROM {{p}}{table}"))
            cursor.execute(self._delete_tracking_sql(), (application_name,))

    def _delete_tracking_sql(self) -> str:
        raise NotImplementedError

    def position(self, application_name: str) -> int:
        with self._transaction(commit=False) as cursor:
            return self._max_tracking_id(application_name, cursor) or 0

    def query(self, name: str, *params: Any) -> list[dict[str, Any]]:
        with self._transaction(commit=False) as cursor:
            cursor.execute(self._sql(QUERIES[name]), params)
            return [dict(row) for row in cursor.fetchall()]

    @contextmanager
    def editing(self) -> Iterator[Any]:
        """A raw cursor in a committed transaction (tests use it to tamper with rows)."""
        with self._transaction(commit=True) as cursor:
            yield _Raw(self, cursor)


class _Raw:
    def __init__(self, views: _Views, cursor: Any) -> None:
        self.views, self.cursor = views, cursor

    def execute(self, template: str, *params: Any) -> None:
        self.cursor.execute(self.views._sql(template), params)


class SQLiteBillingViews(_Views, SQLiteTrackingRecorder):
    """The views in the ledger's SQLite file (tables ``billing_*`` beside ``stored_events``)."""

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self.view_statements()]

    def _sql(self, template: str) -> str:
        return template.replace("{p}", self.prefix).replace("{i}", self.prefix).replace("%s", "?")

    def _delete_tracking_sql(self) -> str:
        return "DELETE FROM tracking WHERE application_name = ?"


class PostgresBillingViews(_Views, PostgresTrackingRecorder):
    """The views in the ledger's PostgreSQL schema (tables ``billing_*``)."""

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        from psycopg.sql import SQL

        for statement in self.view_statements():
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]

    def _sql(self, template: str) -> str:
        qualified = f'"{self.datastore.schema}".{self.prefix}'
        return template.replace("{p}", qualified).replace("{i}", self.prefix)

    def _delete_tracking_sql(self) -> str:
        table = f'"{self.datastore.schema}"."{self.tracking_table_name}"'
        return f"DELETE FROM {table} WHERE application_name = %s"
