"""Properties of the rating model, over random histories (pure domain, no store)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.charges import ChargeLine
from ledger.dates import billing_dates, term_period
from ledger.errors import LedgerError
from tests import strategies as s
from tests.support import Driver, offer


def entitled_quantities(start: date, term_end: date, window: int, events: list[tuple[date, str, int]],
                        quantity: int) -> dict[date, int]:
    """The licenses owed per day, straight from the rules: the quantity while active; nothing
    while suspended; nothing for the term's earlier days once a suspension falls inside the
    refund window."""
    owed: dict[date, int] = {}
    active, q = True, quantity
    changes = {day: [] for day, _, _ in events}
    for day, kind, new_q in events:
        changes[day].append((kind, new_q))
    day = start
    while day <= term_end:
        for kind, new_q in changes.get(day, []):
            if kind == "change":
                q = new_q
            elif kind == "suspend":
                active = False
                if (day - start).days < window:
                    for earlier in owed:
                        owed[earlier] = 0
            elif kind == "reactivate":
                active = True
        owed[day] = q if active else 0
        day += timedelta(days=1)
    return owed


def billed_quantities(lines: list[ChargeLine], start: date, end: date) -> dict[date, int]:
    reversed_ids = {line.reverses for line in lines if line.reverses}
    open_lines = [line for line in lines if line.reverses is None and line.line_id not in reversed_ids]
    billed = {}
    day = start
    while day <= end:
        billed[day] = sum(line.net_quantity for line in open_lines if line.covers(day))
        day += timedelta(days=1)
    return billed


def play(driver: Driver, start: date, billing_day: int, plan: list[tuple[date, s.Step]],
         through: date) -> list[tuple[date, str, int]]:
    """Apply the plan's valid steps in order, cutting every billing date on the way."""
    applied: list[tuple[date, str, int]] = []
    last_billed = start - timedelta(days=1)
    for day, step in plan:
        for cut in billing_dates(last_billed, day - timedelta(days=1), billing_day):
            driver.bill(cut)
        last_billed = max(last_billed, day - timedelta(days=1))
        sub = driver.sub
        try:
            if step.kind == "change":
                driver.do("change_quantity", day, step.quantity)
            elif step.kind == "suspend":
                driver.do("suspend", day)
            elif step.kind == "reactivate":
                driver.do("reactivate", day)
            else:
                driver.do("cancel", day, channel="assisted")
        except LedgerError:
            continue  # the domain refused it (e.g. reactivating an active subscription)
        applied.append((day, step.kind, step.quantity if step.kind == "change" else sub.quantity))
    for cut in billing_dates(last_billed, through, billing_day):
        driver.bill(cut)
    return applied


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    price=s.prices, quantity=s.quantities, start=s.start_dates, billing_day=s.billing_days,
    window=s.refund_windows, plan=st.lists(s.in_term_steps, max_size=12),
)
def test_exact_bills_the_license_days_entitled_within_a_cent_per_segment(
    price: Decimal, quantity: int, start: date, billing_day: int, window: int, plan: list[s.Step]
) -> None:
    term = term_period(start, "P1Y", 0)
    driver = Driver(offer(str(price), "exact", refund_window_days=window), start, quantity,
                    auto_renew=False)
    steps = s.dated(start, plan, term.end)
    applied = play(driver, start, billing_day, steps, term.end + timedelta(days=62))
    lines = driver.all_lines

    # Every day of the term is billed at exactly the licenses owed: nothing over- or
    # under-credited, however many changes fell inside one period.
    owed = entitled_quantities(start, term.end, window, applied, quantity)
    assert billed_quantities(lines, term.start, term.end) == owed

    # And the money is the value of those license-days, within a cent per posted segment.
    value = sum(owed.values()) * price / term.days
    assert abs(driver.total() - value) <= Decimal("0.01") * len(lines)

    # Corrections are exact negations of earlier lines, each reversed at most once.
    by_id = {line.line_id: line for line in lines}
    reversals = [line for line in lines if line.reverses]
    assert not [k for k, n in Counter(line.reverses for line in reversals).items() if n > 1]
    for reversal in reversals:
        original = by_id[reversal.reverses]
        assert reversal.amount == -original.amount and reversal.quantity == original.quantity
        assert (reversal.start, reversal.end) == (original.start, original.end)


@settings(max_examples=150, deadline=None)
@given(price=s.prices, start=s.start_dates, billing_day=s.billing_days,
       first=s.quantities, second=s.quantities, third=s.quantities,
       gaps=st.tuples(st.integers(0, 12), st.integers(0, 12)))
def test_consecutive_changes_inside_one_period_net_to_the_last_quantity(
    price: Decimal, start: date, billing_day: int, first: int, second: int, third: int,
    gaps: tuple[int, int],
) -> None:
    driver = Driver(offer(str(price), "exact"), start, first)
    one = start + timedelta(days=1 + gaps[0])
    two = one + timedelta(days=gaps[1])
    last_change = start
    for day, q in ((one, second), (two, third)):
        try:
            driver.do("change_quantity", day, q)
        except LedgerError:
            continue  # same quantity as before: nothing to change
        last_change = day
    driver.bill_through(start - timedelta(days=1), start + timedelta(days=75), billing_day)
    q_now = driver.sub.quantity
    term = term_period(start, "P1Y", 0)
    # From the last change to the end of the term the customer holds q_now licenses, billed once.
    billed = billed_quantities(driver.all_lines, last_change, term.end)
    assert set(billed.values()) == {q_now}
