"""The books on a ledger: held-out histories with hand-computed recognition, rebuilds
compared byte for byte, the beancount export loaded by beancount, verify on the journal
tables, and explain from a posting to its events."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_ledger.api import Ledger
from ledger.clock import TestClock
from ledger.errors import LedgerError, UnknownLine
from ledger.offers import OfferTerms
from projections.journal import JournalAccounts, Role
from tests import strategies as s
from tests.conftest import NewStore, temporary_store
from tests.integration.test_random_histories import terms
from tests.tamper import Store

D = Decimal
NOW = date(2018, 4, 1)


def book(location: str) -> Ledger:
    """Five accounts, each a history from Partner Center's rules, billed on the 15th until
    the clock reaches 1 April 2018:

    * ``annual``: $48.00 a year bought 13 January, billed up front 15 January; 48.00 paid
      on 1 February;
    * ``change``: the same, then 2 licenses from 1 February (15 February: -48.00 credit,
      2.47 for 13-31 January, 89.96 for 1 February 2018 to 12 January 2019);
    * ``late``: the same, suspended on 1 March, after the refund window (15 March: -41.34
      for 1 March 2018 to 12 January 2019, 318 days);
    * ``cancel``: the same, cancelled on 20 January, inside it (15 February: -48.00);
    * ``monthly``: $4.00 a month bought 13 January: 4.00 for each month from the 13th.
    """
    ledger = Ledger(location, clock=TestClock(date(2018, 1, 13)))
    ledger.define_offer(OfferTerms.create("e1", price="48.00", currency="USD", term="P1Y",
                                          billing="annual", convention="daily-rate"))
    ledger.define_offer(OfferTerms.create("m1", price="4.00", currency="USD", term="P1M",
                                          billing="monthly", convention="daily-rate"))
    for account, offer in (("annual", "e1"), ("change", "e1"), ("late", "e1"), ("cancel", "e1"),
                           ("monthly", "m1")):
        ledger.open_account(account, billing_day=15)
        ledger.purchase(account, "S1", offer, quantity=1)
    ledger.advance_to(date(2018, 1, 20))
    ledger.cancel("cancel", "S1", channel="assisted")
    ledger.advance_to(date(2018, 2, 1))
    ledger.record_payment("annual", D("48.00"), reference="wire 1")
    ledger.change_quantity("change", "S1", 2)
    ledger.advance_to(date(2018, 3, 1))
    ledger.suspend("late", "S1")
    ledger.advance_to(NOW)
    return ledger


def balances(ledger: Ledger, account: str, day: date) -> dict[Role, Decimal]:
    found = ledger.trial_balance(day, account=account)
    assert {b.currency for b in found} <= {"USD"}
    return {b.role: b.amount for b in found}


def test_held_out_histories_recognise_as_computed_by_hand(new_store: NewStore) -> None:
    with book(new_store("books")) as ledger:
        # annual: through 30 June, day 169 of 365: round(4800 x 169 / 365) = 2222 cents.
        assert balances(ledger, "annual", date(2018, 6, 30)) == {
            Role.CASH: D("48.00"), Role.RECEIVABLE: D("0.00"),
            Role.DEFERRED_REVENUE: D("-25.78"), Role.REVENUE: D("-22.22")}
        assert balances(ledger, "annual", date(2019, 1, 12))[Role.DEFERRED_REVENUE] == 0
        assert balances(ledger, "annual", date(2019, 1, 12))[Role.REVENUE] == D("-48.00")
        fall = ledger.revenue(date(2018, 1, 1), date(2018, 6, 30), account="annual")
        assert fall.months == ("2018-01", "2018-02", "2018-03", "2018-04", "2018-05", "2018-06")
        (row,) = fall.rows
        assert row.invoice == "annual-20180115"
        assert row.months == (D("2.50"), D("3.68"), D("4.08"), D("3.94"), D("4.08"), D("3.94"))
        # change: through 31 March the annual line and its credit cancel out (day 78:
        # +-10.26), 2.47 is served, and 89.96 has reached day 59 of 346: 15.34.
        assert balances(ledger, "change", date(2018, 3, 31)) == {
            Role.RECEIVABLE: D("92.43"), Role.DEFERRED_REVENUE: D("-74.62"),
            Role.REVENUE: D("-17.81")}
        assert balances(ledger, "change", date(2019, 1, 12)) == {
            Role.RECEIVABLE: D("92.43"), Role.DEFERRED_REVENUE: D("0.00"),
            Role.REVENUE: D("-92.43")}
        # late: through 31 March the 48.00 has recognised 10.26 and the credit (day 31 of 318:
        # round(4134 x 31 / 318) = 403) -4.03.
        assert balances(ledger, "late", date(2018, 3, 31)) == {
            Role.RECEIVABLE: D("6.66"), Role.DEFERRED_REVENUE: D("-0.43"),
            Role.REVENUE: D("-6.23")}
        assert balances(ledger, "late", date(2019, 1, 12))[Role.REVENUE] == D("-6.66")
        assert balances(ledger, "late", date(2019, 1, 12))[Role.DEFERRED_REVENUE] == 0
        # cancel: the credit, issued 15 February, reverses everything the charge booked.
        assert balances(ledger, "cancel", date(2018, 2, 14)) == {
            Role.RECEIVABLE: D("48.00"), Role.DEFERRED_REVENUE: D("-43.66"),
            Role.REVENUE: D("-4.34")}  # day 33: round(433.97) = 434 cents
        assert set(balances(ledger, "cancel", date(2018, 2, 15)).values()) == {D(0)}
        # monthly: 4.00 for 13 March to 12 April (31 days) has reached day 19 (245 cents).
        assert balances(ledger, "monthly", date(2018, 3, 31)) == {
            Role.RECEIVABLE: D("12.00"), Role.DEFERRED_REVENUE: D("-1.55"),
            Role.REVENUE: D("-10.45")}
        deferred = ledger.deferred_revenue(date(2018, 3, 31), account="monthly")
        assert [(d.line.key, d.amount) for d in deferred] == [("monthly-20180315:1", D("-1.55"))]
        # The whole book's trial balance is the accounts' added up, and balances.
        total = {b.role: b.amount for b in ledger.trial_balance(date(2018, 3, 31))}
        assert total[Role.CASH] == D("48.00") and sum(total.values()) == 0


def test_explain_walks_from_a_posting_to_its_events(new_store: NewStore) -> None:
    with book(new_store("books")) as ledger:
        found = ledger.explain_entry("change-20180215:3:2018-03-01..2018-03-31")
        assert found.entry.postings[0].amount == D("8.06")
        # through 28 February, day 28 of 346: round(8996 x 28 / 346) = 728 cents
        assert found.entry.arithmetic == ("round(89.96 x 59/346) = 15.34 recognised through "
                                          "2018-03-31, less 7.28 before: 8.06")
        assert [ev.type for ev in found.events] == [
            "BillingAccount.InvoiceIssued", "Subscription.Purchased",
            "Subscription.QuantityChanged"]
        assert found.line is not None and found.line.line["amount"] == "89.96"
        # An entry of a journal cut mid-month, or of the daily journal, is explained too.
        part = ledger.explain_entry("change-20180215:3:2018-03-01..2018-03-15")
        assert part.entry.postings[0].amount == D("3.90")  # round(8996 x 43/346) = 1118 - 728
        day = ledger.explain_entry("change-20180215:3:2018-03-16..2018-03-16")
        assert day.entry.postings[0].amount == D("0.26")  # round(1144.00) = 1144 - 1118
        assert day.entry.entry_id in {e.entry_id for e in ledger.journal_entries(
            date(2018, 3, 31), account="change", daily=True)}
        with pytest.raises(UnknownLine):
            ledger.explain_entry("change-20180215:3:2018-02-10..2018-02-15")  # before its invoice
        paid = ledger.explain_entry("annual:payment:4")
        assert [ev.type for ev in paid.events] == ["BillingAccount.PaymentRecorded"]
        assert paid.entry.postings[0].amount == D("48.00")


def test_rebuilt_views_give_the_same_bytes(new_store: NewStore) -> None:
    with book(new_store("books")) as ledger:
        def outputs() -> tuple[object, ...]:
            ledger.catch_up()
            rows, _ = ledger.views.dump(ledger.app.name)
            return (ledger.journal_csv(date(2019, 2, 1)), ledger.journal_beancount(date(2019, 2, 1)),
                    ledger.trial_balance(date(2018, 3, 31)),
                    ledger.revenue(date(2018, 1, 1), date(2019, 1, 31)).csv(),
                    {table: sorted(repr(sorted(row.items())) for row in rows[table])
                     for table in ("invoice_lines", "journal_payments")})

        before = outputs()
        # annual 1, change 1 + 3, late 1 + 1, cancel 1 + 1, monthly 3 lines; one payment
        assert [len(rows) for rows in before[4].values()] == [12, 1]  # type: ignore[attr-defined]
        assert ledger.rebuild() > 0
        assert outputs() == before


def test_the_beancount_export_loads_in_beancount_and_matches_the_trial_balance(
        new_store: NewStore, tmp_path: Path) -> None:
    names = JournalAccounts(receivable="Assets:Customers", revenue="Income:Licenses")
    day = date(2018, 3, 31)
    with book(new_store("books")) as ledger:
        path = tmp_path / "books.beancount"
        path.write_text(ledger.journal_beancount(day, names=names), "utf-8")
        expected = {(names.name(b.role), b.currency): b.amount
                    for b in ledger.trial_balance(day) if b.amount != 0}
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    totals: dict[tuple[str, str], Decimal] = {}
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                assert posting.units is not None and posting.units.number is not None
                key = (posting.account, str(posting.units.currency))
                totals[key] = totals.get(key, D(0)) + posting.units.number
    assert {key: value for key, value in totals.items() if value != 0} == expected
    assert ("Assets:Customers", "USD") in expected
    check = subprocess.run([str(Path(sys.executable).parent / "bean-check"), str(path)],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_verify_finds_a_tampered_journal_row(new_store: NewStore) -> None:
    location = new_store("books")
    with book(location) as ledger:
        ledger.catch_up()
        assert ledger.verify().ok
        store = Store(location)
        store.execute("UPDATE {p}invoice_lines SET amount = %s WHERE account = %s AND line_no = 3",
                      "8.99", "change")
        store.execute("UPDATE {p}journal_payments SET amount = %s", "480.00")
        result = ledger.verify()
        text = "\n".join(str(finding) for finding in result.findings)
        assert "view invoice_lines 2018-02-15/change/3: amount is '8.99', the log says '89.96'" in text
        assert "view journal_payments 2018-02-01/" in text and "amount is '480.00'" in text
        assert not ledger.verify("annual").ok  # the payment's account, though its row has no key
        assert ledger.verify("monthly").ok
        store.execute("DELETE FROM {p}invoice_lines WHERE account = %s", "late")
        text = "\n".join(str(finding) for finding in ledger.verify("late").findings)
        assert "view invoice_lines 2018-01-15/late/1: missing: the log makes this row" in text


@settings(max_examples=s.examples(8), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(life=s.lifetimes, billing_day=s.billing_days, payments=st.integers(0, 3))
def test_a_random_life_books_exactly_what_its_invoices_say(
        tmp_path: Path, life: s.Lifetime, billing_day: int, payments: int) -> None:
    """Any subscription's life, billed through the ledger: every entry balances, and once
    every period has ended the books hold the invoices' totals as revenue, nothing
    deferred, and those totals less the payments as receivable."""
    with temporary_store("sqlite", tmp_path) as location, \
            Ledger(location, clock=TestClock(life.start)) as ledger:
        ledger.define_offer(terms(0, life.offer))
        ledger.open_account("acme", billing_day=billing_day)
        ledger.purchase("acme", "S", "offer-0", life.quantity, trial=life.trial,
                        trial_days=life.trial_days)
        day = life.start
        for act in life.acts:
            day += timedelta(days=act.gap)
            ledger.advance_to(day)
            with contextlib.suppress(LedgerError):
                if act.kind == "change":
                    ledger.change_quantity("acme", "S", act.quantity)
                elif act.kind in ("auto_renew_on", "auto_renew_off"):
                    ledger.set_auto_renew("acme", "S", act.kind == "auto_renew_on")
                elif act.kind == "cancel":
                    ledger.cancel("acme", "S")
                else:
                    getattr(ledger, act.kind)("acme", "S")
        ledger.advance_to(day + timedelta(days=life.end_gap))
        with contextlib.suppress(LedgerError):
            ledger.cancel("acme", "S", channel="assisted")
        for _ in range(payments):
            ledger.record_payment("acme", Decimal("10.00"))
        ledger.advance_to(ledger.today() + timedelta(days=63))
        charged = sum((Decimal(row["total"]) for row in ledger.invoices("acme")), Decimal(0))
        paid = Decimal("10.00") * payments
        after = ledger.today() + timedelta(days=800)
        for entry in ledger.journal_entries(after):
            assert entry.balance() == 0, entry
        books = {b.role: b.amount for b in ledger.trial_balance(after)}
        assert books.get(Role.REVENUE, Decimal(0)) == -charged
        assert books.get(Role.DEFERRED_REVENUE, Decimal(0)) == 0
        assert books.get(Role.RECEIVABLE, Decimal(0)) == charged - paid
        assert books.get(Role.CASH, Decimal(0)) == paid
