"""The license-based reconciliation file: one CSV per account and billing date, in Partner
Center's columns (plus ``InvoiceNumber``), derived only from the issued invoice.

Dates are ISO 8601, money a plain decimal with the currency's places (credits negative), the
file UTF-8 with one header row and ``\\n`` line endings. The same invoice always gives the same
bytes.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from ledger.invoicing import Invoice
from ledger.money import Money


@dataclass(frozen=True)
class ReconRow:
    """One row of the license-based reconciliation file. Its fields, in order, are the
    file's columns (Partner Center's, then ``InvoiceNumber``); each field's ``column`` is
    the column's name. The column order is defined here and nowhere else."""

    partner_id: str = field(metadata={"column": "PartnerId"})
    customer_id: str = field(metadata={"column": "CustomerId"})
    customer_name: str = field(metadata={"column": "CustomerName"})
    mpn_id: str = field(metadata={"column": "MpnId"})
    reseller_mpn_id: str = field(metadata={"column": "ResellerMpnId"})
    order_id: str = field(metadata={"column": "OrderId"})
    subscription_id: str = field(metadata={"column": "SubscriptionId"})
    syndication_partner_subscription_number: str = field(
        metadata={"column": "SyndicationPartnerSubscriptionNumber"})
    offer_id: str = field(metadata={"column": "OfferId"})
    durable_offer_id: str = field(metadata={"column": "DurableOfferId"})
    offer_name: str = field(metadata={"column": "OfferName"})
    domain_name: str = field(metadata={"column": "DomainName"})
    billing_cycle_type: str = field(metadata={"column": "BillingCycleType"})
    subscription_name: str = field(metadata={"column": "SubscriptionName"})
    subscription_description: str = field(metadata={"column": "SubscriptionDescription"})
    subscription_start_date: str = field(metadata={"column": "SubscriptionStartDate"})
    subscription_end_date: str = field(metadata={"column": "SubscriptionEndDate"})
    charge_start_date: str = field(metadata={"column": "ChargeStartDate"})
    charge_end_date: str = field(metadata={"column": "ChargeEndDate"})
    charge_type: str = field(metadata={"column": "ChargeType"})
    unit_price: str = field(metadata={"column": "UnitPrice"})
    quantity: str = field(metadata={"column": "Quantity"})
    amount: str = field(metadata={"column": "Amount"})
    total_other_discount: str = field(metadata={"column": "TotalOtherDiscount"})
    subtotal: str = field(metadata={"column": "Subtotal"})
    tax: str = field(metadata={"column": "Tax"})
    total_for_customer: str = field(metadata={"column": "TotalForCustomer"})
    currency: str = field(metadata={"column": "Currency"})
    invoice_number: str = field(metadata={"column": "InvoiceNumber"})

    def values(self) -> tuple[str, ...]:
        """The row's values in column order."""
        return tuple(getattr(self, name) for name in _FIELDS)

    @classmethod
    def of_line(cls, line: Mapping[str, Any]) -> ReconRow:
        """The row of one issued line, from its facts and its invoice's (by the names
        :data:`INVOICE_FACTS` and :data:`LINE_FACTS` give them, as the views keep them).
        Partner Center's columns the ledger has no value for are empty; discounts and tax
        are zero."""
        amount, currency = line["amount"], line["currency"]
        zero = _zero(currency)
        offer_id, offer_name = line["offer_id"], line["offer_name"]
        return cls(
            partner_id=line["partner_id"], customer_id=line["account"],
            customer_name=line["account_name"], mpn_id="", reseller_mpn_id="",
            order_id=line["order_id"], subscription_id=line["subscription"],
            syndication_partner_subscription_number="", offer_id=offer_id,
            durable_offer_id=offer_id, offer_name=offer_name, domain_name="",
            billing_cycle_type=line["billing_cycle"], subscription_name=offer_name,
            subscription_description=offer_name, subscription_start_date=line["term_start"],
            subscription_end_date=line["term_end"], charge_start_date=line["service_start"],
            charge_end_date=line["service_end"], charge_type=line["charge_type"],
            unit_price=line["unit_price"], quantity=str(line["quantity"]), amount=amount,
            total_other_discount=zero, subtotal=amount, tax=zero, total_for_customer=amount,
            currency=currency, invoice_number=line["invoice_number"],
        )


_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ReconRow))
#: The file's columns, in order (from :class:`ReconRow`).
COLUMNS: tuple[str, ...] = tuple(f.metadata["column"] for f in fields(ReconRow))


def file_name(billing_date: date) -> str:
    return f"reconciliation-{billing_date.isoformat()}.csv"


#: What an issued invoice says once for all its lines (the views keep it on the invoice).
INVOICE_FACTS = ("account", "account_name", "partner_id", "invoice_number", "currency")
#: What it says of each line (the views keep one row of these per line).
LINE_FACTS = ("subscription", "order_id", "offer_id", "offer_name", "billing_cycle",
              "term_start", "term_end", "service_start", "service_end", "charge_type",
              "unit_price", "quantity", "amount", "sources")


def invoice_facts(document: Mapping[str, Any]) -> dict[str, str]:
    """:data:`INVOICE_FACTS` of an issued invoice's document."""
    return {"account": document["account"], "account_name": document["account_name"],
            "partner_id": document.get("partner_id", ""),
            "invoice_number": document["invoice_number"], "currency": document["currency"]}


def line_facts(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """:data:`LINE_FACTS` of each line of an issued invoice's document, in invoice order
    (``sources``: the versions of the subscription events the line was rated from, spaced).

    They are read straight from the canonical document, whose amounts and dates are already
    the strings the file shows (:meth:`Invoice.parse` then :meth:`Invoice.document` gives
    the same bytes, for every document version), so a rebuild folding millions of lines
    parses no amount and formats no date."""
    return [
        {"subscription": group["subscription"], "order_id": group["order_id"],
         "offer_id": group["offer_id"], "offer_name": group["offer_name"],
         "billing_cycle": group["billing_cycle"], "term_start": line["term_start"],
         "term_end": line["term_end"], "service_start": line["start"],
         "service_end": line["end"], "charge_type": line["charge_type"],
         "unit_price": line["unit_price"], "quantity": line["quantity"],
         "amount": line["amount"], "sources": " ".join(map(str, line["sources"]))}
        for group in document["subscriptions"] for line in group["lines"]
    ]


def records(invoice: Invoice) -> list[ReconRow]:
    """The reconciliation rows of one issued invoice, in invoice order."""
    document = invoice.document()
    head = invoice_facts(document)
    return [ReconRow.of_line({**head, **line}) for line in line_facts(document)]


@functools.cache
def _zero(currency: str) -> str:
    return str(Money.zero(currency))


def render_csv(rows: Iterable[ReconRow]) -> bytes:
    """CSV bytes with the header row; the same rows always give the same bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.values())
    return buffer.getvalue().encode("utf-8")


def render(invoice: Invoice) -> bytes:
    """The reconciliation file of one issued invoice."""
    return render_csv(records(invoice))
