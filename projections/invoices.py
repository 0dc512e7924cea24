"""Invoice documents rendered for people: JSON, plain text and HTML.

Every rendering is a pure function of the issued document, so an invoice reads the same
however often it is rendered.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any


def render_json(document: Mapping[str, Any]) -> str:
    """The issued document, indented for reading (same content as the canonical bytes)."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


_LINE_HEADERS = ("#", "Period", "Charge type", "Unit price", "Qty", "Amount")


def _line_cells(line: Mapping[str, Any]) -> tuple[str, ...]:
    return (str(line["number"]), f"{line['start']} - {line['end']}", line["charge_type"],
            line["unit_price"], str(line["quantity"]), line["amount"])


def _totals(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Charges", document["charges"]),
        ("Credits", document["credits"]),
        ("Total this billing date", document["total"]),
        ("Balance brought forward", document["balance_brought_forward"]),
        ("Payments received", document["payments_received"]),
        ("Amount due", document["amount_due"]),
    ]


def render_text(document: Mapping[str, Any]) -> str:
    """A fixed-width plain-text invoice."""
    currency = document["currency"]
    out = [
        f"INVOICE {document['invoice_number']}",
        f"Account:      {document['account_name']} ({document['account']})",
        f"Billing date: {document['billing_date']}",
        f"Currency:     {currency}",
        "",
    ]
    for group in document["subscriptions"]:
        out.append(f"Subscription {group['subscription']} - {group['offer_name']} "
                   f"({group['billing_cycle']} billing)")
        rows = [_LINE_HEADERS, *(_line_cells(line) for line in group["lines"])]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_LINE_HEADERS))]
        for row in rows:
            cells = [cell.rjust(w) if i in (0, 3, 4, 5) else cell.ljust(w)
                     for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
            out.append("  " + "  ".join(cells).rstrip())
        out.append(f"  Subtotal: {group['subtotal']} {currency}")
        out.append("")
    label_width = max(len(label) for label, _ in _totals(document))
    amount_width = max(len(value) for _, value in _totals(document))
    for label, value in _totals(document):
        out.append(f"{label.ljust(label_width)}  {value.rjust(amount_width)} {currency}")
    return "\n".join(out) + "\n"


def render_html(document: Mapping[str, Any]) -> str:
    """A self-contained HTML invoice."""
    e = html.escape
    currency = e(document["currency"])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Invoice {e(document['invoice_number'])}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{padding:.2em .6em;border-bottom:1px solid #ddd}td.n{text-align:right}</style>",
        "</head><body>",
        f"<h1>Invoice {e(document['invoice_number'])}</h1>",
        f"<p>{e(document['account_name'])} ({e(document['account'])})<br>"
        f"Billing date: {e(document['billing_date'])}<br>Currency: {currency}</p>",
    ]
    for group in document["subscriptions"]:
        parts.append(f"<h2>Subscription {e(group['subscription'])} - {e(group['offer_name'])}</h2>")
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in _LINE_HEADERS) + "</tr>")
        for line in group["lines"]:
            cells = _line_cells(line)
            parts.append("<tr>" + "".join(
                f'<td class="n">{e(c)}</td>' if i in (0, 3, 4, 5) else f"<td>{e(c)}</td>"
                for i, c in enumerate(cells)) + "</tr>")
        parts.append(f'<tr><td colspan="5">Subtotal</td><td class="n">{e(group["subtotal"])}</td></tr>')
        parts.append("</table>")
    parts.append("<table>")
    for label, value in _totals(document):
        parts.append(f'<tr><th>{e(label)}</th><td class="n">{e(value)} {currency}</td></tr>')
    parts.append("</table></body></html>")
    return "\n".join(parts) + "\n"
