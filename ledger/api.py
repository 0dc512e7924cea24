"""``Ledger``: the one object an application embeds.

It wires the write side (:class:`~ledger.application.BillingLedger`) to its read side (the
billing views in the same store) and the audit tools. Construct it with a store location
(a SQLite path, or a PostgreSQL URL) and a clock; everything the CLI does goes through it.
Reads first bring the views up to date with the log.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.application import BillingLedger
from ledger.charges import ChargeLine
from ledger.clock import Clock
from ledger.errors import MissingDatabase
from ledger.offers import OfferTerms
from ledger.store import DB_ENV_VAR, DEFAULT_DB, store_env
from projections import audit, invoices, queries, reconciliation
from projections.runner import DEFAULT_BATCH, Projector, ViewStore

Progress = Callable[[int, int], None]


def default_location() -> str | None:
    """``BILLING_LEDGER_DB``; else None when the eventsourcing library's own variables
    (``PERSISTENCE_MODULE``, ``SQLITE_DBNAME``, ``POSTGRES_*``) configure the store; else
    ``./ledger.sqlite``."""
    if os.environ.get(DB_ENV_VAR):
        return os.environ[DB_ENV_VAR]
    if os.environ.get("PERSISTENCE_MODULE"):
        return None
    return DEFAULT_DB


class Ledger:
    """The billing ledger: commands, billing runs, invoices, reconciliation files, audit."""

    def __init__(
        self,
        store: str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        create: bool = True,
        partner_id: str = "",
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        location = os.fspath(store) if store is not None else default_location()
        env = store_env(location) if location is not None else {}
        sqlite_file = env.get("SQLITE_DBNAME") if location is not None else (
            os.environ.get("SQLITE_DBNAME")
            if os.environ.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite" else None)
        if not create and sqlite_file and not Path(sqlite_file).exists():
            raise MissingDatabase(f"no ledger database at {location or sqlite_file}")
        self.location = location or "(from the environment)"
        self.partner_id = partner_id
        self.app = BillingLedger(env, clock=clock)
        self.store = ViewStore(env)
        self.projector = Projector(self.app, self.store, batch_size=batch_size, partner_id=partner_id)
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
    # IdempotencyConflict.
    def define_offer(self, terms: OfferTerms, *, idempotency_key: str | None = None) -> None:
        self.app.define_offer(terms, idempotency_key=idempotency_key)

    def open_account(self, key: str, *, billing_day: int, name: str | None = None,
                     currency: str | None = None, effective_date: date | None = None,
                     idempotency_key: str | None = None) -> None:
        self.app.open_account(key, billing_day=billing_day, name=name, currency=currency,
                              effective_date=effective_date, idempotency_key=idempotency_key)

    def purchase(self, account: str, subscription: str, offer: str, quantity: int, *,
                 effective_date: date | None = None, trial: bool = False, trial_days: int = 30,
                 auto_renew: bool = True, idempotency_key: str | None = None) -> UUID:
        """Buy licenses; returns the subscription's aggregate id."""
        return self.app.purchase(account, subscription, offer, quantity,
                                 effective_date=effective_date, trial=trial, trial_days=trial_days,
                                 auto_renew=auto_renew, idempotency_key=idempotency_key)

    def change_quantity(self, account: str, subscription: str, quantity: int, *,
                        effective_date: date | None = None,
                        idempotency_key: str | None = None) -> None:
        self.app.change_quantity(account, subscription, quantity, effective_date=effective_date,
                                 idempotency_key=idempotency_key)

    def suspend(self, account: str, subscription: str, *, effective_date: date | None = None,
                idempotency_key: str | None = None) -> None:
        self.app.suspend(account, subscription, effective_date=effective_date,
                         idempotency_key=idempotency_key)

    def reactivate(self, account: str, subscription: str, *, effective_date: date | None = None,
                   idempotency_key: str | None = None) -> None:
        self.app.reactivate(account, subscription, effective_date=effective_date,
                            idempotency_key=idempotency_key)

    def cancel(self, account: str, subscription: str, *, channel: str = "online",
               effective_date: date | None = None, idempotency_key: str | None = None) -> None:
        self.app.cancel(account, subscription, channel=channel, effective_date=effective_date,
                        idempotency_key=idempotency_key)

    def add_payment_method(self, account: str, subscription: str, *,
                           effective_date: date | None = None,
                           idempotency_key: str | None = None) -> None:
        self.app.add_payment_method(account, subscription, effective_date=effective_date,
                                    idempotency_key=idempotency_key)

    def set_auto_renew(self, account: str, subscription: str, enabled: bool, *,
                       effective_date: date | None = None,
                       idempotency_key: str | None = None) -> None:
        self.app.set_auto_renew(account, subscription, enabled, effective_date=effective_date,
                                idempotency_key=idempotency_key)

    def record_payment(self, account: str, amount: Decimal, *, effective_date: date | None = None,
                       reference: str = "", idempotency_key: str | None = None) -> None:
        self.app.record_payment(account, amount, effective_date=effective_date, reference=reference,
                                idempotency_key=idempotency_key)

    # ------------------------------------------------------------------ time and billing runs
    def advance_to(self, day: date) -> None:
        """With a test clock: move to the start of ``day``, doing everything due before it."""
        self.app.advance_to(day)

    def bill(self, until: date | None = None) -> list[str]:
        """Do everything due through ``until`` (default: yesterday) and return the numbers of
        the invoices this issued."""
        before = {row["invoice_number"] for row in self._invoice_rows()}
        self.app.run_due(until)
        self.catch_up()
        return [row["invoice_number"] for row in self._invoice_rows()
                if row["invoice_number"] not in before]

    def _invoice_rows(self) -> list[dict[str, Any]]:
        self.catch_up()
        return queries.invoices(self.views)

    # ------------------------------------------------------------------ projections
    def catch_up(self, progress: Progress | None = None) -> int:
        """Bring the views up to date with the log; returns how many events were read."""
        with self._projecting:
            return self.projector.catch_up(progress)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty every view and fold the whole log again."""
        with self._projecting:
            return self.projector.rebuild(progress)

    # ------------------------------------------------------------------ reading
    def accounts(self) -> list[dict[str, Any]]:
        self.catch_up()
        return queries.accounts(self.views)

    def subscriptions(self, account: str) -> list[dict[str, Any]]:
        self.catch_up()
        return queries.subscriptions(self.views, account)

    def invoices(self, account: str | None = None) -> list[dict[str, Any]]:
        self.catch_up()
        return queries.invoices(self.views, account)

    def invoice(self, account: str, billing_date: date) -> dict[str, Any]:
        """The issued invoice document of ``account`` for ``billing_date``."""
        self.catch_up()
        return queries.invoice_document(self.app, self.views, account, billing_date)

    def invoice_text(self, account: str, billing_date: date) -> str:
        return invoices.render_text(self.invoice(account, billing_date))

    def invoice_html(self, account: str, billing_date: date) -> str:
        return invoices.render_html(self.invoice(account, billing_date))

    def invoice_json(self, account: str, billing_date: date) -> str:
        return invoices.render_json(self.invoice(account, billing_date))

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

    def preview(self, account: str, billing_date: date | None = None) -> list[ChargeLine]:
        """What the next billing date (or ``billing_date``) would post; issues nothing."""
        return self.app.preview(account, billing_date)

    # ------------------------------------------------------------------ audit
    def verify(self, account: str | None = None) -> list[audit.InvoiceCheck]:
        self.catch_up()
        return audit.verify(self.app, self.views, account, self.partner_id)

    def explain(self, invoice_number: str, line_no: int) -> audit.Explanation:
        self.catch_up()
        return audit.explain(self.app, self.views, invoice_number, line_no)

    def history(self, account: str, subscription: str, *, as_of: date | None = None,
                known_at: datetime | None = None) -> audit.SubscriptionState:
        return audit.state_at(self.app, account, subscription, as_of=as_of, known_at=known_at)
