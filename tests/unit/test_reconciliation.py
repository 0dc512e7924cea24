"""The reconciliation rows an issued invoice gives: made from the facts its canonical
document states (what the views keep of it), they are the invoice's own values, column by
column."""

from __future__ import annotations

import json

from hypothesis import given, settings

from ledger.invoicing import Invoice
from projections import reconciliation
from tests.strategies import examples, issued_invoices


@settings(max_examples=examples(150), deadline=None)
@given(issued_invoices())
def test_each_column_shows_the_invoice_value_it_names(invoice: Invoice) -> None:
    rows = reconciliation.records(invoice)
    assert len(rows) == len(invoice.lines)
    zero = "0" if invoice.currency == "JPY" else "0.000" if invoice.currency == "KWD" else "0.00"
    for row, line, group in zip(rows, invoice.lines, [g for g in invoice.groups for _ in g.lines],
                                strict=True):
        assert (row.partner_id, row.customer_id, row.customer_name, row.invoice_number,
                row.currency) == (invoice.partner_id, invoice.account, invoice.account_name,
                                  invoice.invoice_number, invoice.currency)
        assert (row.subscription_id, row.order_id, row.offer_id, row.durable_offer_id,
                row.offer_name, row.subscription_name, row.subscription_description,
                row.billing_cycle_type) == (
            group.info.key, group.info.order_id, group.info.offer_id, group.info.offer_id,
            group.info.offer_name, group.info.offer_name, group.info.offer_name,
            group.info.billing_cycle)
        assert (row.subscription_start_date, row.subscription_end_date, row.charge_start_date,
                row.charge_end_date) == (line.term_start.isoformat(), line.term_end.isoformat(),
                                         line.start.isoformat(), line.end.isoformat())
        assert (row.charge_type, row.unit_price, row.quantity) == (
            line.charge_type, str(line.unit_price), str(line.quantity))
        assert row.amount == row.subtotal == row.total_for_customer == str(line.amount)
        assert row.total_other_discount == row.tax == zero
        assert row.mpn_id == row.reseller_mpn_id == row.domain_name == \
            row.syndication_partner_subscription_number == ""


@settings(max_examples=examples(100), deadline=None)
@given(issued_invoices())
def test_the_sealed_bytes_give_the_same_rows_as_the_typed_invoice(invoice: Invoice) -> None:
    sealed = json.loads(invoice.canonical_bytes())
    head, lines = reconciliation.invoice_facts(sealed), reconciliation.line_facts(sealed)
    assert [reconciliation.ReconRow.of_line({**head, **line}) for line in lines] == \
        reconciliation.records(invoice)
    assert [line["sources"] for line in lines] == [
        " ".join(map(str, line.sources)) for line in invoice.lines]
    assert set(head) == set(reconciliation.INVOICE_FACTS)
    assert all(set(line) == set(reconciliation.LINE_FACTS) for line in lines)
