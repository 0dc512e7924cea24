"""Invoices as immutable documents: built from the lines a billing date posts, written as
canonical bytes, and sealed with the SHA-256 digest of those bytes.

The canonical form is JSON with sorted keys, no insignificant white space, money as plain
decimal strings with the currency's places, and dates in ISO 8601. The same lines and
balances always give the same bytes, hence the same digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.charges import ChargeLine
from ledger.money import Money

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


@dataclass(frozen=True)
class InvoiceLine:
    """One line of an invoice, as the document shows it (money rounded to the currency)."""

    number: int
    line_id: str
    subscription: str
    term_start: date
    term_end: date
    start: date
    end: date
    charge_type: str
    unit_price: Money
    quantity: int
    amount: Money
    basis: str
    reverses: str | None
    sources: tuple[int, ...]

    @classmethod
    def of(cls, line: ChargeLine, number: int) -> InvoiceLine:
        return cls(number, line.line_id, line.subscription, line.term_start, line.term_end,
                   line.start, line.end, line.charge_type, Money.of(line.unit_price, line.currency),
                   line.quantity, Money.of(line.amount, line.currency), line.basis, line.reverses,
                   line.sources)

    def document(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "line_id": self.line_id,
            "subscription": self.subscription,
            "term_start": self.term_start.isoformat(),
            "term_end": self.term_end.isoformat(),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "charge_type": self.charge_type,
            "unit_price": str(self.unit_price),
            "quantity": self.quantity,
            "amount": str(self.amount),
            "basis": self.basis,
            "reverses": self.reverses,
            "sources": list(self.sources),
        }

    @classmethod
    def parse(cls, data: Mapping[str, Any], currency: str) -> InvoiceLine:
        return cls(
            int(data["number"]), data["line_id"], data["subscription"],
            date.fromisoformat(data["term_start"]), date.fromisoformat(data["term_end"]),
            date.fromisoformat(data["start"]), date.fromisoformat(data["end"]),
            data["charge_type"], Money.parse(data["unit_price"], currency), int(data["quantity"]),
            Money.parse(data["amount"], currency), data["basis"], data["reverses"],
            tuple(data["sources"]),
        )


def line_document(line: ChargeLine, number: int) -> dict[str, Any]:
    return InvoiceLine.of(line, number).document()


@dataclass(frozen=True)
class SubscriptionGroup:
    """A subscription's lines on an invoice, with what the invoice says about it."""

    info: SubscriptionInfo
    lines: tuple[InvoiceLine, ...]
    subtotal: Money

    def document(self) -> dict[str, Any]:
        return {
            "subscription": self.info.key,
            "offer_id": self.info.offer_id,
            "offer_name": self.info.offer_name,
            "billing_cycle": self.info.billing_cycle,
            "order_id": self.info.order_id,
            "lines": [line.document() for line in self.lines],
            "subtotal": str(self.subtotal),
        }

    @classmethod
    def parse(cls, data: Mapping[str, Any], currency: str) -> SubscriptionGroup:
        info = SubscriptionInfo(data["subscription"], data["offer_id"], data["offer_name"],
                                data["billing_cycle"], data["order_id"])
        return cls(info, tuple(InvoiceLine.parse(line, currency) for line in data["lines"]),
                   Money.parse(data["subtotal"], currency))


@dataclass(frozen=True)
class Invoice:
    """An issued invoice: what the billing run hands to the read side, typed. Its
    :meth:`document` is the canonical JSON the ``InvoiceIssued`` event seals (byte for byte
    what every version wrote: :meth:`parse` then :meth:`document` gives the same bytes, for
    every document version)."""

    document_version: int
    invoice_number: str
    account: str
    account_name: str
    billing_date: date
    currency: str
    groups: tuple[SubscriptionGroup, ...]
    charges: Money
    credits: Money
    total: Money
    balance_brought_forward: Money
    payments_received: Money
    amount_due: Money
    final_for: tuple[str, ...]
    rules_version: int
    log: LogPoint | None = None  # document version 2 on
    partner_id: str = ""

    @property
    def lines(self) -> list[InvoiceLine]:
        return [line for group in self.groups for line in group.lines]

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "document_version": self.document_version,
            "invoice_number": self.invoice_number,
            "account": self.account,
            "account_name": self.account_name,
            "billing_date": self.billing_date.isoformat(),
            "currency": self.currency,
            "subscriptions": [group.document() for group in self.groups],
            "charges": str(self.charges),
            "credits": str(self.credits),
            "total": str(self.total),
            "balance_brought_forward": str(self.balance_brought_forward),
            "payments_received": str(self.payments_received),
            "amount_due": str(self.amount_due),
            "final_for": list(self.final_for),
            "rules_version": self.rules_version,
        }
        if self.log is not None:
            document["log"] = {"position": self.log.position, "head": self.log.head}
        if self.partner_id:
            document["partner_id"] = self.partner_id
        return document

    def canonical_bytes(self) -> bytes:
        return canonical_bytes(self.document())

    def digest(self) -> str:
        return digest(self.document())

    @classmethod
    def parse(cls, document: str | Mapping[str, Any]) -> Invoice:
        """An issued document (its canonical JSON, or that JSON parsed)."""
        data: Mapping[str, Any] = json.loads(document) if isinstance(document, str) else document
        currency = data["currency"]

        def money(key: str) -> Money:
            return Money.parse(data[key], currency)

        log = data.get("log")
        return cls(
            document_version=data["document_version"], invoice_number=data["invoice_number"],
            account=data["account"], account_name=data["account_name"],
            billing_date=date.fromisoformat(data["billing_date"]), currency=currency,
            groups=tuple(SubscriptionGroup.parse(group, currency) for group in data["subscriptions"]),
            charges=money("charges"), credits=money("credits"), total=money("total"),
            balance_brought_forward=money("balance_brought_forward"),
            payments_received=money("payments_received"), amount_due=money("amount_due"),
            final_for=tuple(data["final_for"]), rules_version=data["rules_version"],
            log=None if log is None else LogPoint(log["position"], log["head"]),
            partner_id=data.get("partner_id", ""),
        )


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
) -> Invoice:
    """The invoice for one account and billing date (lines grouped by subscription).

    ``log`` is where the log stood at the cut (the customer's copy anchors it);
    ``final_for`` names the subscriptions whose cancellation this invoice settles;
    ``partner_id``, the issuing partner (kept in the document when not empty, so that the
    reconciliation file's PartnerId is part of what was issued). Every amount it adds up is
    the amount it shows, in the currency's places."""
    groups: list[SubscriptionGroup] = []
    number = 0
    zero = Money.zero(currency)
    charges = credits = zero
    for info, lines in subscriptions:
        if not lines:
            continue
        shown = []
        for line in lines:
            number += 1
            item = InvoiceLine.of(line, number)
            shown.append(item)
            if item.amount.amount >= 0:
                charges += item.amount
            else:
                credits += item.amount
        subtotal = sum((item.amount for item in shown), zero)
        groups.append(SubscriptionGroup(info, tuple(shown), subtotal))
    total = charges + credits
    brought = Money.of(balance_brought_forward, currency)
    paid = Money.of(payments, currency)
    return Invoice(
        document_version=DOCUMENT_VERSION, invoice_number=invoice_number(account, billing_date),
        account=account, account_name=account_name, billing_date=billing_date, currency=currency,
        groups=tuple(groups), charges=charges, credits=credits, total=total,
        balance_brought_forward=brought, payments_received=paid, amount_due=brought - paid + total,
        final_for=tuple(final_for), rules_version=rules_version, log=log, partner_id=partner_id,
    )


def canonical_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def invoice_lines(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every line of an invoice document, in order."""
    return [line for group in document["subscriptions"] for line in group["lines"]]
