from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.dates import (
    Period,
    billing_dates,
    days_inclusive,
    monthly_period,
    next_anniversary,
    next_billing_date,
    term_period,
)
from ledger.money import Rounding, format_money, parse_decimal, quantize, round_money


def test_periods_count_both_ends() -> None:
    assert days_inclusive(date(2018, 1, 13), date(2018, 1, 31)) == 19
    assert Period(date(2018, 2, 1), date(2019, 1, 12)).days == 346


def test_terms_and_months_from_an_anchor_on_the_31st_do_not_drift() -> None:
    anchor = date(2019, 1, 31)
    assert term_period(anchor, "P1Y", 0) == Period(date(2019, 1, 31), date(2020, 1, 30))
    assert monthly_period(anchor, date(2019, 2, 28)) == Period(date(2019, 2, 28), date(2019, 3, 30))
    assert monthly_period(anchor, date(2019, 3, 31)) == Period(date(2019, 3, 31), date(2019, 4, 29))
    assert term_period(anchor, "P1M", 1) == Period(date(2019, 2, 28), date(2019, 3, 30))


@pytest.mark.parametrize(
    ("anchor", "day", "expected"),
    [
        (date(2017, 2, 11), date(2017, 2, 12), date(2017, 3, 11)),
        (date(2018, 1, 13), date(2018, 2, 1), date(2018, 2, 13)),
        (date(2018, 1, 13), date(2018, 2, 13), date(2018, 2, 13)),
        (date(2018, 1, 31), date(2018, 2, 20), date(2018, 2, 28)),
        (date(2018, 1, 13), date(2018, 1, 13), date(2018, 1, 13)),
    ],
)
def test_next_anniversary(anchor: date, day: date, expected: date) -> None:
    assert next_anniversary(anchor, day) == expected


def test_billing_day_clamps_to_the_end_of_short_months() -> None:
    assert next_billing_date(date(2018, 2, 1), 31) == date(2018, 2, 28)
    assert next_billing_date(date(2018, 3, 1), 31) == date(2018, 3, 31)
    assert next_billing_date(date(2018, 1, 15), 15) == date(2018, 1, 15)
    assert next_billing_date(date(2018, 1, 16), 15) == date(2018, 2, 15)
    assert billing_dates(date(2018, 1, 15), date(2018, 4, 30), 30) == [
        date(2018, 1, 30), date(2018, 2, 28), date(2018, 3, 30), date(2018, 4, 30)]


def test_money_is_decimal_with_explicit_rounding() -> None:
    assert round_money(Decimal("31.246"), "USD") == Decimal("31.25")
    assert round_money(Decimal("2.5"), "JPY") == Decimal("3")
    assert quantize(Decimal("0.125"), 2, Rounding.HALF_EVEN) == Decimal("0.12")
    assert quantize(Decimal("0.125"), 2, Rounding.HALF_UP) == Decimal("0.13")
    assert format_money(Decimal("-48"), "USD") == "-48.00"
    assert format_money(Decimal("-0.001"), "USD") == "0.00"


def test_floats_are_refused_as_money() -> None:
    with pytest.raises(ValueError, match="decimal string"):
        parse_decimal(48.0, "price")
    assert parse_decimal("48.00", "price") == Decimal("48.00")
    with pytest.raises(ValueError, match="not a decimal"):
        parse_decimal("forty", "price")
