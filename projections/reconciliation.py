"""The license-based reconciliation file: one CSV per account and billing date, in Partner
Center's columns (plus ``InvoiceNumber``), derived only from the issued invoice document.

Dates are ISO 8601, money a plain decimal with the currency's places (credits negative), the
file UTF-8 with one header row and ``\\n`` line endings. The same invoice always gives the same
bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
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


def rows(document: Mapping[str, Any], partner_id: str = "") -> list[dict[str, str]]:
    """The reconciliation rows of one issued invoice document, in invoice order."""
    zero = format_money(Decimal(0), document["currency"])
    result: list[dict[str, str]] = []
    for group in document["subscriptions"]:
        for line in group["lines"]:
            result.append(
                {
                    "PartnerId": partner_id,
                    "CustomerId": document["account"],
                    "CustomerName": document["account_name"],
                    "MpnId": "",
                    "ResellerMpnId": "",
                    "OrderId": group["order_id"],
                    "SubscriptionId": group["subscription"],
                    "SyndicationPartnerSubscriptionNumber": "",
                    "OfferId": group["offer_id"],
                    "DurableOfferId": group["offer_id"],
                    "OfferName": group["offer_name"],
                    "DomainName": "",
                    "BillingCycleType": group["billing_cycle"],
                    "SubscriptionName": group["offer_name"],
                    "SubscriptionDescription": group["offer_name"],
                    "SubscriptionStartDate": line["term_start"],
                    "SubscriptionEndDate": line["term_end"],
                    "ChargeStartDate": line["start"],
                    "ChargeEndDate": line["end"],
                    "ChargeType": line["charge_type"],
                    "UnitPrice": line["unit_price"],
                    "Quantity": str(line["quantity"]),
                    "Amount": line["amount"],
                    "TotalOtherDiscount": zero,
                    "Subtotal": line["amount"],
                    "Tax": zero,
                    "TotalForCustomer": line["amount"],
                    "Currency": document["currency"],
                    "InvoiceNumber": document["invoice_number"],
                }
            )
    return result


def render_csv(records: Iterable[Mapping[str, str]]) -> bytes:
    """CSV bytes with the header row; the same records always give the same bytes."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(record)
    return buffer.getvalue().encode("utf-8")


def render(document: Mapping[str, Any], partner_id: str = "") -> bytes:
    """The reconciliation file of one issued invoice."""
    return render_csv(rows(document, partner_id))
