"""The billing projection: folds recorded events into the view tables.

It only folds facts the write side recorded: an issued invoice becomes its invoice row and a
row per line, exactly as the invoice document says (the line's reconciliation row and its
entries in the books are computed from these when they are read); a recorded
payment becomes a journal payment; subscription and account
events update their rows. Nothing here rates, rounds or re-computes money, so replaying the
log always gives the same rows.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.utils import get_topic

from ledger.account import BillingAccount
from ledger.subscription import Subscription
from projections import reconciliation
from projections.views import Op, Update

_S, _A = Subscription, BillingAccount



def ops_for(event: Any, notification_id: int) -> list[Op | Update]:
    """The view changes one recorded event makes."""
    handler = _HANDLERS.get(type(event))
    return handler(event, notification_id) if handler else []


def _opened(event: Any, n: int) -> list[Op | Update]:
    return [Op("account_opened", {
        "account_id": event.originator_id.hex, "account": event.key, "name": event.name,
        "billing_day": event.billing_day, "currency": event.currency, "locale": event.locale,
        "opened_on": event.effective_date.isoformat(), "last_amount_due": None,
        "last_billing_date": None, "notification_id": n})]


def _account_fields(**fields: Any) -> Any:
    def handle(event: Any, n: int) -> list[Op | Update]:
        values = {name: getter(event) for name, getter in fields.items()}
        return [Update("accounts", event.originator_id.hex, values, n)]

    return handle


def _purchased(event: Any, n: int) -> list[Op | Update]:
    trial = event.trial_end is not None
    return [Op("subscription_purchased", {
        "subscription_id": event.originator_id.hex, "account": event.account,
        "subscription": event.key, "offer_id": event.offer.offer_id,
        "status": "trial" if trial else "active", "quantity": event.quantity,
        "term_start": None if trial else event.effective_date.isoformat(),
        "term_end": _iso(event.term_end), "auto_renew": int(event.auto_renew),
        "version": event.originator_version, "notification_id": n})]


def _subscription_fields(**fields: Any) -> Any:
    def handle(event: Any, n: int) -> list[Op | Update]:
        values = {name: getter(event) for name, getter in fields.items()}
        values["version"] = event.originator_version
        return [Update("subscriptions", event.originator_id.hex, values, n)]

    return handle


def _status(status: str) -> Any:
    return _subscription_fields(status=lambda event: status)


_term = _subscription_fields(
    status=lambda event: "active",
    term_start=lambda event: event.effective_date.isoformat(),
    term_end=lambda event: event.term_end.isoformat(),
    offer_id=lambda event: event.offer.offer_id if hasattr(event, "offer") else None,
)


def _invoice_ops(event: Any, n: int) -> list[Op | Update]:
    document = json.loads(event.document)
    invoice = reconciliation.invoice_facts(document)
    account, day = invoice["account"], event.billing_date.isoformat()
    ops: list[Op | Update] = [
        Op("invoice_issued", {
            "billing_date": day, "account_id": event.originator_id.hex,
            "event_version": event.originator_version, "digest": event.digest,
            "cut_position": event.cut_position, "total": document["total"],
            "amount_due": f"{event.amount_due}", "notification_id": n, **invoice}),
        Update("accounts", event.originator_id.hex,
               {"last_amount_due": f"{event.amount_due}", "last_billing_date": day}, n),
    ]
    for number, line in enumerate(reconciliation.line_facts(document), start=1):
        ops.append(Op("invoice_line", {"account": account, "billing_date": day,
                                       "line_no": number, "notification_id": n, **line}))
    return ops


def _payment(event: Any, n: int) -> list[Op | Update]:
    return [Op("journal_payment", {
        "paid_on": event.effective_date.isoformat(), "account_id": event.originator_id.hex,
        "event_version": event.originator_version, "amount": f"{event.amount}",
        "reference": event.reference, "notification_id": n})]


_HANDLERS: dict[type[Any], Any] = {
    _A.Opened: _opened,
    _A.SubscriptionAdded: _account_fields(currency=lambda event: event.currency),
    _A.InvoiceIssued: _invoice_ops,
    _A.PaymentRecorded: _payment,
    _A.BillingDateClosed: _account_fields(
        last_billing_date=lambda event: event.billing_date.isoformat()),
    _S.Purchased: _purchased,
    _S.QuantityChanged: _subscription_fields(quantity=lambda event: event.quantity),
    _S.Suspended: _status("suspended"),
    _S.Reactivated: _status("active"),
    _S.Cancelled: _status("cancelled"),
    _S.Expired: _status("expired"),
    _S.TrialExpired: _status("expired"),
    _S.Renewed: _term,
    _S.TrialConverted: _term,
    _S.AutoRenewSet: _subscription_fields(auto_renew=lambda event: int(event.enabled)),
    _S.PaymentMethodAdded: _subscription_fields(),
}


def _iso(day: Any) -> str | None:
    return None if day is None else day.isoformat()


#: The event types this projection reads; everything else in the log is skipped: postings
#: (their lines reach the views through the invoice that issued them), the catalog, the
#: account registry, idempotency records.
HANDLED: tuple[type[Any], ...] = tuple(_HANDLERS)
TOPICS: tuple[str, ...] = tuple(get_topic(cls) for cls in HANDLED)
