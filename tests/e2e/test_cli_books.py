"""The books on the command line: journal, trial-balance, revenue, explain of an entry."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

from billing_ledger.api import Ledger
from ledger.clock import TestClock
from ledger.offers import OfferTerms
from tests.support import invoke


def make(path: Path) -> None:
    with Ledger(path, clock=TestClock(date(2018, 1, 13))) as ledger:
        ledger.define_offer(OfferTerms.create("e1", price="48.00", currency="USD", term="P1Y",
                                              billing="annual", convention="daily-rate"))
        ledger.open_account("contoso", billing_day=15)
        ledger.purchase("contoso", "S1", "e1", quantity=1)
        ledger.advance_to(date(2018, 2, 1))
        ledger.record_payment("contoso", Decimal("48.00"), reference="wire 7")
        ledger.advance_to(date(2018, 3, 1))


def test_journal_trial_balance_revenue_and_explain(tmp_path: Path) -> None:
    db = tmp_path / "books.sqlite"
    make(db)
    base = ["--db", str(db), "--today", "2018-03-01"]
    status, out, err = invoke([*base, "journal", "--as-of", "2018-02-28"])
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["entry"], r["account"], r["amount"]) for r in rows] == [
        ("contoso-20180115:1", "Assets:Receivable", "48.00"),
        ("contoso-20180115:1", "Liabilities:DeferredRevenue", "-47.61"),
        ("contoso-20180115:1", "Income:Revenue", "-0.39"),
        ("contoso-20180115:1:2018-01-16..2018-01-31", "Liabilities:DeferredRevenue", "2.11"),
        ("contoso-20180115:1:2018-01-16..2018-01-31", "Income:Revenue", "-2.11"),
        ("contoso:payment:4", "Assets:Cash", "48.00"),
        ("contoso:payment:4", "Assets:Receivable", "-48.00"),
        ("contoso-20180115:1:2018-02-01..2018-02-28", "Liabilities:DeferredRevenue", "3.68"),
        ("contoso-20180115:1:2018-02-01..2018-02-28", "Income:Revenue", "-3.68"),
    ]
    out_file = tmp_path / "books.beancount"
    status, out, err = invoke([*base, "journal", "--format", "beancount", "--as-of", "2018-02-28",
                               "--name", "cash=Assets:Bank", "--out", str(out_file)])
    assert status == 0, err
    assert "  Assets:Bank  48.00 USD\n" in out_file.read_text()
    status, out, err = invoke([*base, "trial-balance", "--as-of", "2018-02-28"])
    assert status == 0, err
    assert "Income:Revenue" in out and "6.18" in out and "Total" in out  # 0.39 + 2.11 + 3.68
    status, out, err = invoke([*base, "trial-balance", "--as-of", "2018-02-28", "--deferred"])
    assert status == 0, err
    cells = [[cell.strip() for cell in row.strip("│ ").split("│")] for row in out.splitlines()]
    assert ["contoso-20180115", "1", "2018-01-13..2019-01-12", "USD", "48.00", "41.82"] in cells
    status, out, err = invoke([*base, "revenue", "--from", "2018-01-01", "--to", "2018-02-28",
                               "--format", "csv"])
    assert status == 0, err
    assert out.splitlines() == ["invoice,customer,currency,2018-01,2018-02,total",
                                "contoso-20180115,contoso,USD,2.50,3.68,6.18"]
    status, out, err = invoke([*base, "explain", "contoso:payment:4"])
    assert status == 0, err
    assert "BillingAccount.PaymentRecorded" in out
    status, out, err = invoke([*base, "explain", "contoso-20180115:1:2018-02-01..2018-02-28"])
    assert status == 0, err
    assert "round(48.00 x 47/365) = 6.18" in out and "Subscription.Purchased" in out
    status, _, err = invoke([*base, "journal", "--name", "income=Income:X"])
    assert status == 2 and "the roles are receivable" in err
    status, _, err = invoke([*base, "revenue", "--from", "2018-03-01", "--to", "2018-01-01"])
    assert status == 2 and "before it starts" in err
    status, _, err = invoke([*base, "explain", "contoso-20180115:9"])
    assert status == 2 and "no journal entry" in err
