"""Reading the billing views: invoices, reconciliation files, accounts, subscriptions."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.account import BillingAccount
from ledger.errors import UnknownAccount, UnknownInvoice
from projections import reconciliation
from projections.journal import EventRef, LineFact, PaymentFact
from projections.log import EventLog
from projections.views import ViewsCorrupt, _Views


def account(views: _Views, key: str) -> dict[str, Any]:
    rows = views.query("account", key)
    if not rows:
        raise UnknownAccount(f"unknown account {key!r}")
    return rows[0]


def accounts(views: _Views) -> list[dict[str, Any]]:
    return views.query("accounts")


def subscriptions(views: _Views, key: str) -> list[dict[str, Any]]:
    account(views, key)
    return views.query("subscriptions_of", key)


def invoices(views: _Views, key: str | None = None) -> list[dict[str, Any]]:
    if key is None:
        return views.query("all_invoices")
    account(views, key)
    return views.query("invoices_of", key)


def invoice_row(views: _Views, key: str, billing_date: date) -> dict[str, Any]:
    rows = views.query("invoice", key, billing_date.isoformat())
    if not rows:
        account(views, key)
        raise UnknownInvoice(f"account {key!r} has no invoice dated {billing_date.isoformat()}")
    return rows[0]


def invoice_by_number(views: _Views, number: str) -> dict[str, Any]:
    rows = views.query("invoice_by_number", number)
    if not rows:
        raise UnknownInvoice(f"unknown invoice {number!r}")
    return rows[0]


def issued(log: EventLog, row: dict[str, Any]) -> Any:
    """The InvoiceIssued event an invoice row indexes."""
    version = int(row["event_version"])
    found = log.aggregate_events(UUID(row["account_id"]), gt=version - 1, lte=version)
    if len(found) != 1 or not isinstance(found[0], BillingAccount.InvoiceIssued) or \
            found[0].invoice_number != row["invoice_number"]:
        raise ViewsCorrupt(
            f"the views index invoice {row['invoice_number']} at an event that is not that issued "
            "invoice: the log or the views were altered (run `billing-ledger verify`)"
        )
    return found[0]


def document_of(log: EventLog, row: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(issued(log, row).document)
    return document


def invoice_document(log: EventLog, views: _Views, key: str, billing_date: date) -> dict[str, Any]:
    """The issued document of an account's invoice for a billing date (from the event log)."""
    return document_of(log, invoice_row(views, key, billing_date))


def recon_rows(views: _Views, key: str, billing_date: date) -> list[reconciliation.ReconRow]:
    """The reconciliation rows of one account and billing date, from the view rows."""
    return [reconciliation.ReconRow.of_line(row)
            for row in views.query("invoice_lines", key, billing_date.isoformat())]


def recon_csv(views: _Views, key: str, billing_date: date) -> bytes:
    """The reconciliation file of one account and billing date, from the view rows."""
    invoice_row(views, key, billing_date)
    return reconciliation.render_csv(recon_rows(views, key, billing_date))


# --------------------------------------------------------------------------- the books
def journal_lines(views: _Views, through: date, key: str | None = None) -> list[LineFact]:
    """Every issued line (of account ``key``, or all) invoiced on or before ``through``, as
    the books read it, with the events it came from: its InvoiceIssued event and the
    subscription events it was rated from."""
    rows = views.query("journal_lines", through.isoformat(), key, key)
    return [
        LineFact(
            account=row["account"], invoice_number=row["invoice_number"],
            line_no=int(row["line_no"]), issued_on=date.fromisoformat(row["billing_date"]),
            subscription=row["subscription"], currency=row["currency"],
            amount=Decimal(row["amount"]), start=date.fromisoformat(row["service_start"]),
            end=date.fromisoformat(row["service_end"]),
            events=(EventRef(row["account"], int(row["event_version"])),
                    *(EventRef(f"{row['account']}/{row['subscription']}", int(version))
                      for version in row["sources"].split())),
        )
        for row in rows
    ]


def journal_payments(views: _Views, through: date, key: str | None = None) -> list[PaymentFact]:
    """Every payment (of account ``key``, or all) recorded as made on or before ``through``,
    in its account's currency."""
    rows = views.query("journal_payments", through.isoformat(), key, key)
    return [PaymentFact(row["account"], int(row["event_version"]),
                        date.fromisoformat(row["paid_on"]), row["currency"],
                        Decimal(row["amount"]), row["reference"]) for row in rows]
