"""Hypothesis strategies, all in one place, and how many examples a property runs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

#: Properties run ``examples(n)`` examples: n by default, 4n under CI=true, and n times
#: ``BILLING_LEDGER_EXAMPLES`` when that is set (a long local search for counterexamples).
_SCALE = int(os.environ.get("BILLING_LEDGER_EXAMPLES") or
             (4 if os.environ.get("CI", "").lower() in {"1", "true", "yes"} else 1))


def examples(n: int) -> int:
    return n * _SCALE


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


@dataclass(frozen=True)
class OfferSpec:
    billing: str
    term: str
    convention: str
    price: Decimal
    places: int
    window: int


offer_specs = st.builds(
    OfferSpec,
    billing=frequencies,
    term=st.sampled_from(["P1Y", "P1M"]),
    convention=conventions,
    price=prices,
    places=st.sampled_from([2, 3]),
    window=refund_windows,
).map(lambda spec: spec if spec.billing == "monthly" else OfferSpec(
    spec.billing, "P1Y", spec.convention, spec.price, spec.places, spec.window))

ACTIONS = ["change", "change", "change", "change", "suspend", "reactivate", "reactivate",
           "cancel", "cancel_assisted", "add_payment_method", "auto_renew_off", "auto_renew_on",
           "pay"]


@dataclass(frozen=True)
class Act:
    gap: int
    kind: str
    quantity: int
    back: int = 0  # days the act is backdated (its effective date before the day it is made)


acts = st.builds(Act, gap=st.integers(0, 70), kind=st.sampled_from(ACTIONS), quantity=quantities)


@dataclass(frozen=True)
class SubscriptionSpec:
    offer: int
    start_offset: int
    quantity: int
    trial: bool
    trial_days: int
    acts: list[Act]


subscription_specs = st.builds(
    SubscriptionSpec,
    offer=st.integers(0, 2),
    start_offset=st.integers(0, 60),
    quantity=st.integers(1, 40),
    trial=st.sampled_from([False, False, False, True]),
    trial_days=st.integers(1, 40),
    acts=st.lists(acts, max_size=8),
)


@dataclass(frozen=True)
class Lifetime:
    """One subscription's whole life: bought (or a trial started), acted on, and finally
    cancelled through the assisted channel ``end_gap`` days after its last act (and after
    its trial), so that everything it will ever be billed is billed within two months."""

    offer: OfferSpec
    start: date
    quantity: int
    trial: bool
    trial_days: int
    acts: list[Act]
    end_gap: int


#: Acts of a life that ends with its own cancellation: mostly license changes, rarely an
#: early cancellation (which would make every later act a refusal).
life_acts = st.builds(Act, gap=st.integers(0, 90), kind=st.sampled_from(
    ["change"] * 5 + ["suspend", "reactivate", "reactivate", "add_payment_method",
                      "auto_renew_off", "auto_renew_on", "cancel"]), quantity=quantities,
    back=st.sampled_from([0, 0, 0, 0, 1, 5, 20, 45]))

lifetimes = st.builds(
    Lifetime,
    offer=offer_specs,
    start=st.dates(min_value=date(2016, 1, 1), max_value=date(2028, 12, 31)),
    quantity=st.integers(1, 40),
    trial=st.sampled_from([False, False, False, True]),
    trial_days=st.integers(1, 40),
    acts=st.lists(life_acts, max_size=10),
    end_gap=st.integers(0, 400),
)
