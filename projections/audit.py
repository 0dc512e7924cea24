"""Audit views: verify issued invoices, explain a line, travel in time.

* :func:`verify` re-derives every issued invoice from the log as it stood when the billing
  date was cut (the subscription versions and account state recorded with the invoice),
  checks the result against the recorded digest, and checks the view rows against it, so a
  row edited by hand in the view store is caught.
* :func:`explain` names the events behind an invoice line (type, effective date, recorded
  time, aggregate version) and shows its arithmetic.
* :func:`state_at` is a subscription's state as effective on a business date and as known
  at a recorded instant.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ledger import ids, invoicing, rating
from ledger.account import BillingAccount
from ledger.application import BillingLedger
from ledger.billing import derive_cut, replay
from ledger.errors import UnknownAccount, UnknownLine, UnknownSubscription
from projections import queries, reconciliation
from projections.views import _Views


# --------------------------------------------------------------------------- verify
@dataclass(frozen=True)
class InvoiceCheck:
    account: str
    billing_date: date
    invoice_number: str
    problems: tuple[str, ...]
    rerated: bool

    @property
    def ok(self) -> bool:
        return not self.problems


def _account_events(ledger: BillingLedger, key: str) -> list[Any]:
    events = list(ledger.events.get(ids.account_id(key)))
    if not events:
        raise UnknownAccount(f"unknown account {key!r}")
    return events


def rederive(ledger: BillingLedger, issued: Any, account_events: Sequence[Any]) -> dict[str, Any] | None:
    """The invoice document the recorded cut would produce if it ran again now, or None when
    it was rated by other rules than this code's."""
    recorded = json.loads(issued.document)
    if recorded.get("rules_version") != rating.RULES_VERSION or \
            recorded.get("document_version") != invoicing.DOCUMENT_VERSION:
        return None
    before = replay([ev for ev in account_events
                     if ev.originator_version < issued.originator_version], BillingAccount)
    histories = {
        key: list(ledger.events.get(ids.subscription_id(before.key, key), lte=version))
        for key, version in issued.subscription_versions.items()
    }
    result = derive_cut(
        account=before.key, account_name=before.name, currency=before.currency,
        balance=before.balance, payments=before.payments_since_invoice, histories=histories,
        billing_date=issued.billing_date, partner_id=recorded.get("partner_id", ""),
        log=invoicing.LogPoint(recorded["log"]["position"], recorded["log"]["head"]),
    )
    return result.document


def verify(ledger: BillingLedger, views: _Views, account: str | None = None) -> list[InvoiceCheck]:
    """Check every issued invoice (of ``account``, or of every account)."""
    keys = [account] if account is not None else ledger.account_keys()
    checks: list[InvoiceCheck] = []
    for key in keys:
        events = _account_events(ledger, key)
        for issued in (ev for ev in events if isinstance(ev, BillingAccount.InvoiceIssued)):
            checks.append(_check(ledger, views, key, issued, events))
    return checks


def _check(ledger: BillingLedger, views: _Views, key: str, issued: Any,
           events: Sequence[Any]) -> InvoiceCheck:
    problems: list[str] = []
    recorded = json.loads(issued.document)
    if invoicing.canonical_bytes(recorded).decode() != issued.document:
        problems.append("the recorded document is not in canonical form")
    if invoicing.digest(recorded) != issued.digest:
        problems.append("the recorded document does not match its recorded digest")
    derived = rederive(ledger, issued, events)
    if derived is not None and invoicing.digest(derived) != issued.digest:
        problems.append(_first_difference("re-derived from the log", derived, recorded))
    expected = derived if derived is not None else recorded
    rows = views.query("invoice", key, issued.billing_date.isoformat())
    if not rows:
        problems.append("the view store has no row for this invoice")
    else:
        row = rows[0]
        for column, value in (("invoice_number", issued.invoice_number),
                              ("digest", issued.digest),
                              ("event_version", issued.originator_version),
                              ("total", recorded["total"]),
                              ("amount_due", recorded["amount_due"])):
            if str(row[column]) != str(value):
                problems.append(f"the view's invoice {column} is {row[column]!r}, issued {value!r}")
        want = reconciliation.rows(expected)
        have = queries.recon_rows(views, key, issued.billing_date)
        if len(want) != len(have):
            problems.append(f"the view holds {len(have)} reconciliation lines, the invoice {len(want)}")
        for number, (a, b) in enumerate(zip(want, have, strict=False), start=1):
            for column in reconciliation.COLUMNS:
                if a[column] != b[column]:
                    problems.append(
                        f"view reconciliation line {number} {column}: {b[column]!r}, "
                        f"re-derived {a[column]!r}"
                    )
    return InvoiceCheck(key, issued.billing_date, issued.invoice_number, tuple(problems),
                        rerated=derived is not None)


def _first_difference(what: str, derived: dict[str, Any], recorded: dict[str, Any]) -> str:
    for field_name in sorted(set(derived) | set(recorded)):
        if derived.get(field_name) != recorded.get(field_name):
            return f"{what}: {field_name} differs ({derived.get(field_name)!r} vs recorded " \
                   f"{recorded.get(field_name)!r})"
    return f"{what}: differs"


# --------------------------------------------------------------------------- explain
@dataclass(frozen=True)
class EventInfo:
    type: str
    version: int
    effective_date: str | None
    recorded_at: str
    details: str


@dataclass(frozen=True)
class Explanation:
    invoice_number: str
    account: str
    billing_date: str
    line: dict[str, Any]
    events: tuple[EventInfo, ...]
    reversed_line: dict[str, Any] | None = None
    reversed_in: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def arithmetic(self) -> str:
        return str(self.line["basis"])


_DETAIL_FIELDS = ("quantity", "previous_quantity", "channel", "reason", "enabled", "term_end")


def _event_info(ev: Any) -> EventInfo:
    details = ", ".join(f"{name}={getattr(ev, name)}" for name in _DETAIL_FIELDS if hasattr(ev, name))
    if hasattr(ev, "offer"):
        details = ", ".join(filter(None, [f"offer={ev.offer.offer_id} at {ev.offer.price} "
                                          f"{ev.offer.currency}/{ev.offer.term}", details]))
    effective = getattr(ev, "effective_date", None) or getattr(ev, "billing_date", None)
    return EventInfo(
        type=type(ev).__qualname__,
        version=ev.originator_version,
        effective_date=effective.isoformat() if effective else None,
        recorded_at=ev.timestamp.isoformat(),
        details=details,
    )


def explain(ledger: BillingLedger, views: _Views, invoice_number: str, line_no: int) -> Explanation:
    """The events and the arithmetic behind line ``line_no`` (1-based) of an issued invoice."""
    row = queries.invoice_by_number(views, invoice_number)
    document = queries.document_of(ledger, row)
    lines = invoicing.invoice_lines(document)
    if not 1 <= line_no <= len(lines):
        raise UnknownLine(f"invoice {invoice_number} has lines 1 to {len(lines)}, not {line_no}")
    line = lines[line_no - 1]
    history = ledger.history(document["account"], line["subscription"])
    by_version = {ev.originator_version: ev for ev in history}
    events = tuple(_event_info(by_version[v]) for v in line["sources"] if v in by_version)
    reversed_line, reversed_in = None, None
    if line.get("reverses"):
        for earlier in queries.invoices(views, document["account"]):
            doc = queries.document_of(ledger, earlier)
            for candidate in invoicing.invoice_lines(doc):
                if candidate["subscription"] == line["subscription"] and \
                        candidate["line_id"] == line["reverses"]:
                    reversed_line, reversed_in = candidate, doc["invoice_number"]
    return Explanation(invoice_number, document["account"], document["billing_date"], line, events,
                       reversed_line, reversed_in)


# --------------------------------------------------------------------------- time travel
@dataclass(frozen=True)
class SubscriptionState:
    account: str
    subscription: str
    as_of: date | None
    known_at: datetime | None
    state: dict[str, Any]
    events: tuple[EventInfo, ...]
    posted: tuple[dict[str, Any], ...]


def state_at(ledger: BillingLedger, account: str, subscription: str, *,
             as_of: date | None = None, known_at: datetime | None = None) -> SubscriptionState:
    """The subscription as effective on ``as_of`` (a business date), counting only what had
    been recorded by ``known_at`` (an instant). Either or both may be omitted."""
    history = ledger.history(account, subscription)
    known = [ev for ev in history if known_at is None or ev.timestamp <= known_at]
    if not known:
        raise UnknownSubscription(
            f"subscription {subscription} was not yet recorded at "
            f"{known_at.isoformat() if known_at else '?'}"
        )
    chosen = [ev for ev in known if as_of is None or _effective(ev) <= as_of]
    if not chosen:
        raise UnknownSubscription(f"subscription {subscription} was not yet purchased on {as_of}")
    aggregate: Any = chosen[0].mutate(None)
    for ev in chosen[1:]:
        ev.apply(aggregate)
        aggregate.version = ev.originator_version
    state = aggregate.describe()
    posted = tuple(
        {"billing_date": ev.billing_date.isoformat(), "line_id": line.line_id,
         "start": line.start.isoformat(), "end": line.end.isoformat(),
         "charge_type": line.charge_type, "unit_price": f"{line.unit_price}",
         "quantity": line.quantity, "amount": f"{line.amount}"}
        for ev in chosen if hasattr(ev, "lines") for line in ev.lines
    )
    return SubscriptionState(account, subscription, as_of, known_at, state,
                             tuple(_event_info(ev) for ev in chosen), posted)


def _effective(ev: Any) -> date:
    day = getattr(ev, "effective_date", None) or ev.billing_date
    assert isinstance(day, date)
    return day
