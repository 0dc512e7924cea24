"""The billing projection: folds recorded events into the view tables.

It only folds facts the write side recorded: an issued invoice becomes its invoice row and
its reconciliation rows exactly as the invoice document says; subscription and account
events update their rows. Nothing here rates, rounds or re-computes money, so replaying the
log always gives the same rows.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.utils import get_topic

from ledger.account import BillingAccount
from ledger.dates import term_period
from ledger.subscription import Subscription
from projections import reconciliation
from projections.views import Op

_S, _A = Subscription, BillingAccount

#: The event types this projection reads (everything else in the log is skipped).
HANDLED: tuple[type[Any], ...] = (
    _A.Opened, _A.SubscriptionAdded, _A.InvoiceIssued, _A.BillingDateClosed,
    _S.Purchased, _S.QuantityChanged, _S.Suspended, _S.Reactivated, _S.Cancelled,
    _S.Renewed, _S.Expired, _S.AutoRenewSet, _S.TrialConverted, _S.TrialExpired,
    _S.PaymentMethodAdded,
)
# Not read: ChargesPosted (its lines reach the views through the invoice that issued them),
# the catalog, the account registry, idempotency records, snapshots.
TOPICS: tuple[str, ...] = tuple(get_topic(cls) for cls in HANDLED)


def ops_for(event: Any, notification_id: int, partner_id: str = "") -> list[Op]:
    """The view changes one recorded event makes."""
    n = notification_id
    aggregate_id = event.originator_id.hex
    if isinstance(event, _A.Opened):
        return [Op("account_opened", (aggregate_id, event.key, event.name, event.billing_day,
                                      event.currency, event.effective_date.isoformat(), n))]
    if isinstance(event, _A.SubscriptionAdded):
        return [Op("account_currency", (event.currency, n, aggregate_id))]
    if isinstance(event, _A.InvoiceIssued):
        return _invoice_ops(event, n, partner_id)
    if isinstance(event, _A.BillingDateClosed):
        return [Op("account_closed_date", (event.billing_date.isoformat(), n, aggregate_id))]
    sub_id = aggregate_id
    version = event.originator_version
    if isinstance(event, _S.Purchased):
        trial = event.trial_end is not None
        term_start = None if trial else event.effective_date
        term_end = None if trial else _first_term_end(event)
        return [Op("subscription_purchased", (
            sub_id, event.account, event.key, event.offer.offer_id,
            "trial" if trial else "active", event.quantity,
            _iso(term_start), _iso(term_end), int(event.auto_renew), version, n))]
    if isinstance(event, _S.QuantityChanged):
        return [Op("subscription_quantity", (event.quantity, version, n, sub_id))]
    status = {
        _S.Suspended: "suspended", _S.Reactivated: "active", _S.Cancelled: "cancelled",
        _S.Expired: "expired", _S.TrialExpired: "expired",
    }.get(type(event))
    if status is not None:
        return [Op("subscription_status", (status, version, n, sub_id))]
    if isinstance(event, (_S.Renewed, _S.TrialConverted)):
        offer_id = event.offer.offer_id if isinstance(event, _S.Renewed) else None
        return [Op("subscription_term", (event.effective_date.isoformat(), event.term_end.isoformat(),
                                         offer_id, version, n, sub_id))]
    if isinstance(event, _S.AutoRenewSet):
        return [Op("subscription_auto_renew", (int(event.enabled), version, n, sub_id))]
    return [Op("subscription_version", (version, n, sub_id))]


def _invoice_ops(event: Any, n: int, partner_id: str) -> list[Op]:
    document = json.loads(event.document)
    account = document["account"]
    day = event.billing_date.isoformat()
    ops = [
        Op("invoice_issued", (account, day, event.invoice_number, event.document, event.digest,
                              event.cut_position, f"{event.amount_due}", n)),
        Op("account_billed", (f"{event.amount_due}", day, n, event.originator_id.hex)),
    ]
    for number, row in enumerate(reconciliation.rows(document, partner_id), start=1):
        ops.append(Op("recon_line", (account, day, number,
                                     *(row[name] for name in reconciliation.COLUMNS))))
    return ops


def _first_term_end(event: Any) -> Any:
    return term_period(event.effective_date, event.offer.term, 0).end


def _iso(day: Any) -> str | None:
    return None if day is None else day.isoformat()
