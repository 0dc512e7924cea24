"""The books' rules (projections/journal.py), on facts alone: hand-computed recognition
schedules, and properties of every entry and balance."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.money import currency_places
from projections import journal
from projections.journal import EventRef, LineFact, PaymentFact, Role
from tests import strategies as s

D = Decimal
#: $48.00 a year, bought 2018-01-13 (a 365-day term), billed up front on 2018-01-15.
ANNUAL = LineFact("contoso", "contoso-20180115", 1, date(2018, 1, 15), "S1", "USD", D("48.00"),
                  date(2018, 1, 13), date(2019, 1, 12), (EventRef("contoso", 3),))


def balances(entries: list[journal.Entry]) -> dict[tuple[str, Role], Decimal]:
    totals: dict[tuple[str, Role], Decimal] = defaultdict(Decimal)
    for entry in entries:
        for posting in entry.postings:
            totals[(entry.currency, posting.role)] += posting.amount
    return dict(totals)


def as_dict(found: list[journal.Balance]) -> dict[tuple[str, Role], Decimal]:
    return {(b.currency, b.role): b.amount for b in found}


# --------------------------------------------------------------------------- by hand
def test_annual_up_front_recognises_day_by_day_with_cumulative_rounding() -> None:
    # Through day d of 365: round(4800 cents x d / 365), half away from zero.
    days = dict(journal.daily_schedule(ANNUAL))
    assert len(days) == 365
    assert days[date(2018, 1, 13)] == D("0.13")  # round(13.15) = 13 cents
    assert days[date(2018, 1, 14)] == D("0.13")  # round(26.30) = 26: 26 - 13
    assert days[date(2018, 1, 15)] == D("0.13")  # round(39.45) = 39: 39 - 26
    assert days[date(2018, 1, 16)] == D("0.14")  # round(52.60) = 53: 53 - 39
    assert days[date(2018, 1, 19)] == D("0.13")  # round(92.05) = 92 less round(78.90) = 79
    assert days[date(2019, 1, 12)] == D("0.13")  # 4800 less round(4786.85) = 4787
    assert sum(days.values()) == D("48.00")


def test_annual_up_front_issue_entry_and_monthly_recognition() -> None:
    issued = journal.invoice_entry(ANNUAL)
    assert issued is not None
    # Three days (13-15 January) are served by the invoice date: round(39.45) = 0.39.
    assert [(p.role, p.amount) for p in issued.postings] == [
        (Role.RECEIVABLE, D("48.00")), (Role.DEFERRED_REVENUE, D("-47.61")),
        (Role.REVENUE, D("-0.39"))]
    months = journal.recognition_entries(ANNUAL, date(2019, 12, 31))
    # Recognised through each month's end (days elapsed d): 31 Jan d=19 -> 2.50, 28 Feb
    # d=47 -> 6.18, 31 Mar d=78 -> 10.26, 30 Apr d=108 -> 14.20, 31 May d=139 -> 18.28,
    # 30 Jun d=169 -> 22.22, 31 Jul d=200 -> 26.30, 31 Aug d=231 -> 30.38, 30 Sep d=261 ->
    # 34.32, 31 Oct d=292 -> 38.40, 30 Nov d=322 -> 42.35, 31 Dec d=353 -> 46.42, then 48.00.
    assert [(e.day, e.postings[0].amount) for e in months] == [
        (date(2018, 1, 31), D("2.11")), (date(2018, 2, 28), D("3.68")),
        (date(2018, 3, 31), D("4.08")), (date(2018, 4, 30), D("3.94")),
        (date(2018, 5, 31), D("4.08")), (date(2018, 6, 30), D("3.94")),
        (date(2018, 7, 31), D("4.08")), (date(2018, 8, 31), D("4.08")),
        (date(2018, 9, 30), D("3.94")), (date(2018, 10, 31), D("4.08")),
        (date(2018, 11, 30), D("3.95")), (date(2018, 12, 31), D("4.07")),
        (date(2019, 1, 12), D("1.58"))]
    assert D("0.39") + sum(e.postings[0].amount for e in months) == D("48.00")
    assert all(e.postings[1] == journal.Posting(Role.REVENUE, -e.postings[0].amount)
               for e in months)
    waterfall = journal.waterfall([ANNUAL], date(2018, 1, 1), date(2019, 1, 31))
    (row,) = waterfall.rows
    assert waterfall.months[0] == "2018-01" and waterfall.months[-1] == "2019-01"
    assert row.months[0] == D("2.50") and row.months[-1] == D("1.58")  # 0.39 + 2.11
    assert row.total == D("48.00")


def test_daily_recognition_entries_and_their_ids() -> None:
    # After the invoice (15 January, day 3): day 4 round(52.60) = 53 less 39; day 5
    # round(65.75) = 66 less 53; day 6 round(78.90) = 79 less 66.
    daily = journal.recognition_entries(ANNUAL, date(2018, 1, 18), daily=True)
    assert [(e.entry_id, e.day, e.postings[0].amount) for e in daily] == [
        ("contoso-20180115:1:2018-01-16..2018-01-16", date(2018, 1, 16), D("0.14")),
        ("contoso-20180115:1:2018-01-17..2018-01-17", date(2018, 1, 17), D("0.13")),
        ("contoso-20180115:1:2018-01-18..2018-01-18", date(2018, 1, 18), D("0.13"))]
    (cut,) = journal.recognition_entries(ANNUAL, date(2018, 1, 18))
    assert cut.entry_id == "contoso-20180115:1:2018-01-16..2018-01-18"
    assert cut.postings[0].amount == D("0.40")  # round(78.90) = 79 less 39
    assert journal.recognition_entry(ANNUAL, date(2018, 1, 16), date(2018, 1, 18)) == cut
    assert journal.recognition_entry(ANNUAL, date(2018, 1, 15), date(2018, 1, 18)) is None
    assert journal.recognition_entry(ANNUAL, date(2019, 1, 12), date(2019, 1, 13)) is None


def test_monthly_line_billed_after_it_started() -> None:
    # $4.00 for 13 February to 12 March 2018 (28 days), billed 15 February: through the
    # 15th d=3: round(42.86) = 0.43; 28 February d=16: round(228.57) = 2.29; then 4.00.
    line = replace(ANNUAL, invoice_number="contoso-20180215", issued_on=date(2018, 2, 15),
                   amount=D("4.00"), start=date(2018, 2, 13), end=date(2018, 3, 12))
    issued = journal.invoice_entry(line)
    assert issued is not None and issued.postings[2] == journal.Posting(Role.REVENUE, D("-0.43"))
    assert [(e.day, e.postings[1].amount) for e in
            journal.recognition_entries(line, date(2018, 12, 31))] == [
        (date(2018, 2, 28), D("-1.86")), (date(2018, 3, 12), D("-1.71"))]


def test_a_credit_reverses_the_charge_it_credits() -> None:
    credit = replace(ANNUAL, invoice_number="contoso-20180215", issued_on=date(2018, 2, 15),
                     amount=D("-48.00"))
    issued = journal.invoice_entry(credit)
    assert issued is not None
    # Through 15 February d=34: round(-447.12) = -4.47 recognised; the rest leaves deferred.
    assert [(p.role, p.amount) for p in issued.postings] == [
        (Role.RECEIVABLE, D("-48.00")), (Role.DEFERRED_REVENUE, D("43.53")),
        (Role.REVENUE, D("4.47"))]
    assert journal.daily_schedule(credit) == [(day, -amount) for day, amount
                                             in journal.daily_schedule(ANNUAL)]
    both = journal.trial_balance([ANNUAL, credit], [], date(2018, 2, 15))
    assert all(b.amount == 0 for b in both)


def test_a_payment_debits_cash_and_credits_receivable() -> None:
    entry = journal.payment_entry(PaymentFact("contoso", 5, date(2018, 3, 1), "USD", D("48.00"),
                                              "wire 1"))
    assert entry.entry_id == "contoso:payment:5" and entry.events == (EventRef("contoso", 5),)
    assert [(p.role, p.amount) for p in entry.postings] == [
        (Role.CASH, D("48.00")), (Role.RECEIVABLE, D("-48.00"))]


def test_trial_balance_of_a_mid_term_change_and_a_payment() -> None:
    # Partner Center's "change license quantity": 48.00 billed 15 January; on 15 February
    # its credit -48.00, 2.47 for 13-31 January and 89.96 for 1 February to 12 January 2019
    # (346 days); 48.00 paid on 1 March. Through 31 March: the annual line and its credit
    # d=78 -> +-10.26; 2.47 served; 89.96 d=59 -> round(1534.0003) = 15.34.
    lines = [ANNUAL,
             replace(ANNUAL, invoice_number="contoso-20180215", line_no=1,
                     issued_on=date(2018, 2, 15), amount=D("-48.00")),
             replace(ANNUAL, invoice_number="contoso-20180215", line_no=2,
                     issued_on=date(2018, 2, 15), amount=D("2.47"), end=date(2018, 1, 31)),
             replace(ANNUAL, invoice_number="contoso-20180215", line_no=3,
                     issued_on=date(2018, 2, 15), amount=D("89.96"), start=date(2018, 2, 1))]
    payments = [PaymentFact("contoso", 5, date(2018, 3, 1), "USD", D("48.00"))]
    expected = {("USD", Role.CASH): D("48.00"), ("USD", Role.RECEIVABLE): D("44.43"),
                ("USD", Role.DEFERRED_REVENUE): D("-74.62"), ("USD", Role.REVENUE): D("-17.81")}
    day = date(2018, 3, 31)
    assert as_dict(journal.trial_balance(lines, payments, day)) == expected
    assert balances(journal.journal(lines, payments, day)) == expected
    deferred = journal.deferred_revenue(lines, day)
    assert [(d.line.key, d.amount) for d in deferred] == [
        ("contoso-20180115:1", D("-37.74")), ("contoso-20180215:1", D("37.74")),
        ("contoso-20180215:3", D("-74.62"))]


def test_exports() -> None:
    entries = journal.journal([ANNUAL], [PaymentFact("contoso", 5, date(2018, 3, 1), "USD",
                                                     D("48.00"))], date(2018, 1, 31))
    text = journal.render_csv(entries, journal.JournalAccounts(receivable="Assets:AR")).decode()
    assert text.splitlines() == [
        ",".join(journal.CSV_COLUMNS),
        "contoso-20180115:1,2018-01-15,invoice,contoso,contoso-20180115,1,Assets:AR,receivable,"
        "USD,48.00,2018-01-13,2019-01-12,contoso#3",
        "contoso-20180115:1,2018-01-15,invoice,contoso,contoso-20180115,1,"
        "Liabilities:DeferredRevenue,deferred_revenue,USD,-47.61,2018-01-13,2019-01-12,contoso#3",
        "contoso-20180115:1,2018-01-15,invoice,contoso,contoso-20180115,1,Income:Revenue,revenue,"
        "USD,-0.39,2018-01-13,2019-01-12,contoso#3",
        "contoso-20180115:1:2018-01-16..2018-01-31,2018-01-31,recognition,contoso,contoso-20180115,1,"
        "Liabilities:DeferredRevenue,deferred_revenue,USD,2.11,2018-01-13,2019-01-12,contoso#3",
        "contoso-20180115:1:2018-01-16..2018-01-31,2018-01-31,recognition,contoso,contoso-20180115,1,"
        "Income:Revenue,revenue,USD,-2.11,2018-01-13,2019-01-12,contoso#3",
    ]
    bean = journal.render_beancount(entries)
    assert "2018-01-15 open Assets:Receivable\n" in bean
    assert '2018-01-15 * "contoso" "contoso-20180115 line 1: S1 2018-01-13..2019-01-12"\n' \
           '  entry: "contoso-20180115:1"\n  events: "contoso#3"\n' \
           "  Assets:Receivable  48.00 USD\n" in bean


# --------------------------------------------------------------------------- properties
@settings(max_examples=s.examples(300), deadline=None)
@given(line=s.journal_line_facts())
def test_a_lines_days_add_up_to_its_amount_and_its_deferred_revenue_reaches_zero(
        line: LineFact) -> None:
    days = journal.daily_schedule(line)
    assert sum(amount for _, amount in days) == line.amount
    assert len(days) == line.days
    # Never more than half a minor unit from the exact ratable figure, on any day.
    unit = D(1).scaleb(-currency_places(line.currency))
    half = unit / 2
    for elapsed in (1, line.days // 2, line.days):
        day = line.start + timedelta(days=elapsed - 1)
        assert abs(journal.recognised(line, day) - line.amount * elapsed / line.days) <= half
    end = max(line.end, line.issued_on)
    after = as_dict(journal.trial_balance([line], [], end))
    assert after[(line.currency, Role.DEFERRED_REVENUE)] == 0
    assert after[(line.currency, Role.REVENUE)] == -line.amount
    before = as_dict(journal.trial_balance([line], [], end - timedelta(days=1)))
    if line.issued_on < line.end and abs(line.amount) * 2 >= line.days * unit:
        # Worth at least a minor unit every other day: something is still deferred the day before.
        assert before[(line.currency, Role.DEFERRED_REVENUE)] != 0
    negated = replace(line, amount=-line.amount)
    assert journal.daily_schedule(negated) == [(day, -amount) for day, amount in days]


@settings(max_examples=s.examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=s.books(), offset=st.integers(-100, 1800))
def test_every_entry_balances_and_the_journal_adds_up_to_the_trial_balance_and_the_invoices(
        book: tuple[list[LineFact], list[PaymentFact]], offset: int) -> None:
    lines, payments = book
    day = min(line.start for line in lines) + timedelta(days=offset)
    entries = journal.journal(lines, payments, day)
    for entry in entries:
        assert entry.balance() == 0, entry
        assert entry.postings and all(p.amount != 0 for p in entry.postings)
        assert entry.events
    assert [e.sort_key for e in entries] == sorted(e.sort_key for e in entries)
    assert len({e.entry_id for e in entries}) == len(entries)
    totals = balances(entries)
    daily = journal.journal(lines, payments, day, daily=True)
    assert all(entry.balance() == 0 for entry in daily)
    assert balances(daily) == totals
    assert totals == {key: value for key, value in as_dict(journal.trial_balance(
        lines, payments, day)).items() if value != 0 or key in totals}
    # After every period has ended: revenue is what the invoices charged, nothing is
    # deferred, and receivable is what they charged less what was paid.
    last = max(max(line.end, line.issued_on) for line in lines)
    last = max([last, *(p.paid_on for p in payments)])
    final = balances(journal.journal(lines, payments, last))
    for currency in {line.currency for line in lines} | {p.currency for p in payments}:
        charged = sum((line.amount for line in lines if line.currency == currency), D(0))
        paid = sum((p.amount for p in payments if p.currency == currency), D(0))
        assert final.get((currency, Role.REVENUE), D(0)) == -charged
        assert final.get((currency, Role.DEFERRED_REVENUE), D(0)) == 0
        assert final.get((currency, Role.RECEIVABLE), D(0)) == charged - paid
        assert final.get((currency, Role.CASH), D(0)) == paid
    # The waterfall over all of it books the same revenue, invoice by invoice.
    fall = journal.waterfall(lines, min(line.issued_on for line in lines), last)
    by_invoice: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        by_invoice[(line.invoice_number, line.currency)] += line.amount
    rows = {(row.invoice, row.currency): row.total for row in fall.rows}
    assert rows == {key: value for key, value in by_invoice.items() if value != 0 or key in rows}
