"""Hypothesis strategies, all in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

prices = st.integers(min_value=1, max_value=2_000_000).map(lambda cents: Decimal(cents) / 100)
quantities = st.integers(min_value=1, max_value=60)
billing_days = st.integers(min_value=1, max_value=31)
refund_windows = st.sampled_from([0, 7, 30, 45])
start_dates = st.dates(min_value=date(2016, 1, 1), max_value=date(2031, 12, 31))
conventions = st.sampled_from(["daily-rate", "exact"])
frequencies = st.sampled_from(["annual", "monthly"])


@dataclass(frozen=True)
class Step:
    """One action, ``gap`` days after the previous one."""

    gap: int
    kind: str
    quantity: int


steps = st.builds(
    Step,
    gap=st.integers(min_value=0, max_value=45),
    kind=st.sampled_from(["change", "change", "suspend", "reactivate", "cancel"]),
    quantity=quantities,
)

in_term_steps = st.builds(
    Step,
    gap=st.integers(min_value=0, max_value=40),
    kind=st.sampled_from(["change", "change", "change", "suspend", "reactivate"]),
    quantity=quantities,
)


def dated(start: date, plan: list[Step], last: date) -> list[tuple[date, Step]]:
    """The plan's steps on their dates, dropping those after ``last``."""
    day, result = start, []
    for step in plan:
        day = day + timedelta(days=step.gap)
        if day > last:
            break
        result.append((day, step))
    return result
