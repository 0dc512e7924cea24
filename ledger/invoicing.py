"""Invoices as immutable documents: built from the lines a billing date posts, written as
canonical bytes, and sealed with the SHA-256 digest of those bytes.

The canonical form is JSON with sorted keys, no insignificant white space, money as plain
decimal strings with the currency's places, and dates in ISO 8601. The same lines and
balances always give the same bytes, hence the same digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.charges import ChargeLine
from ledger.money import format_money, round_money

#: 2 added ``log``: the log's position and head (hash chain seal) at the cut.
DOCUMENT_VERSION = 2


@dataclass(frozen=True)
class LogPoint:
    """Where the log stood when a billing date was cut: the position of its last event and
    that event's seal (None on a store that keeps no chain). An invoice carrying it anchors
    every event recorded before it."""

    position: int
    head: str | None


def invoice_number(account: str, billing_date: date) -> str:
    """Deterministic: the account and the billing date it was cut on."""
    return f"{account}-{billing_date:%Y%m%d}"


@dataclass(frozen=True)
class SubscriptionInfo:
    """What an invoice says about a subscription besides its lines."""

    key: str
    offer_id: str
    offer_name: str
    billing_cycle: str
    order_id: str


def line_document(line: ChargeLine, number: int) -> dict[str, Any]:
    return {
        "number": number,
        "line_id": line.line_id,
        "subscription": line.subscription,
        "term_start": line.term_start.isoformat(),
        "term_end": line.term_end.isoformat(),
        "start": line.start.isoformat(),
        "end": line.end.isoformat(),
        "charge_type": line.charge_type,
        "unit_price": format_money(line.unit_price, line.currency),
        "quantity": line.quantity,
        "amount": format_money(line.amount, line.currency),
        "basis": line.basis,
        "reverses": line.reverses,
        "sources": list(line.sources),
    }


def build_invoice(
    *,
    account: str,
    account_name: str,
    billing_date: date,
    currency: str,
    subscriptions: Sequence[tuple[SubscriptionInfo, Sequence[ChargeLine]]],
    balance_brought_forward: Decimal,
    payments: Decimal,
    rules_version: int,
    log: LogPoint,
    final_for: Sequence[str] = (),
    partner_id: str = "",
) -> dict[str, Any]:
    """The invoice document for one account and billing date (lines grouped by subscription).

    ``log`` is where the log stood at the cut (the customer's copy anchors it);
    ``final_for`` names the subscriptions whose cancellation this invoice settles;
    ``partner_id``, the issuing partner (kept in the document when not empty, so that the
    reconciliation file's PartnerId is part of what was issued)."""
    groups: list[dict[str, Any]] = []
    number = 0
    charges = credits = Decimal(0)
    for info, lines in subscriptions:
        if not lines:
            continue
        docs = []
        for line in lines:
            number += 1
            docs.append(line_document(line, number))
            if line.amount >= 0:
                charges += line.amount
            else:
                credits += line.amount
        subtotal = sum((line.amount for line in lines), Decimal(0))
        groups.append(
            {
                "subscription": info.key,
                "offer_id": info.offer_id,
                "offer_name": info.offer_name,
                "billing_cycle": info.billing_cycle,
                "order_id": info.order_id,
                "lines": docs,
                "subtotal": format_money(subtotal, currency),
            }
        )
    # Every amount the invoice adds up is the amount it shows, in the currency's places (a
    # payment is refused at the door with more places than the currency holds; rounding here
    # keeps a document that adds up even for one an older version let in).
    total = charges + credits
    brought = round_money(balance_brought_forward, currency)
    paid = round_money(payments, currency)
    amount_due = brought - paid + total
    document: dict[str, Any] = {
        "document_version": DOCUMENT_VERSION,
        "invoice_number": invoice_number(account, billing_date),
        "account": account,
        "account_name": account_name,
        "billing_date": billing_date.isoformat(),
        "currency": currency,
        "subscriptions": groups,
        "charges": format_money(charges, currency),
        "credits": format_money(credits, currency),
        "total": format_money(total, currency),
        "balance_brought_forward": format_money(brought, currency),
        "payments_received": format_money(paid, currency),
        "amount_due": format_money(amount_due, currency),
        "final_for": list(final_for),
        "rules_version": rules_version,
        "log": {"position": log.position, "head": log.head},
    }
    if partner_id:
        document["partner_id"] = partner_id
    return document


def canonical_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def invoice_lines(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every line of an invoice document, in order."""
    return [line for group in document["subscriptions"] for line in group["lines"]]
