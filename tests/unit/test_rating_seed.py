"""The worked examples of Partner Center's "Annual billing scenarios" article, through the
pure domain: subscription events in memory, rated by ``ledger.rating``, no store."""

from __future__ import annotations

from datetime import date

from tests.support import Driver, offer, rows

PURCHASE = "Prorate fees when purchase"
PRORATE = "Cycle Instance Prorate"
CANCEL = "Cancel Fee"


def test_new_annual_subscription() -> None:
    d = Driver(offer("48.00"), date(2018, 1, 13))
    assert rows(d.bill(date(2018, 1, 15))) == [
        ("2018-01-13", "2019-01-12", PURCHASE, "48.00", 1, "48.00"),
    ]


def test_add_license_after_anniversary_before_billing_date_exact() -> None:
    d = Driver(offer("211.20", "exact"), date(2017, 2, 11))
    d.do("change_quantity", date(2017, 2, 12), 2)
    # The license added on 2/12 is rated at the 3/11 anniversary, so 2/14 shows only the purchase.
    assert rows(d.bill(date(2017, 2, 14))) == [
        ("2017-02-11", "2018-02-10", PURCHASE, "211.20", 1, "211.20"),
    ]
    assert rows(d.bill(date(2017, 3, 14))) == [
        ("2017-02-11", "2018-02-10", PRORATE, "-211.20", 1, "-211.20"),
        ("2017-02-11", "2017-02-11", PRORATE, "0.58", 1, "0.58"),
        ("2017-02-12", "2017-03-10", PRORATE, "15.62", 2, "31.25"),
        ("2017-03-11", "2018-02-10", PRORATE, "195.00", 2, "390.00"),
    ]


def test_change_license_quantity_daily_rate() -> None:
    d = Driver(offer("48.00"), date(2018, 1, 13))
    d.bill(date(2018, 1, 15))
    d.do("change_quantity", date(2018, 2, 1), 2)
    assert rows(d.bill(date(2018, 2, 15))) == [
        ("2018-01-13", "2019-01-12", PRORATE, "-48.00", 1, "-48.00"),
        ("2018-01-13", "2018-01-31", PRORATE, "2.47", 1, "2.47"),
        ("2018-02-01", "2019-01-12", PRORATE, "44.98", 2, "89.96"),
    ]


def test_suspend_before_30_days_credits_the_term() -> None:
    d = Driver(offer("48.00", refund_window_days=30), date(2018, 1, 13))
    d.bill(date(2018, 1, 15))
    d.do("suspend", date(2018, 2, 1))
    assert rows(d.bill(date(2018, 2, 15))) == [
        ("2018-01-13", "2019-01-12", CANCEL, "-48.00", 1, "-48.00"),
    ]


def test_suspend_after_30_days_credits_the_unused_days() -> None:
    d = Driver(offer("48.00", refund_window_days=30), date(2018, 1, 13))
    d.bill(date(2018, 1, 15))
    assert d.bill(date(2018, 2, 15)) == ()
    d.do("suspend", date(2018, 3, 1))
    assert rows(d.bill(date(2018, 3, 15))) == [
        ("2018-03-01", "2019-01-12", CANCEL, "-41.34", 1, "-41.34"),
    ]


def test_suspend_and_reactivate() -> None:
    d = Driver(offer("48.00", refund_window_days=30), date(2018, 1, 13))
    d.bill(date(2018, 1, 15))
    d.do("suspend", date(2018, 2, 1))
    assert rows(d.bill(date(2018, 2, 15))) == [
        ("2018-01-13", "2019-01-12", CANCEL, "-48.00", 1, "-48.00"),
    ]
    d.do("reactivate", date(2018, 3, 1))
    assert rows(d.bill(date(2018, 3, 15))) == [
        ("2018-03-01", "2019-01-12", PURCHASE, "41.34", 1, "41.34"),
    ]


def test_each_line_shows_its_arithmetic() -> None:
    d = Driver(offer("48.00"), date(2018, 1, 13))
    d.bill(date(2018, 1, 15))
    d.do("change_quantity", date(2018, 2, 1), 2)
    bases = [line.basis for line in d.bill(date(2018, 2, 15))]
    assert bases[1].startswith("19 days x 0.13 x 1 = 2.47")
    assert bases[2].startswith("346 days x 0.13 x 2 = 89.96")
    e = Driver(offer("211.20", "exact"), date(2017, 2, 11))
    e.do("change_quantity", date(2017, 2, 12), 2)
    e.bill(date(2017, 2, 14))
    assert e.bill(date(2017, 3, 14))[2].basis == "211.20 x 27 / 365 x 2 = 31.25"
