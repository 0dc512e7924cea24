"""``Ledger``: the one object an application embeds.

    from ledger.api import Ledger
    ledger = Ledger("ledger.sqlite")            # or "postgresql://user@host/db?schema=billing"

It wires the write side (:class:`~ledger.application.BillingLedger`) to its read side (the
billing views in the same store), the audit tools and the event feed. Construct it with a
store location and a clock (the machine's UTC clock by default, a
:class:`~ledger.clock.TestClock` to travel in time). Everything the ``billing-ledger`` command
line does goes through it. Reads first bring the views up to date with the log.

It holds no global state and does nothing at import. One instance may be shared by several
threads. Every error it raises on purpose is a :class:`~ledger.errors.LedgerError`; a failure
of the database itself is a :class:`~ledger.errors.StoreError`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError

from ledger.application import BillingLedger
from ledger.charges import ChargeLine
from ledger.clock import Clock, TestClock, today
from ledger.errors import MissingDatabase, StoreError
from ledger.offers import OfferTerms
from ledger.store import DB_ENV_VAR, DEFAULT_DB, store_env
from projections import audit, invoices, queries, reconciliation, verification
from projections.feed import Feed
from projections.runner import DEFAULT_BATCH, Projector, ViewStore

Progress = Callable[[int, int], None]
#: What the store's drivers raise when the database itself fails.
STORE_FAILURES: tuple[type[Exception], ...] = (PersistenceError, sqlite3.Error, psycopg.Error)
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


def _store_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Report a database failure as the ledger's StoreError (the library's error chained)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except STORE_FAILURES as error:
            raise StoreError(f"database error: {error}") from error

    return wrapper


class Ledger:
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
    ) -> None:
        """``store``: a SQLite path, ``sqlite:///path`` or ``postgresql://...`` URL (default:
        ``BILLING_LEDGER_DB``, the eventsourcing variables, or ``./ledger.sqlite``).
        ``create=False`` refuses a SQLite file that does not exist yet (MissingDatabase).
        ``partner_id`` is written into the invoices this ledger issues, and from them into
        their reconciliation files' PartnerId column; invoices already issued keep theirs."""
        location = os.fspath(store) if store is not None else default_location()
        env = store_env(location) if location is not None else {}
        sqlite_file = env.get("SQLITE_DBNAME") if location is not None else (
            os.environ.get("SQLITE_DBNAME")
            if os.environ.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite" else None)
        if not create and sqlite_file and not Path(sqlite_file).exists():
            raise MissingDatabase(f"no ledger database at {location or sqlite_file}")
        self.location = location or "(from the environment)"
        self.app = BillingLedger(env, clock=clock, partner_id=partner_id)
        self.store = ViewStore(env)
        self.projector = Projector(self.app, self.store, batch_size=batch_size)
        self._projecting = threading.Lock()

    @property
    def clock(self) -> Clock:
        return self.app.clock

    @property
    def views(self) -> Any:
        return self.store.views

    def close(self) -> None:
        self.store.close()
        self.app.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ commands
    # Every command takes an optional idempotency key: a repeat with the same key and payload
    # returns the first result and records nothing; the same key with another payload raises
    # IdempotencyConflict. ``effective_date`` defaults to the clock's date.
    @_store_errors
    def define_offer(self, terms: OfferTerms, *, idempotency_key: str | None = None) -> None:
        """Add an offer to the catalog, or revise it for new purchases and renewals."""
        self.app.define_offer(terms, idempotency_key=idempotency_key)

    @_store_errors
    def open_account(self, key: str, *, billing_day: int, name: str | None = None,
                     currency: str | None = None, locale: str | None = None,
                     effective_date: date | None = None,
                     idempotency_key: str | None = None) -> None:
        """Open a billing account, cut on ``billing_day`` (1-31, clamped to short months);
        its invoices read in ``locale`` (en_US, it_IT, nl_NL or nb_NO)."""
        self.app.open_account(key, billing_day=billing_day, name=name, currency=currency,
                              locale=locale, effective_date=effective_date,
                              idempotency_key=idempotency_key)

    @_store_errors
    def purchase(self, account: str, subscription: str, offer: str, quantity: int, *,
                 effective_date: date | None = None, trial: bool = False, trial_days: int = 30,
                 auto_renew: bool = True, idempotency_key: str | None = None) -> UUID:
        """Buy licenses; returns the subscription's aggregate id."""
        return self.app.purchase(account, subscription, offer, quantity,
                                 effective_date=effective_date, trial=trial, trial_days=trial_days,
                                 auto_renew=auto_renew, idempotency_key=idempotency_key)

    @_store_errors
    def change_quantity(self, account: str, subscription: str, quantity: int, *,
                        effective_date: date | None = None,
                        idempotency_key: str | None = None) -> None:
        """Set the number of licenses (the new total)."""
        self.app.change_quantity(account, subscription, quantity, effective_date=effective_date,
                                 idempotency_key=idempotency_key)

    @_store_errors
    def suspend(self, account: str, subscription: str, *, effective_date: date | None = None,
                idempotency_key: str | None = None) -> None:
        self.app.suspend(account, subscription, effective_date=effective_date,
                         idempotency_key=idempotency_key)

    @_store_errors
    def reactivate(self, account: str, subscription: str, *, effective_date: date | None = None,
                   idempotency_key: str | None = None) -> None:
        self.app.reactivate(account, subscription, effective_date=effective_date,
                            idempotency_key=idempotency_key)

    @_store_errors
    def cancel(self, account: str, subscription: str, *, channel: str = "online",
               effective_date: date | None = None, idempotency_key: str | None = None) -> None:
        """Cancel for good; ``online`` needs fewer than 25 licenses, ``assisted`` always may."""
        self.app.cancel(account, subscription, channel=channel, effective_date=effective_date,
                        idempotency_key=idempotency_key)

    @_store_errors
    def add_payment_method(self, account: str, subscription: str, *,
                           effective_date: date | None = None,
                           idempotency_key: str | None = None) -> None:
        self.app.add_payment_method(account, subscription, effective_date=effective_date,
                                    idempotency_key=idempotency_key)

    @_store_errors
    def set_auto_renew(self, account: str, subscription: str, enabled: bool, *,
                       effective_date: date | None = None,
                       idempotency_key: str | None = None) -> None:
        self.app.set_auto_renew(account, subscription, enabled, effective_date=effective_date,
                                idempotency_key=idempotency_key)

    @_store_errors
    def record_payment(self, account: str, amount: Decimal, *, effective_date: date | None = None,
                       reference: str = "", idempotency_key: str | None = None) -> None:
        self.app.record_payment(account, amount, effective_date=effective_date, reference=reference,
                                idempotency_key=idempotency_key)

    # ------------------------------------------------------------------ time and billing runs
    @_store_errors
    def advance_to(self, day: date) -> None:
        """With a test clock: move to the start of ``day``, doing everything due before it."""
        self.app.advance_to(day)

    @_store_errors
    def run_due(self, through: date | None = None) -> None:
        """Do everything due on or before ``through`` (default: yesterday) in date order:
        trial ends, renewals, billing dates."""
        self.app.run_due(through)

    @_store_errors
    def bill(self, until: date | None = None) -> list[str]:
        """Cut every billing date through ``until`` (default: yesterday) and return the
        numbers of the invoices this issued. A test clock is moved forward to ``until``."""
        before = {row["invoice_number"] for row in self._invoice_rows()}
        if until is not None and isinstance(self.clock, TestClock) and until > self.clock.today():
            self.app.advance_to(until)
        self.app.run_due(until)
        return [row["invoice_number"] for row in self._invoice_rows()
                if row["invoice_number"] not in before]

    def _invoice_rows(self) -> list[dict[str, Any]]:
        self.catch_up()
        return queries.invoices(self.views)

    @_store_errors
    def next_billing_date(self, account: str) -> date:
        """The account's next billing date to cut."""
        return self.app.account(account).next_billing_date()

    def today(self) -> date:
        """The clock's business date."""
        return today(self.clock)

    # ------------------------------------------------------------------ projections
    @_store_errors
    def catch_up(self, progress: Progress | None = None, *, batch_size: int | None = None,
                 pause: float | None = None) -> int:
        """Bring the views up to date with the log; returns how many events were read.
        ``pause`` rests that many seconds between batches (to spare a busy database)."""
        with self._projecting:
            if batch_size is not None:
                self.projector.batch_size = batch_size
            if pause is not None:
                self.projector.pause = pause
            return self.projector.catch_up(progress)

    @_store_errors
    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty every view and fold the whole log again."""
        with self._projecting:
            return self.projector.rebuild(progress)

    # ------------------------------------------------------------------ reading
    @_store_errors
    def accounts(self) -> list[dict[str, Any]]:
        self.catch_up()
        return queries.accounts(self.views)

    @_store_errors
    def subscriptions(self, account: str) -> list[dict[str, Any]]:
        self.catch_up()
        return queries.subscriptions(self.views, account)

    @_store_errors
    def invoices(self, account: str | None = None) -> list[dict[str, Any]]:
        """The issued invoices (of ``account``, or all): number, date, digest, totals."""
        self.catch_up()
        return queries.invoices(self.views, account)

    @_store_errors
    def invoice(self, account: str, billing_date: date) -> dict[str, Any]:
        """The issued invoice document of ``account`` for ``billing_date``."""
        self.catch_up()
        return queries.invoice_document(self.app, self.views, account, billing_date)

    def _locale(self, account: str, locale: str | None) -> str | None:
        if locale is not None:
            return locale
        chosen: str | None = queries.account(self.views, account).get("locale")
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
        self.catch_up()
        return queries.recon_csv(self.views, account, billing_date)

    def write_reconciliation(self, account: str, billing_date: date,
                             folder: str | os.PathLike[str]) -> Path:
        content = self.reconciliation(account, billing_date)
        path = Path(folder) / reconciliation.file_name(billing_date)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
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
        with contextlib.suppress(Exception):  # a log verify will report on may not fold
            self.catch_up()
        return verification.verify(self.app, self.views, account=account, anchors=anchors,
                                   progress=progress)

    @_store_errors
    def anchor(self) -> dict[str, Any]:
        """The log's position and head now: keep it outside the database and give it to
        ``verify(anchors=...)`` later to prove nothing recorded up to it has changed."""
        return verification.export_anchor(self.app)

    @_store_errors
    def explain(self, invoice_number: str, line_no: int) -> audit.Explanation:
        """The events and arithmetic behind line ``line_no`` (1-based) of an invoice."""
        self.catch_up()
        return audit.explain(self.app, self.views, invoice_number, line_no)

    @_store_errors
    def history(self, account: str, subscription: str, *, as_of: date | None = None,
                known_at: datetime | None = None) -> audit.SubscriptionState:
        """A subscription as effective on ``as_of``, as known at ``known_at``."""
        return audit.state_at(self.app, account, subscription, as_of=as_of, known_at=known_at)

    # ------------------------------------------------------------------ the event feed
    @_store_errors
    def feed(self, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """The integration records after position ``after`` (at most ``limit``), in order.
        Keep the last record's ``position`` and pass it next time: nothing is skipped or
        repeated. Schemas: docs/reference/feed/."""
        return list(Feed(self.app).records(after, limit))

    def follow(self, handle: Callable[[dict[str, Any]], None], *, after: int = 0,
               stop: threading.Event | None = None, interval: float = 1.0) -> int:
        """Call ``handle`` with every record after position ``after``; without ``stop``,
        return once the log is read; with it, keep polling every ``interval`` seconds for new
        records until ``stop`` is set. Returns the last position handled. ``handle`` should
        persist each position it has done with, to resume from after a restart."""
        position = after
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
        return Feed(self.app).records(after)
