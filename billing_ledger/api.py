"""``Ledger``: the one object an application embeds.

    from billing_ledger.api import Ledger
    ledger = Ledger("ledger.sqlite")            # or "postgresql://user@host/db?schema=billing"

It wires the write side (:class:`~ledger.application.BillingApplication`) to its read side (the
billing views in the same store), the audit tools and the event feed. Construct it with a
store location and a clock (the machine's UTC clock by default, a
:class:`~ledger.clock.TestClock` to travel in time). Everything the ``billing-ledger`` command
line does goes through it. Reads first bring the views up to date with the log.

``Ledger(store, read_only=True)`` opens an existing ledger without creating, migrating or
writing anything (the command line's read commands use it): a location that holds no ledger
is refused (:class:`~ledger.errors.NotALedger`), commands are refused, and reads answer from
the stored views when they are up to date with the log, else from a copy of them brought up
to date in memory.

It holds no global state and does nothing at import. One instance may be shared by several
threads. Every error it raises on purpose is a :class:`~ledger.errors.LedgerError`; a failure
of the database itself is a :class:`~ledger.errors.StoreError`.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

import psycopg
from eventsourcing.persistence import PersistenceError

from billing_ledger import outputs
from ledger import bounds
from ledger import workers as workers_module
from ledger.application import BillingApplication
from ledger.charges import ChargeLine
from ledger.clock import Clock, SystemClock, TestClock, today
from ledger.commands import Command, CommandMethods
from ledger.errors import (
    EffectiveDateInFuture,
    InvalidInput,
    MissingDatabase,
    NotALedger,
    StoreError,
)
from ledger.eventstore import DB_ENV_VAR, DEFAULT_DB, store_env
from ledger.locales import normalise
from ledger.scheduler import BillRun
from projections import audit, invoices, journal, queries, reconciliation, verification
from projections.feed import Feed
from projections.runner import DEFAULT_BATCH, Projector, ViewStore
from projections.view_rows import TOPICS
from projections.views import SCHEMA_FINGERPRINT, ViewsCorrupt, _Views

Progress = Callable[[int, int], None]
#: What the store's drivers raise when the database itself fails.
STORE_FAILURES: tuple[type[Exception], ...] = (PersistenceError, sqlite3.Error, psycopg.Error)
_NOT_YET: tuple[type[Exception], ...] = (*STORE_FAILURES, ViewsCorrupt)
P = ParamSpec("P")
R = TypeVar("R")


def default_location() -> str | None:
    """``BILLING_LEDGER_DB``; else None when the eventsourcing library's own variables
    (``PERSISTENCE_MODULE``, ``SQLITE_DBNAME``, ``POSTGRES_*``) configure the store; else
    ``./ledger.sqlite``."""
    if os.environ.get(DB_ENV_VAR):
        return os.environ[DB_ENV_VAR]
    if os.environ.get("PERSISTENCE_MODULE"):
        return None
    return DEFAULT_DB


def sqlite_reader(path: str) -> str:
    """A URI that reads the SQLite file ``path`` and never writes to it; NotALedger when
    the file holds no ledger (another application's database, or no database at all).

    The file is opened read-write (no create) so that, as the last connection closes, SQLite
    tidies the ``-wal``/``-shm`` files away as usual; where this process cannot write (a
    read-only folder) it is read-only, and where even that cannot lock the file, immutable
    (a writer elsewhere is then not seen until the next read)."""
    base = "file:" + quote(os.path.abspath(path))
    problem: Exception | None = None
    for query in ("mode=rw", "mode=ro", "immutable=1"):
        uri = f"{base}?{query}"
        try:
            connection = sqlite3.connect(uri, uri=True)
            try:
                tables = {row[0] for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
                journal = str(connection.execute("PRAGMA journal_mode").fetchone()[0])
            finally:
                connection.close()
        except sqlite3.OperationalError as error:  # cannot open or lock it so: the next way
            problem = error
            continue
        except sqlite3.DatabaseError as error:
            raise NotALedger(f"not a billing ledger database: {path} ({error})") from None
        if "stored_events" not in tables:
            raise NotALedger(f"not a billing ledger database: {path} (it has no ledger tables)")
        # The event store switches a file to WAL on connecting: a write, unless it is WAL.
        return uri if journal.lower() == "wal" or query == "immutable=1" else f"{base}?immutable=1"
    raise StoreError(f"database error: cannot read {path}: {problem}")


def _is_file(path: str, where: str | None) -> bool:
    try:
        return Path(path).is_file()
    except OSError as error:  # e.g. a folder this process may not enter
        raise StoreError(f"database error: cannot open {where}: {error.strerror}") from error


def _store_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Report a database failure as the ledger's StoreError (the library's error chained)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except STORE_FAILURES as error:
            raise StoreError(f"database error: {error}") from error

    return wrapper


def _command(method: Callable[P, R]) -> Callable[P, R]:
    """A method that records (or writes the views): refused on a read-only ledger."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        ledger = args[0]
        assert isinstance(ledger, Ledger)
        ledger._writable()
        return method(*args, **kwargs)

    return _store_errors(wrapper)


class Ledger(CommandMethods):
    """The billing ledger: commands, billing runs, invoices, reconciliation files, audit,
    and the event feed."""

    @_store_errors
    def __init__(
        self,
        store: str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        create: bool = True,
        partner_id: str = "",
        batch_size: int = DEFAULT_BATCH,
        read_only: bool = False,
    ) -> None:
        """``store``: a SQLite path, ``sqlite:///path`` or ``postgresql://...`` URL (default:
        ``BILLING_LEDGER_DB``, the eventsourcing variables, or ``./ledger.sqlite``).
        ``create=False`` refuses a SQLite file that does not exist yet (MissingDatabase).
        ``read_only=True`` opens an existing ledger without creating or writing anything
        (MissingDatabase, or NotALedger for a location without the ledger's tables).
        ``partner_id`` (0-200 printable characters) is written into the invoices this ledger
        issues, and from them into their reconciliation files' PartnerId column; invoices
        already issued keep theirs."""
        if store is not None and not isinstance(store, (str, os.PathLike)):
            raise InvalidInput(f"store must be a path or URL, got {bounds.shown(store)}")
        if clock is not None and not isinstance(clock, Clock):
            raise InvalidInput(f"clock must be a Clock (with now()), got {bounds.shown(clock)}")
        bounds.whole(batch_size, "batch_size", 1, bounds.BATCH_MAX)
        location = os.fspath(store) if store is not None else default_location()
        env = store_env(location) if location is not None else {}
        sqlite_file = env.get("SQLITE_DBNAME") if location is not None else (
            os.environ.get("SQLITE_DBNAME")
            if os.environ.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite" else None)
        where = location or sqlite_file
        if (not create or read_only) and sqlite_file and not _is_file(sqlite_file, where):
            raise MissingDatabase(f"no ledger database at {where}")
        self.location = location or "(from the environment)"
        self._env = dict(env)  # what worker processes open (they inherit the environment)
        self.read_only = read_only
        if read_only:
            env = {**env, "CREATE_TABLE": "false"}
            if sqlite_file:
                env["SQLITE_DBNAME"] = sqlite_reader(sqlite_file)
        self.app = BillingApplication(env, clock=clock, partner_id=partner_id)
        try:
            if read_only and not sqlite_file:
                self._check_postgres_ledger(where)
            self.view_store = ViewStore(env)
        except BaseException:
            self.app.close()
            raise
        self.projector = Projector(self.app, self.view_store, batch_size=batch_size)
        self._projecting = threading.Lock()
        self._overlay: tuple[ViewStore, Projector] | None = None

    def _check_postgres_ledger(self, where: str | None) -> None:
        recorder: Any = self.app.recorder
        schema, table = recorder.datastore.schema, recorder.events_table_name
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT to_regclass(%s) AS found", (f'"{schema}"."{table}"',))
            row = cursor.fetchone()
        if row is None or row["found"] is None:
            raise NotALedger(f"not a billing ledger database: {where} (schema {schema!r} has "
                             "no ledger tables; `billing-ledger init` creates them)")

    @property
    def clock(self) -> Clock:
        return self.app.clock

    @property
    def views(self) -> Any:
        return self.view_store.views

    def close(self) -> None:
        if self._overlay is not None:
            self._overlay[0].close()
            self._overlay = None
        self.view_store.close()
        self.app.close()

    def _writable(self) -> None:
        if self.read_only:
            raise InvalidInput("this ledger was opened read-only: it records nothing")

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ commands
    # A typed method per command comes from ledger.commands.CommandMethods:
    # ``ledger.purchase(...)`` is ``ledger.handle(Purchase(...))``. Every command takes an
    # optional idempotency key: a repeat with the same key and the same command returns the
    # first result and records nothing; the same key with another raises
    # IdempotencyConflict. ``effective_date`` defaults to the clock's date.
    @_store_errors
    def handle(self, command: Command[R]) -> R:
        """Handle a command (:mod:`ledger.commands`); refused on a read-only ledger."""
        self._writable()
        return self.app.handle(command)

    # ------------------------------------------------------------------ time and billing runs
    @_command
    def advance_to(self, day: date) -> BillRun:
        """With a test clock: move to the start of ``day``, doing everything due before it;
        returns what that run did."""
        return self.app.advance_to(day)

    @_command
    def run_due(self, through: date | None = None, *, progress: Progress | None = None) -> BillRun:
        """Do everything due on or before ``through`` (default: yesterday) in date order:
        trial ends, renewals, billing dates; returns what the run did."""
        return self.app.scheduler.run_due(through, progress=progress)

    @_command
    def bill(self, until: date | None = None, *, advance_clock: bool = True,
             progress: Progress | None = None, workers: int = 1) -> BillRun:
        """Cut every billing date through ``until`` (default: yesterday); returns what the run
        did (``.issued``: the invoices it issued; ``.found_done``: dates another process cut
        first). A test clock is moved forward to ``until`` (unless ``advance_clock=False``:
        then, as with the machine's clock, a date after the clock's is refused).

        ``workers`` > 1 (PostgreSQL only) splits the accounts among that many worker
        processes (:mod:`ledger.workers`); they bill as of the clock's date, so ``until`` may
        not be after it, and a test clock is not moved.

        If the run stops at one account (a database failure part-way, or a worker that
        died), :class:`~ledger.errors.BillingRunIncomplete` names it and the cause, and lists
        the invoices issued; they stand, and running it again completes the run."""
        if until is not None:
            bounds.business_date(until, "the date to bill until")
        count = workers_module.check_workers(workers, {**os.environ, **self._env})
        if count > 1:
            return self._bill_in_parallel(until, count, progress)
        run = BillRun()
        if (advance_clock and until is not None and isinstance(self.clock, TestClock)
                and until > self.clock.today()):
            run.add(self.app.advance_to(until))
        run.add(self.app.scheduler.run_due(until, progress=progress))
        return run

    def _bill_in_parallel(self, until: date | None, workers: int,
                          progress: Progress | None) -> BillRun:
        current = today(self.clock)
        through = until if until is not None else current - timedelta(days=1)
        if through > current:
            raise EffectiveDateInFuture(
                f"cannot bill {through.isoformat()} with workers yet: the ledger's clock says "
                f"{current.isoformat()} (workers bill as of the clock; advance it first)")
        clock = self.clock
        now = clock.now() if isinstance(clock, TestClock) else None
        if now is None and not isinstance(clock, SystemClock):
            raise InvalidInput("workers need the system clock or a TestClock: a worker "
                               "process cannot share another clock")
        try:
            return workers_module.bill_in_parallel(
                self._env, self.app.account_keys(), through, workers, now=now,
                partner_id=self.app.partner_id, progress=progress)
        finally:
            self.app._forget_cached()  # the workers moved the aggregates on

    @_store_errors
    def next_billing_date(self, account: str) -> date:
        """The account's next billing date to cut."""
        return self.app.account(account).next_billing_date()

    def today(self) -> date:
        """The clock's business date."""
        return today(self.clock)

    @_store_errors
    def last_recorded_at(self) -> datetime | None:
        """When the log's latest event was recorded (None: the log is empty)."""
        recorder = self.app.recorder
        last = recorder.max_notification_id()
        if not last:
            return None
        (notification,) = recorder.select_notifications(start=last, limit=1)
        event: Any = self.app.mapper.to_domain_event(notification)
        moment: datetime = event.timestamp
        return moment

    # ------------------------------------------------------------------ projections
    @_command
    def catch_up(self, progress: Progress | None = None, *, batch_size: int | None = None,
                 pause: float | None = None) -> int:
        """Bring the views up to date with the log; returns how many events were read.
        ``pause`` rests that many seconds between batches (to spare a busy database)."""
        if batch_size is not None:
            bounds.whole(batch_size, "batch_size", 1, bounds.BATCH_MAX)
        if pause is not None:
            pause = bounds.seconds(pause, "pause")
        with self._projecting:
            if batch_size is not None:
                self.projector.batch_size = batch_size
            if pause is not None:
                self.projector.pause = pause
            return self.projector.catch_up(progress)

    @_command
    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty every view and fold the whole log again."""
        with self._projecting:
            return self.projector.rebuild(progress)

    # ------------------------------------------------------------------ reading
    def _views(self) -> _Views:
        """Views up to date with the log. A writable ledger catches its views up; a
        read-only one reads the stored views when they are up to date (the usual case: the
        command line's commands project what they record), else a copy of them in memory,
        brought up to date there and kept for the next reads."""
        if not self.read_only:
            self.catch_up()
            return self.view_store.views
        with self._projecting:
            if self._overlay is None:
                if self._stored_views_current():
                    return self.view_store.views
                self._overlay = self._copy_of_views()
            copy, projector = self._overlay
            projector.catch_up()
            return copy.views

    def _stored_views_current(self) -> bool:
        try:
            if self.views.fingerprint() != SCHEMA_FINGERPRINT:
                return False
            position = self.views.position(self.app.name)
        except _NOT_YET:  # no view tables, or no position, yet
            return False
        return not self.app.notifications(position, 1, topics=TOPICS)

    def _copy_of_views(self) -> tuple[ViewStore, Projector]:
        copy = ViewStore({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "CREATE_TABLE": "true",
                          "SQLITE_DBNAME": f"file:views-{uuid.uuid4().hex}?mode=memory&cache=shared"})
        try:
            try:
                usable = self.views.fingerprint() == SCHEMA_FINGERPRINT
            except STORE_FAILURES:
                usable = False
            if usable:  # else the copy is rebuilt from the log
                rows, position = self.views.dump(self.app.name)
                copy.views.load(rows, self.app.name, position)
        except BaseException:
            copy.close()
            raise
        return copy, Projector(self.app, copy, batch_size=self.projector.batch_size)

    @_store_errors
    def accounts(self) -> list[dict[str, Any]]:
        return queries.accounts(self._views())

    @_store_errors
    def subscriptions(self, account: str) -> list[dict[str, Any]]:
        bounds.lookup(account, "account id")
        return queries.subscriptions(self._views(), account)

    @_store_errors
    def invoices(self, account: str | None = None) -> list[dict[str, Any]]:
        """The issued invoices (of ``account``, or all): number, date, digest, totals."""
        if account is not None:
            bounds.lookup(account, "account id")
        return queries.invoices(self._views(), account)

    @_store_errors
    def invoice(self, account: str, billing_date: date) -> dict[str, Any]:
        """The issued invoice document of ``account`` for ``billing_date``."""
        bounds.lookup(account, "account id")
        _a_date(billing_date, "billing date")
        return queries.invoice_document(self.app, self._views(), account, billing_date)

    def _locale(self, account: str, locale: str | None) -> str | None:
        if locale is not None:
            return normalise(locale)
        chosen: str | None = queries.account(self._views(), account).get("locale")
        return chosen

    def invoice_text(self, account: str, billing_date: date, locale: str | None = None) -> str:
        """The invoice as plain text, in ``locale`` or else the account's."""
        document = self.invoice(account, billing_date)
        return invoices.render_text(document, self._locale(account, locale))

    def invoice_html(self, account: str, billing_date: date, locale: str | None = None) -> str:
        """The invoice as HTML, in ``locale`` or else the account's."""
        document = self.invoice(account, billing_date)
        return invoices.render_html(document, self._locale(account, locale))

    def invoice_json(self, account: str, billing_date: date) -> str:
        return invoices.render_json(self.invoice(account, billing_date))

    @_store_errors
    def reconciliation(self, account: str, billing_date: date) -> bytes:
        """The reconciliation CSV of ``account`` for ``billing_date``, from the view rows."""
        bounds.lookup(account, "account id")
        _a_date(billing_date, "billing date")
        return queries.recon_csv(self._views(), account, billing_date)

    def write_reconciliation(self, account: str, billing_date: date,
                             folder: str | os.PathLike[str]) -> Path:
        """Write the reconciliation file into ``folder`` (created if need be); returns its
        path. The file's name comes from the date alone."""
        content = self.reconciliation(account, billing_date)
        (path,) = outputs.plan(folder, [reconciliation.file_name(billing_date)])
        outputs.write({path: content})
        return path

    @_store_errors
    def preview(self, account: str, billing_date: date | None = None) -> list[ChargeLine]:
        """What the next billing date (or ``billing_date``) would post; issues nothing."""
        return self.app.preview(account, billing_date)

    # ------------------------------------------------------------------ audit
    @_store_errors
    def verify(self, account: str | None = None, *, anchors: Sequence[verification.Anchor] = (),
               progress: Progress | None = None) -> verification.Verification:
        """Check the log's seals, every issued invoice (of ``account``, or all), the snapshots
        and the views against what the events say; ``anchors`` (see :meth:`anchor`) are
        heads kept outside the database. Each problem is one finding; ``.ok`` when none."""
        if account is not None:
            bounds.lookup(account, "account id")
        try:
            views = self._views()
        except Exception:  # a log verify will report on may not fold: check what is there
            views = self.views
        return verification.verify(self.app, views, account=account, anchors=anchors,
                                   progress=progress)

    @_store_errors
    def anchor(self) -> dict[str, Any]:
        """The log's position and head now: keep it outside the database and give it to
        ``verify(anchors=...)`` later to prove nothing recorded up to it has changed."""
        return verification.export_anchor(self.app)

    @_store_errors
    def explain(self, invoice_number: str, line_no: int) -> audit.Explanation:
        """The events and arithmetic behind line ``line_no`` (1-based) of an invoice."""
        bounds.lookup(invoice_number, "invoice number")
        if isinstance(line_no, bool) or not isinstance(line_no, int):
            raise InvalidInput(f"line number must be a whole number, got {bounds.shown(line_no)}")
        return audit.explain(self.app, self._views(), invoice_number, line_no)

    @_store_errors
    def history(self, account: str, subscription: str, *, as_of: date | None = None,
                known_at: datetime | None = None) -> audit.SubscriptionState:
        """A subscription as effective on ``as_of``, as known at ``known_at``."""
        if as_of is not None:
            _a_date(as_of, "as_of")
        if known_at is not None:
            known_at = bounds.instant(known_at, "known_at")
        return audit.state_at(self.app, account, subscription, as_of=as_of, known_at=known_at)

    # ------------------------------------------------------------------ the books
    def _books(self, through: date, account: str | None) -> tuple[
            list[journal.LineFact], list[journal.PaymentFact]]:
        if account is not None:
            bounds.lookup(account, "account id")
        views = self._views()
        if account is not None:
            queries.account(views, account)
        return (queries.journal_lines(views, through, account),
                queries.journal_payments(views, through, account))

    @_store_errors
    def journal_entries(self, through: date | None = None, *, account: str | None = None,
                        daily: bool = False) -> list[journal.Entry]:
        """The journal's entries dated on or before ``through`` (default: the clock's date),
        of ``account`` or of every account, in date order, revenue recognised in one entry
        per line and month (or ``daily``, per line and day); rules:
        docs/explanation/books.md."""
        day = bounds.business_date(through, "through") if through is not None else self.today()
        lines, payments = self._books(day, account)
        return journal.journal(lines, payments, day, daily=daily is True)

    def journal_csv(self, through: date | None = None, *, account: str | None = None,
                    names: journal.JournalAccounts | None = None, daily: bool = False) -> bytes:
        """The journal as CSV, one row per posting (columns: docs/reference/journal-csv.md)."""
        return journal.render_csv(self.journal_entries(through, account=account, daily=daily),
                                  names or journal.JournalAccounts())

    def journal_beancount(self, through: date | None = None, *, account: str | None = None,
                          names: journal.JournalAccounts | None = None,
                          daily: bool = False) -> str:
        """The journal in beancount's plain-text format."""
        return journal.render_beancount(
            self.journal_entries(through, account=account, daily=daily),
            names or journal.JournalAccounts())

    @_store_errors
    def trial_balance(self, as_of: date | None = None, *,
                      account: str | None = None) -> list[journal.Balance]:
        """Each role's balance per currency at the end of ``as_of`` (default: the clock's
        date), debits positive."""
        day = bounds.business_date(as_of, "as_of") if as_of is not None else self.today()
        lines, payments = self._books(day, account)
        return journal.trial_balance(lines, payments, day)

    @_store_errors
    def deferred_revenue(self, as_of: date | None = None, *,
                         account: str | None = None) -> list[journal.Deferred]:
        """Every invoice line still deferring revenue at the end of ``as_of``, and how much."""
        day = bounds.business_date(as_of, "as_of") if as_of is not None else self.today()
        lines, _ = self._books(day, account)
        return journal.deferred_revenue(lines, day)

    @_store_errors
    def revenue(self, start: date, end: date, *, account: str | None = None) -> journal.Waterfall:
        """The revenue waterfall: revenue booked in each month from ``start`` to ``end`` (both
        included), by invoice."""
        bounds.business_date(start, "start")
        bounds.business_date(end, "end")
        if end < start:
            raise InvalidInput(f"the range ends ({end.isoformat()}) before it starts "
                               f"({start.isoformat()})")
        lines, _ = self._books(end, account)
        return journal.waterfall(lines, start, end)

    @_store_errors
    def explain_entry(self, entry_id: str) -> audit.EntryExplanation:
        """The events behind a journal entry (``INVOICE:LINE``,
        ``INVOICE:LINE:FIRST..LAST`` or ``ACCOUNT:payment:VERSION``)."""
        bounds.lookup(entry_id, "journal entry")
        return audit.explain_entry(self.app, self._views(), entry_id)

    # ------------------------------------------------------------------ the event feed
    @_store_errors
    def feed(self, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """The integration records after position ``after`` (at most ``limit``), in order.
        Keep the last record's ``position`` and pass it next time: nothing is skipped or
        repeated. Schemas: docs/reference/feed/."""
        bounds.position(after, "after")
        if limit is not None:
            bounds.whole(limit, "limit", 1, bounds.POSITION_MAX)
        return list(Feed(self.app).records(after, limit))

    def follow(self, handle: Callable[[dict[str, Any]], None], *, after: int = 0,
               stop: threading.Event | None = None, interval: float = 1.0) -> int:
        """Call ``handle`` with every record after position ``after``; without ``stop``,
        return once the log is read; with it, keep polling every ``interval`` seconds for new
        records until ``stop`` is set. Returns the last position handled. ``handle`` should
        persist each position it has done with, to resume from after a restart."""
        position = bounds.position(after, "after")
        interval = bounds.seconds(interval, "interval", 0.001)
        feed = Feed(self.app)
        while True:
            try:
                batch = list(feed.records(position, 500))
            except STORE_FAILURES as error:
                raise StoreError(f"database error: {error}") from error
            for record in batch:
                handle(record)
                position = record["position"]
            if len(batch) == 500:
                continue
            if stop is None or stop.wait(interval):
                return position

    def records(self, after: int = 0) -> Iterator[dict[str, Any]]:
        """Lazily, every integration record after ``after`` (for large backlogs)."""
        bounds.position(after, "after")
        return Feed(self.app).records(after)


def _a_date(value: object, what: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(f"{what} must be a date, got {bounds.shown(value)}")
    return value
