"""Audit views: explain a line, travel in time (``verify`` is :mod:`projections.verification`).

* :func:`explain` names the events behind an invoice line (type, effective date, recorded
  time, aggregate version) and shows its arithmetic; :func:`explain_entry` does the same
  for a journal entry (and, for one of an invoice line, explains the line).
* :func:`state_at` is a subscription's state as effective on a business date and as known
  at a recorded instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ledger import ids, invoicing
from ledger.aggregate import fold
from ledger.bounds import shown
from ledger.errors import UnknownLine, UnknownSubscription
from ledger.subscription import Subscription
from projections import journal, queries
from projections.log import EventLog
from projections.views import _Views


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
    if isinstance(ev, (Subscription.Purchased, Subscription.Renewed)):
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


def explain(log: EventLog, views: _Views, invoice_number: str, line_no: int) -> Explanation:
    """The events and the arithmetic behind line ``line_no`` (1-based) of an issued invoice."""
    row = queries.invoice_by_number(views, invoice_number)
    document = queries.document_of(log, row)
    lines = invoicing.invoice_lines(document)
    if not 1 <= line_no <= len(lines):
        raise UnknownLine(f"invoice {invoice_number} has lines 1 to {len(lines)}, not {line_no}")
    line = lines[line_no - 1]
    history = _history(log, document["account"], line["subscription"])
    by_version = {ev.originator_version: ev for ev in history}
    events = tuple(_event_info(by_version[v]) for v in line["sources"] if v in by_version)
    reversed_line, reversed_in = None, None
    if line.get("reverses"):
        for earlier in queries.invoices(views, document["account"]):
            doc = queries.document_of(log, earlier)
            for candidate in invoicing.invoice_lines(doc):
                if candidate["subscription"] == line["subscription"] and \
                        candidate["line_id"] == line["reverses"]:
                    reversed_line, reversed_in = candidate, doc["invoice_number"]
    return Explanation(invoice_number, document["account"], document["billing_date"], line, events,
                       reversed_line, reversed_in)


# --------------------------------------------------------------------------- journal entries
@dataclass(frozen=True)
class EntryExplanation:
    """A journal entry, the events it came from, and (for an entry of an invoice line) that
    line explained."""

    entry: journal.Entry
    events: tuple[EventInfo, ...]
    line: Explanation | None = None


def _ref_events(log: EventLog, refs: tuple[journal.EventRef, ...]) -> tuple[EventInfo, ...]:
    found: list[EventInfo] = []
    for ref in refs:
        account, _, subscription = ref.aggregate.partition("/")
        aggregate = (ids.subscription_id(account, subscription) if subscription
                     else ids.account_id(account))
        events = log.aggregate_events(aggregate, gt=ref.version - 1, lte=ref.version)
        found.extend(_event_info(ev) for ev in events)
    return tuple(found)


def explain_entry(log: EventLog, views: _Views, entry_id: str) -> EntryExplanation:
    """The events behind a journal entry (its id as the journal shows it:
    ``INVOICE:LINE``, ``INVOICE:LINE:FIRST..LAST`` or ``ACCOUNT:payment:VERSION``)."""
    parts = entry_id.split(":")
    unknown = UnknownLine(f"no journal entry {shown(entry_id)} (entries are INVOICE:LINE, "
                          "INVOICE:LINE:FIRST..LAST or ACCOUNT:payment:VERSION)")
    found: journal.Entry | None = None
    line_no: int | None = None
    if len(parts) == 3 and parts[1] == "payment":
        for payment in queries.journal_payments(views, date.max, parts[0]):
            if f"{payment.version}" == parts[2]:
                found = journal.payment_entry(payment)
    elif len(parts) in (2, 3) and parts[1].isdigit():
        line_no = int(parts[1])
        days = _days(parts[2]) if len(parts) == 3 else None
        row = queries.invoice_by_number(views, parts[0])
        for line in queries.journal_lines(views, date.max, row["account"]):
            if line.invoice_number == parts[0] and line.line_no == line_no:
                found = (journal.invoice_entry(line) if len(parts) == 2 else
                         journal.recognition_entry(line, *days) if days else None)
    if found is None or found.entry_id != entry_id:
        raise unknown
    explained = explain(log, views, found.invoice, line_no) if line_no is not None else None
    return EntryExplanation(found, _ref_events(log, found.events), explained)


def _days(text: str) -> tuple[date, date] | None:
    first, _, last = text.partition("..")
    try:
        return date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        return None


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


def _history(log: EventLog, account: str, subscription: str) -> list[Any]:
    events = log.aggregate_events(ids.subscription_id(account, subscription))
    if not events:
        raise UnknownSubscription(f"unknown subscription {shown(subscription)} in account "
                                  f"{shown(account)}")
    return events


def state_at(log: EventLog, account: str, subscription: str, *,
             as_of: date | None = None, known_at: datetime | None = None) -> SubscriptionState:
    """The subscription as effective on ``as_of`` (a business date), counting only what had
    been recorded by ``known_at`` (an instant). Either or both may be omitted."""
    history = _history(log, account, subscription)
    known = [ev for ev in history if known_at is None or ev.timestamp <= known_at]
    if not known:
        raise UnknownSubscription(
            f"subscription {subscription} was not yet recorded at "
            f"{known_at.isoformat() if known_at else '?'}"
        )
    chosen = [ev for ev in known if as_of is None or _effective(ev) <= as_of]
    if not chosen:
        raise UnknownSubscription(f"subscription {subscription} was not yet purchased on {as_of}")
    state = fold(chosen).describe()
    posted = tuple(
        {"billing_date": ev.billing_date.isoformat(), "line_id": line.line_id,
         "start": line.start.isoformat(), "end": line.end.isoformat(),
         "charge_type": line.charge_type, "unit_price": f"{line.unit_price}",
         "quantity": line.quantity, "amount": f"{line.amount}",
         "net_quantity": line.net_quantity}
        for ev in chosen if isinstance(ev, Subscription.ChargesPosted) for line in ev.lines
    )
    return SubscriptionState(account, subscription, as_of, known_at, state,
                             tuple(_event_info(ev) for ev in chosen), posted)


def _effective(ev: Any) -> date:
    """The business date an event takes effect (a posting: its billing date)."""
    day: date = ev.billing_date if isinstance(ev, Subscription.ChargesPosted) else ev.effective_date
    return day
