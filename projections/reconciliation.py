"""The license-based reconciliation file: one CSV per account and billing date, in Partner
Center's columns (plus ``InvoiceNumber``), derived only from the issued invoice.

Dates are ISO 8601, money a plain decimal with the currency's places (credits negative), the
file UTF-8 with one header row and ``\\n`` line endings. The same invoice always gives the same
bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date

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

    def by_column(self) -> dict[str, str]:
        return dict(zip(COLUMNS, self.values(), strict=True))

    @classmethod
    def from_columns(cls, row: Mapping[str, str]) -> ReconRow:
        """A row read back by column name (from the views)."""
        return cls(*(row[column] for column in COLUMNS))


_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ReconRow))
#: The file's columns, in order (from :class:`ReconRow`).
COLUMNS: tuple[str, ...] = tuple(f.metadata["column"] for f in fields(ReconRow))


def file_name(billing_date: date) -> str:
    return f"reconciliation-{billing_date.isoformat()}.csv"


def records(invoice: Invoice) -> list[ReconRow]:
    """The reconciliation rows of one issued invoice, in invoice order. Partner Center's
    columns the ledger has no value for are empty; discounts and tax are zero."""
    zero = str(Money.zero(invoice.currency))
    rows: list[ReconRow] = []
    for group in invoice.groups:
        info = group.info
        for line in group.lines:
            amount = str(line.amount)
            rows.append(ReconRow(
                partner_id=invoice.partner_id, customer_id=invoice.account,
                customer_name=invoice.account_name, mpn_id="", reseller_mpn_id="",
                order_id=info.order_id, subscription_id=info.key,
                syndication_partner_subscription_number="", offer_id=info.offer_id,
                durable_offer_id=info.offer_id, offer_name=info.offer_name, domain_name="",
                billing_cycle_type=info.billing_cycle, subscription_name=info.offer_name,
                subscription_description=info.offer_name,
                subscription_start_date=line.term_start.isoformat(),
                subscription_end_date=line.term_end.isoformat(),
                charge_start_date=line.start.isoformat(), charge_end_date=line.end.isoformat(),
                charge_type=line.charge_type, unit_price=str(line.unit_price),
                quantity=str(line.quantity), amount=amount, total_other_discount=zero,
                subtotal=amount, tax=zero, total_for_customer=amount, currency=invoice.currency,
                invoice_number=invoice.invoice_number,
            ))
    return rows


def rows(invoice: Invoice) -> list[dict[str, str]]:
    """The same rows as mappings from column name to value."""
    return [row.by_column() for row in records(invoice)]


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
