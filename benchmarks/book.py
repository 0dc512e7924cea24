"""A realistic synthetic book of business, reproducible from a seed.

``generate(accounts, years, seed)`` plans N accounts (billing days spread over the month),
1-5 subscriptions each across several offers (both conventions, both billing frequencies),
and a few years of license changes, suspensions, reactivations, cancellations, auto-renew
switches and renewals. ``play(plan, ledger)`` drives it through the application API with a
test clock, in date order. The same seed always gives the same plan, hence the same log.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ledger.errors import LedgerError
from ledger.offers import OfferTerms

CATALOG: tuple[OfferTerms, ...] = (
    OfferTerms.create("e1-annual", name="Office 365 E1", price="96.00", currency="USD",
                      term="P1Y", billing="annual", convention="daily-rate"),
    OfferTerms.create("e3-annual", name="Office 365 E3", price="211.20", currency="USD",
                      term="P1Y", billing="annual", convention="exact"),
    OfferTerms.create("e3-yearly-monthly", name="Office 365 E3 (monthly billing)", price="240.00",
                      currency="USD", term="P1Y", billing="monthly", convention="exact"),
    OfferTerms.create("bp-monthly", name="Microsoft 365 Business Premium", price="22.00",
                      currency="USD", term="P1M", billing="monthly", convention="daily-rate",
                      daily_rate_places=3),
    OfferTerms.create("visio-monthly", name="Visio Plan 2", price="15.00", currency="USD",
                      term="P1M", billing="monthly", convention="exact"),
)


@dataclass(frozen=True, order=True)
class Action:
    day: date
    sequence: int
    account: str = field(compare=False)
    subscription: str = field(compare=False)
    command: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())


@dataclass(frozen=True)
class Plan:
    start: date
    end: date
    accounts: tuple[tuple[str, int], ...]
    actions: tuple[Action, ...]


def generate(accounts: int, years: int = 3, seed: int = 7, start: date = date(2019, 1, 1)) -> Plan:
    """Plan a book of ``accounts`` accounts over ``years`` years."""
    rng = random.Random(seed)
    end = start + timedelta(days=365 * years)
    keys: list[tuple[str, int]] = []
    actions: list[Action] = []
    sequence = 0

    def add(day: date, account: str, sub: str, command: str, *args: Any) -> None:
        nonlocal sequence
        sequence += 1
        actions.append(Action(day, sequence, account, sub, command, args))

    for index in range(accounts):
        account = f"acct-{index:06d}"
        keys.append((account, 1 + index % 31))
        for number in range(rng.randint(1, 5)):
            sub = f"sub-{number + 1}"
            offer = rng.choice(CATALOG)
            day = start + timedelta(days=rng.randrange(0, 300))
            quantity = rng.randint(1, 40)
            add(day, account, sub, "purchase", offer.offer_id, quantity)
            suspended = False
            while True:
                day += timedelta(days=rng.randint(20, 160))
                if day >= end:
                    break
                roll = rng.random()
                if suspended:
                    add(day, account, sub, "reactivate")
                    suspended = False
                elif roll < 0.55:
                    new = max(1, quantity + rng.choice([-5, -2, -1, 1, 2, 3, 8]))
                    if new != quantity:
                        add(day, account, sub, "change_quantity", new)
                        quantity = new
                elif roll < 0.70:
                    add(day, account, sub, "suspend")
                    suspended = True
                elif roll < 0.78:
                    add(day, account, sub, "set_auto_renew", rng.random() < 0.5)
                elif roll < 0.82:
                    add(day, account, sub, "cancel", "assisted")
                    break
    return Plan(start, end, tuple(keys), tuple(sorted(actions)))


def play(plan: Plan, app: Any, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Drive ``plan`` through a ``BillingApplication`` with a ``TestClock`` set at ``plan.start``.
    Returns how many commands were accepted (the domain may refuse some, e.g. a renewal that
    already ended the subscription)."""
    for terms in CATALOG:
        app.define_offer(terms)
    for account, billing_day in plan.accounts:
        app.open_account(account, billing_day=billing_day, effective_date=plan.start)
    accepted = 0
    days = _days(plan)
    for done, (day, todays) in enumerate(days, start=1):
        app.advance_to(day)
        for action in todays:
            try:
                if action.command == "cancel":
                    app.cancel(action.account, action.subscription, channel=action.args[0])
                else:
                    getattr(app, action.command)(action.account, action.subscription, *action.args)
                accepted += 1
            except LedgerError:
                pass
        if progress is not None:
            progress(done, len(days))
    app.advance_to(plan.end)
    return accepted


def _days(plan: Plan) -> list[tuple[date, list[Action]]]:
    grouped: dict[date, list[Action]] = {}
    for action in plan.actions:
        grouped.setdefault(action.day, []).append(action)
    return sorted(grouped.items())

