"""The event feed: the ledger's facts as integration events for other systems (ERP, revenue
recognition, notifications).

Each record is a JSON-serialisable mapping with a stable, versioned schema (one JSON Schema
per type in ``docs/reference/feed/``). Records come in the order they were recorded; each
carries its ``position`` in the ledger's log. A consumer keeps the position of the last
record it handled and asks for the records after it, so across restarts none is skipped or
repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.account import BillingAccount
from ledger.charges import ChargeLine
from ledger.subscription import Subscription
from projections.log import EventLog

SCHEMA_VERSION = 1
_S, _A = Subscription, BillingAccount


def _money(value: Any) -> str:
    return f"{value}"


def _line(line: ChargeLine) -> dict[str, Any]:
    return {
        "line_id": line.line_id,
        "start": line.start.isoformat(),
        "end": line.end.isoformat(),
        "charge_type": line.charge_type,
        "unit_price": _money(line.unit_price),
        "quantity": line.quantity,
        "amount": _money(line.amount),
        "currency": line.currency,
        "reverses": line.reverses,
    }


def _offer(event: Any) -> dict[str, Any]:
    offer = event.offer
    return {
        "offer_id": offer.offer_id,
        "price": _money(offer.price),
        "currency": offer.currency,
        "term": offer.term,
        "billing": offer.billing.value,
        "convention": offer.convention.value,
    }


#: type name -> (event class, data builder, JSON Schema properties of ``data``)
TYPES: dict[str, tuple[type[Any], Callable[[Any], dict[str, Any]], dict[str, Any]]] = {
    "account.opened": (_A.Opened, lambda e: {
        "name": e.name, "billing_day": e.billing_day, "currency": e.currency, "locale": e.locale,
    }, {"name": {"type": "string"}, "billing_day": {"type": "integer", "minimum": 1, "maximum": 31},
        "currency": {"type": ["string", "null"]}, "locale": {"type": ["string", "null"]}}),
    "payment.recorded": (_A.PaymentRecorded, lambda e: {
        "amount": _money(e.amount), "reference": e.reference,
    }, {"amount": {"type": "string"}, "reference": {"type": "string"}}),
    "invoice.issued": (_A.InvoiceIssued, lambda e: {
        "invoice_number": e.invoice_number, "billing_date": e.billing_date.isoformat(),
        "amount_due": _money(e.amount_due), "digest": e.digest, "cut_position": e.cut_position,
    }, {"invoice_number": {"type": "string"}, "billing_date": {"type": "string", "format": "date"},
        "amount_due": {"type": "string"}, "digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "cut_position": {"type": "integer"}}),
    "billing_date.closed": (_A.BillingDateClosed, lambda e: {
        "billing_date": e.billing_date.isoformat(),
    }, {"billing_date": {"type": "string", "format": "date"}}),
    "subscription.purchased": (_S.Purchased, lambda e: {
        **_offer(e), "quantity": e.quantity, "auto_renew": e.auto_renew,
        "trial_end": e.trial_end.isoformat() if e.trial_end else None,
    }, {"offer_id": {"type": "string"}, "price": {"type": "string"}, "currency": {"type": "string"},
        "term": {"enum": ["P1Y", "P1M"]}, "billing": {"enum": ["annual", "monthly"]},
        "convention": {"enum": ["daily-rate", "exact"]}, "quantity": {"type": "integer"},
        "auto_renew": {"type": "boolean"}, "trial_end": {"type": ["string", "null"]}}),
    "subscription.quantity_changed": (_S.QuantityChanged, lambda e: {
        "quantity": e.quantity, "previous_quantity": e.previous_quantity,
    }, {"quantity": {"type": "integer", "minimum": 1},
        "previous_quantity": {"type": "integer", "minimum": 1}}),
    "subscription.suspended": (_S.Suspended, lambda e: {}, {}),
    "subscription.reactivated": (_S.Reactivated, lambda e: {}, {}),
    "subscription.cancelled": (_S.Cancelled, lambda e: {"channel": e.channel},
                               {"channel": {"enum": ["online", "assisted"]}}),
    "subscription.renewed": (_S.Renewed, lambda e: {
        **_offer(e), "term_end": e.term_end.isoformat(),
    }, {"offer_id": {"type": "string"}, "price": {"type": "string"}, "currency": {"type": "string"},
        "term": {"enum": ["P1Y", "P1M"]}, "billing": {"enum": ["annual", "monthly"]},
        "convention": {"enum": ["daily-rate", "exact"]},
        "term_end": {"type": "string", "format": "date"}}),
    "subscription.expired": (_S.Expired, lambda e: {"reason": e.reason},
                             {"reason": {"type": "string"}}),
    "subscription.trial_converted": (_S.TrialConverted, lambda e: {
        "term_end": e.term_end.isoformat()}, {"term_end": {"type": "string", "format": "date"}}),
    "subscription.trial_expired": (_S.TrialExpired, lambda e: {}, {}),
    "subscription.payment_method_added": (_S.PaymentMethodAdded, lambda e: {}, {}),
    "subscription.auto_renew_set": (_S.AutoRenewSet, lambda e: {"enabled": e.enabled},
                                    {"enabled": {"type": "boolean"}}),
    "charges.posted": (_S.ChargesPosted, lambda e: {
        "billing_date": e.billing_date.isoformat(), "rules_version": e.rules_version,
        "lines": [_line(line) for line in e.lines],
    }, {"billing_date": {"type": "string", "format": "date"}, "rules_version": {"type": "integer"},
        "lines": {"type": "array", "items": {"type": "object", "required": [
            "line_id", "start", "end", "charge_type", "unit_price", "quantity", "amount",
            "currency", "reverses"], "properties": {
            "line_id": {"type": "string"}, "start": {"type": "string", "format": "date"},
            "end": {"type": "string", "format": "date"}, "charge_type": {"type": "string"},
            "unit_price": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1},
            "amount": {"type": "string"}, "currency": {"type": "string"},
            "reverses": {"type": ["string", "null"]}}, "additionalProperties": False}}}),
}
_BY_CLASS = {cls: name for name, (cls, _, _) in TYPES.items()}
TOPICS: tuple[str, ...] = tuple(get_topic(cls) for cls, _, _ in TYPES.values())


def json_schema(type_name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one record type."""
    _, _, properties = TYPES[type_name]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://billing-ledger.example/feed/{type_name}.v{SCHEMA_VERSION}.json",
        "title": type_name,
        "type": "object",
        "required": ["schema_version", "type", "position", "event_id", "account", "subscription",
                     "effective_date", "recorded_at", "data"],
        "additionalProperties": False,
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION},
            "type": {"const": type_name},
            "position": {"type": "integer", "minimum": 1},
            "event_id": {"type": "string"},
            "account": {"type": "string"},
            "subscription": {"type": ["string", "null"]},
            "effective_date": {"type": ["string", "null"], "format": "date"},
            "recorded_at": {"type": "string", "format": "date-time"},
            "data": {"type": "object", "required": sorted(properties), "properties": properties,
                     "additionalProperties": False},
        },
    }


class Feed:
    """Reads the ledger's log as integration records."""

    def __init__(self, log: EventLog, batch_size: int = 500) -> None:
        self.log = log
        self.batch_size = batch_size
        self._owners: dict[UUID, tuple[str, str | None]] = {}

    def records(self, after: int = 0, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every record after position ``after``, in order (at most ``limit``)."""
        position, given = after, 0
        while limit is None or given < limit:
            notifications = self.log.notifications(position, self.batch_size, topics=TOPICS)
            if not notifications:
                return
            for notification in notifications:
                event = self.log.decode(notification)
                yield self.record(event, notification.id)
                given += 1
                if limit is not None and given >= limit:
                    return
            position = notifications[-1].id

    def record(self, event: Any, position: int) -> dict[str, Any]:
        name = _BY_CLASS[type(event)]
        _, build, _ = TYPES[name]
        account, subscription = self._owner(event)
        effective = getattr(event, "effective_date", None) or getattr(event, "billing_date", None)
        return {
            "schema_version": SCHEMA_VERSION,
            "type": name,
            "position": position,
            "event_id": f"{event.originator_id}/{event.originator_version}",
            "account": account,
            "subscription": subscription,
            "effective_date": effective.isoformat() if effective else None,
            "recorded_at": event.timestamp.isoformat(),
            "data": build(event),
        }

    def _owner(self, event: Any) -> tuple[str, str | None]:
        if isinstance(event, _S.Purchased):
            self._owners[event.originator_id] = (event.account, event.key)
        elif isinstance(event, _A.Opened):
            self._owners[event.originator_id] = (event.key, None)
        owner = self._owners.get(event.originator_id)
        if owner is None:  # a consumer resuming mid-log: the aggregate's first event says
            (first,) = self.log.aggregate_events(event.originator_id, lte=1)
            owner = (first.account, first.key) if isinstance(first, _S.Purchased) else (first.key, None)
            self._owners[event.originator_id] = owner
        return owner
