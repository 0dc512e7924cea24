"""Invoice documents rendered for people: JSON, plain text and HTML, in en-US, it-IT, nl-NL
or nb-NO (``projections/i18n.py``).

Every rendering is a pure function of the issued document and the locale, so an invoice
reads the same however often it is rendered. The JSON is the document itself, neutral.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from projections.i18n import Formatter, formatter

_NUMERIC = (0, 3, 4, 5)  # columns aligned right


def render_json(document: Mapping[str, Any]) -> str:
    """The issued document, indented for reading (same content as the canonical bytes)."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _headers(f: Formatter) -> tuple[str, ...]:
    return ("#", f.text("Period"), f.text("Charge type"), f.text("Unit price"), f.text("Qty"),
            f.text("Amount"))


def _cells(f: Formatter, line: Mapping[str, Any], currency: str) -> tuple[str, ...]:
    return (
        str(line["number"]),
        f"{f.day(line['start'])} – {f.day(line['end'])}",
        f.text(line["charge_type"]),
        f.money(line["unit_price"], currency),
        f.number(line["quantity"]),
        f.money(line["amount"], currency),
    )


def _totals(f: Formatter, document: Mapping[str, Any]) -> list[tuple[str, str]]:
    currency = document["currency"]
    return [
        (f.text(label), f.money(document[key], currency))
        for label, key in (
            ("Charges", "charges"),
            ("Credits", "credits"),
            ("Total this billing date", "total"),
            ("Balance brought forward", "balance_brought_forward"),
            ("Payments received", "payments_received"),
            ("Amount due", "amount_due"),
        )
    ]


def _cycle(f: Formatter, cycle: str) -> str:
    return f.text("Annual billing" if cycle == "Annual" else "Monthly billing")


def _final_note(f: Formatter, document: Mapping[str, Any]) -> str | None:
    finals = document.get("final_for") or []
    if not finals:
        return None
    return f.text("Final invoice for subscription {subscriptions}, cancelled").format(
        subscriptions=", ".join(finals))


def render_text(document: Mapping[str, Any], locale: str | None = None) -> str:
    """A fixed-width plain-text invoice in ``locale`` (default en-US)."""
    f = formatter(locale)
    currency = document["currency"]
    head = [
        (f.text("Account"), f"{document['account_name']} ({document['account']})"),
        (f.text("Billing date"), f.long_day(document["billing_date"])),
        (f.text("Currency"), currency),
    ]
    width = max(len(label) for label, _ in head) + 1
    out = [f"{f.text('Invoice').upper()} {document['invoice_number']}"]
    out += [f"{(label + ':').ljust(width)} {value}" for label, value in head]
    note = _final_note(f, document)
    if note:
        out.append(note)
    out.append("")
    for group in document["subscriptions"]:
        out.append(f"{f.text('Subscription')} {group['subscription']} - {group['offer_name']} "
                   f"({_cycle(f, group['billing_cycle'])})")
        rows = [_headers(f), *(_cells(f, line, currency) for line in group["lines"])]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = [cell.rjust(w) if i in _NUMERIC else cell.ljust(w)
                     for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
            out.append("  " + "  ".join(cells).rstrip())
        out.append(f"  {f.text('Subtotal')}: {f.money(group['subtotal'], currency)}")
        out.append("")
    totals = _totals(f, document)
    label_width = max(len(label) for label, _ in totals)
    amount_width = max(len(value) for _, value in totals)
    for label, value in totals:
        out.append(f"{label.ljust(label_width)}  {value.rjust(amount_width)}")
    return "\n".join(out) + "\n"


def render_html(document: Mapping[str, Any], locale: str | None = None) -> str:
    """A self-contained HTML invoice in ``locale`` (default en-US)."""
    f = formatter(locale)
    e = html.escape
    currency = document["currency"]
    language = f.locale.replace("_", "-")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{language}"><head><meta charset="utf-8">',
        f"<title>{e(f.text('Invoice'))} {e(document['invoice_number'])}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{padding:.2em .6em;border-bottom:1px solid #ddd}td.n{text-align:right}</style>",
        "</head><body>",
        f"<h1>{e(f.text('Invoice'))} {e(document['invoice_number'])}</h1>",
        f"<p>{e(document['account_name'])} ({e(document['account'])})<br>"
        f"{e(f.text('Billing date'))}: {e(f.long_day(document['billing_date']))}<br>"
        f"{e(f.text('Currency'))}: {e(currency)}</p>",
    ]
    note = _final_note(f, document)
    if note:
        parts.append(f"<p><strong>{e(note)}</strong></p>")
    for group in document["subscriptions"]:
        parts.append(f"<h2>{e(f.text('Subscription'))} {e(group['subscription'])} - "
                     f"{e(group['offer_name'])} ({e(_cycle(f, group['billing_cycle']))})</h2>")
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in _headers(f)) + "</tr>")
        for line in group["lines"]:
            parts.append("<tr>" + "".join(
                f'<td class="n">{e(c)}</td>' if i in _NUMERIC else f"<td>{e(c)}</td>"
                for i, c in enumerate(_cells(f, line, currency))) + "</tr>")
        parts.append(f'<tr><td colspan="5">{e(f.text("Subtotal"))}</td>'
                     f'<td class="n">{e(f.money(group["subtotal"], currency))}</td></tr>')
        parts.append("</table>")
    parts.append("<table>")
    for label, value in _totals(f, document):
        parts.append(f'<tr><th>{e(label)}</th><td class="n">{e(value)}</td></tr>')
    parts.append("</table></body></html>")
    return "\n".join(parts) + "\n"
