"""The license-based reconciliation file: one CSV per account and billing date, in Partner
Center's columns (plus ``InvoiceNumber``), derived only from the issued invoice document.

Dates are ISO 8601, money a plain decimal with the currency's places (credits negative), the
file UTF-8 with one header row and ``\\n`` line endings. The same invoice always gives the same
bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.money import format_money

COLUMNS: tuple[str, ...] = (
    "PartnerId",
    "CustomerId",
    "CustomerName",
    "MpnId",
    "ResellerMpnId",
    "OrderId",
    "SubscriptionId",
    "SyndicationPartnerSubscriptionNumber",
    "OfferId",
    "DurableOfferId",
    "OfferName",
    "DomainName",
    "BillingCycleType",
    "SubscriptionName",
    "SubscriptionDescription",
    "SubscriptionStartDate",
    "SubscriptionEndDate",
    "ChargeStartDate",
    "ChargeEndDate",
    "ChargeType",
    "UnitPrice",
    "Quantity",
    "Amount",
    "TotalOtherDiscount",
    "Subtotal",
    "Tax",
    "TotalForCustomer",
    "Currency",
    "InvoiceNumber",
)


def file_name(billing_date: date) -> str:
    return f"reconciliation-{billing_date.isoformat()}.csv"


def records(document: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The reconciliation rows of one issued invoice document, in invoice order, each a tuple
    of the :data:`COLUMNS`' values."""
    partner_id = document.get("partner_id", "")
    zero = format_money(Decimal(0), document["currency"])
    account, name = document["account"], document["account_name"]
    currency, number = document["currency"], document["invoice_number"]
    result: list[tuple[str, ...]] = []
    for group in document["subscriptions"]:
        order, sub, offer = group["order_id"], group["subscription"], group["offer_id"]
        offer_name, cycle = group["offer_name"], group["billing_cycle"]
        for line in group["lines"]:
            amount = line["amount"]
            result.append((
                partner_id, account, name, "", "", order, sub, "", offer, offer, offer_name, "",
                cycle, offer_name, offer_name, line["term_start"], line["term_end"],
                line["start"], line["end"], line["charge_type"], line["unit_price"],
                str(line["quantity"]), amount, zero, amount, zero, amount, currency, number,
            ))
    return result


def rows(document: Mapping[str, Any]) -> list[dict[str, str]]:
    """The same rows as mappings from column name to value."""
    return [dict(zip(COLUMNS, record, strict=True)) for record in records(document)]


def render_csv(rows: Iterable[Sequence[str] | Mapping[str, str]]) -> bytes:
    """CSV bytes with the header row; the same rows always give the same bytes. Each row is
    a sequence in :data:`COLUMNS` order, or a mapping from column name to value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row[name] for name in COLUMNS] if isinstance(row, Mapping) else row)
    return buffer.getvalue().encode("utf-8")


def render(document: Mapping[str, Any]) -> bytes:
    """The reconciliation file of one issued invoice."""
    return render_csv(records(document))
