"""What a subscription is billed over its life does not depend on the account's billing day:
the billing day only decides which invoice a line lands on, never its amount (pure domain)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import strategies as s
from tests.support import live


@settings(max_examples=s.examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(life=s.lifetimes, days=st.lists(st.integers(1, 28), min_size=2, max_size=4, unique=True))
def test_a_subscription_bills_the_same_over_its_life_whatever_the_billing_day(
    life: s.Lifetime, days: list[int]
) -> None:
    totals = {day: live(life, day).total() for day in days}
    assert len(set(totals.values())) == 1, totals


@settings(max_examples=s.examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(life=s.lifetimes, days=st.lists(st.integers(1, 28), min_size=2, max_size=3, unique=True))
def test_the_same_lines_whatever_the_billing_day(life: s.Lifetime, days: list[int]) -> None:
    """Stronger, for lives whose acts take effect the day they are made: the lines
    themselves (period, charge type, unit price, quantity, amount) are the same; only their
    ids and the invoices they land on differ. (A backdated act recorded after a billing date
    was cut is posted as a correction on the next one: the same money, other lines.)"""
    life = dataclasses.replace(life, acts=[dataclasses.replace(act, back=0) for act in life.acts])
    shapes = {}
    for day in days:
        lines = live(life, day).all_lines
        shapes[day] = Counter((line.start, line.end, line.charge_type, line.unit_price,
                               line.quantity, line.amount) for line in lines)
    first = shapes[days[0]]
    for day in days[1:]:
        assert shapes[day] == first, (days[0], day, first - shapes[day], shapes[day] - first)


def test_the_audit_case_bills_6_80_on_billing_day_13_and_on_15() -> None:
    """The case that showed the defect: renewal and cancellation on one billing date."""
    life = s.Lifetime(
        offer=s.OfferSpec("annual", "P1Y", "daily-rate", Decimal("48.00"), 2, 30),
        start=date(2018, 1, 13), quantity=10, trial=False, trial_days=1,
        acts=[s.Act(366, "cancel", 1)], end_gap=0,
    )
    for day in (13, 15):
        assert live(life, day).total() == Decimal("480.00") + Decimal("6.80")


@settings(max_examples=s.examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(life=s.lifetimes, day=st.integers(1, 28))
def test_a_credit_is_never_labelled_as_a_fee(life: s.Lifetime, day: int) -> None:
    fees = {"Prorate fees when purchase", "Prorate fee when renew", "Cycle fee"}
    for line in live(life, day).all_lines:
        assert line.amount * line.sign >= 0, line
        if line.sign < 0:
            assert line.charge_type in {"Cancel Fee", "Cycle Instance Prorate"}, line
        else:
            assert line.charge_type in fees | {"Cycle Instance Prorate"}, line
