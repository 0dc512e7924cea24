"""Random action sequences through the application (both conventions, both billing
frequencies, trials, renewals): only documented domain errors, and an account's issued
totals always equal the sum of its posted lines, and an aggregate loaded from its latest
snapshot is the aggregate its events make."""

from __future__ import annotations

import contextlib
import json
from datetime import date, timedelta
from decimal import Decimal
from functools import reduce
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import ids
from ledger.account import BillingAccount
from ledger.application import BillingApplication
from ledger.clock import TestClock
from ledger.errors import LedgerError
from ledger.offers import OfferTerms
from ledger.subscription import Subscription
from tests import strategies as s

START = date(2019, 1, 1)


def terms(index: int, spec: s.OfferSpec) -> OfferTerms:
    return OfferTerms.create(f"offer-{index}", price=spec.price, currency="USD", term=spec.term,
                             billing=spec.billing, convention=spec.convention,
                             daily_rate_places=spec.places, refund_window_days=spec.window)


def play(ledger: BillingApplication, subs: list[s.SubscriptionSpec]) -> None:
    timeline: list[tuple[date, int, str, s.Act | None]] = []
    for number, spec in enumerate(subs):
        day = START + timedelta(days=spec.start_offset)
        timeline.append((day, number, "purchase", None))
        for act in spec.acts:
            day += timedelta(days=act.gap)
            timeline.append((day, number, act.kind, act))
    timeline.sort(key=lambda item: (item[0], item[1]))
    for day, number, kind, act in timeline:
        ledger.advance_to(day)
        spec, key = subs[number], f"S{number}"
        try:
            if kind == "purchase":
                ledger.purchase("acme", key, f"offer-{spec.offer}", spec.quantity,
                                trial=spec.trial, trial_days=spec.trial_days)
            elif kind == "change":
                assert act is not None
                ledger.change_quantity("acme", key, act.quantity)
            elif kind in ("suspend", "reactivate", "add_payment_method"):
                getattr(ledger, kind)("acme", key)
            elif kind == "cancel":
                ledger.cancel("acme", key)
            elif kind == "cancel_assisted":
                ledger.cancel("acme", key, channel="assisted")
            elif kind == "pay":
                assert act is not None
                ledger.record_payment("acme", Decimal(act.quantity) * Decimal("7.31"))
            else:
                ledger.set_auto_renew("acme", key, kind == "auto_renew_on")
        except LedgerError:
            pass  # documented refusals: anything else fails the test


def played(offers: list[s.OfferSpec], billing_day: int,
           subs: list[s.SubscriptionSpec]) -> BillingApplication:
    """An in-memory ledger after the random history and 800 days of billing."""
    ledger = BillingApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=TestClock(START))
    for index, spec in enumerate(offers):
        ledger.define_offer(terms(index, spec))
    ledger.open_account("acme", billing_day=billing_day)
    play(ledger, subs)
    ledger.advance_to(START + timedelta(days=800))
    return ledger


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offers=st.lists(s.offer_specs, min_size=3, max_size=3), billing_day=s.billing_days,
       subs=st.lists(s.subscription_specs, min_size=1, max_size=3))
def test_issued_totals_equal_posted_lines(offers: list[s.OfferSpec], billing_day: int,
                                          subs: list[s.SubscriptionSpec]) -> None:
    ledger = played(offers, billing_day, subs)

    posted = Decimal(0)
    for number in range(len(subs)):
        lines = [line for ev in ledger.events.get(ids.subscription_id("acme", f"S{number}"))
                 if isinstance(ev, Subscription.ChargesPosted) for line in ev.lines]
        by_id = {line.line_id: line for line in lines}
        for line in lines:
            assert line.quantity > 0 and line.start <= line.end
            assert line.term_start <= line.start and line.end <= line.term_end
            if line.reverses is not None:
                assert by_id[line.reverses].amount == -line.amount
        posted += sum((line.amount for line in lines), Decimal(0))

    issued = Decimal(0)
    due = Decimal(0)
    paid = Decimal(0)
    for ev in ledger.events.get(ids.account_id("acme")):
        if not isinstance(ev, BillingAccount.InvoiceIssued):
            continue
        # Every issued document adds up in the amounts it shows.
        document = json.loads(ev.document)
        shown = {key: Decimal(document[key]) for key in (
            "charges", "credits", "total", "balance_brought_forward", "payments_received",
            "amount_due")}
        amounts = []
        for group in document["subscriptions"]:
            group_lines = [Decimal(line["amount"]) for line in group["lines"]]
            assert Decimal(group["subtotal"]) == sum(group_lines, Decimal(0))
            amounts.extend(group_lines)
        assert shown["total"] == sum(amounts, Decimal(0)) == shown["charges"] + shown["credits"]
        assert shown["charges"] == sum((a for a in amounts if a >= 0), Decimal(0))
        assert shown["balance_brought_forward"] == due
        assert shown["amount_due"] == (shown["balance_brought_forward"] - shown["payments_received"]
                                       + shown["total"])
        assert ev.amount_due == shown["amount_due"]
        due = shown["amount_due"]
        issued += shown["total"]
        paid += shown["payments_received"]
    assert issued == posted
    assert due == issued - paid  # the balance is everything invoiced less what was paid


def state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def assert_snapshots_hold_the_replayed_state(ledger: BillingApplication, aggregate_id: UUID) -> int:
    """The latest snapshot plus the events after it equals replaying every event."""
    assert ledger.snapshots is not None
    events = list(ledger.events.get(aggregate_id))
    replayed = reduce(lambda aggregate, ev: ev.mutate(aggregate), events, None)
    snapshots = list(ledger.snapshots.get(aggregate_id, desc=True, limit=1))
    if not snapshots:
        assert len(events) < ledger.snapshotting_intervals[type(replayed)]
        return 0
    loaded = snapshots[0].mutate(None)
    for ev in events[snapshots[0].originator_version:]:
        loaded = ev.mutate(loaded)
    assert state(loaded) == state(replayed)
    return 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offers=st.lists(s.offer_specs, min_size=3, max_size=3), billing_day=s.billing_days,
       subs=st.lists(s.subscription_specs, min_size=1, max_size=3))
def test_snapshots_hold_what_the_events_make(offers: list[s.OfferSpec], billing_day: int,
                                             subs: list[s.SubscriptionSpec]) -> None:
    ledger = played(offers, billing_day, subs)
    checked = assert_snapshots_hold_the_replayed_state(ledger, ids.account_id("acme"))
    assert checked == 1  # 800 days of monthly invoices: well past one snapshot interval
    for number in range(len(subs)):
        assert_snapshots_hold_the_replayed_state(ledger, ids.subscription_id("acme", f"S{number}"))


def lived(life: s.Lifetime, billing_day: int) -> Decimal:
    """What one subscription's life bills through the application (its scheduler, renewals,
    billing runs), played on an in-memory store with ``billing_day``."""
    spec = life.offer
    ledger = BillingApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=TestClock(life.start))
    ledger.define_offer(terms(0, spec))
    ledger.open_account("acme", billing_day=billing_day)
    ledger.purchase("acme", "S", "offer-0", life.quantity, trial=life.trial,
                    trial_days=life.trial_days)
    day = life.start
    for act in life.acts:
        day += timedelta(days=act.gap)
        ledger.advance_to(day)
        try:
            if act.kind == "change":
                ledger.change_quantity("acme", "S", act.quantity)
            elif act.kind in ("auto_renew_on", "auto_renew_off"):
                ledger.set_auto_renew("acme", "S", act.kind == "auto_renew_on")
            elif act.kind == "cancel":
                ledger.cancel("acme", "S")
            else:
                getattr(ledger, act.kind)("acme", "S")
        except LedgerError:
            pass
    final = max(day, life.start + timedelta(days=life.trial_days + 1 if life.trial else 0))
    final += timedelta(days=life.end_gap)
    ledger.advance_to(final)
    with contextlib.suppress(LedgerError):
        ledger.cancel("acme", "S", channel="assisted")
    ledger.advance_to(final + timedelta(days=63))
    return sum((line.amount for ev in ledger.events.get(ids.subscription_id("acme", "S"))
                if isinstance(ev, Subscription.ChargesPosted) for line in ev.lines), Decimal(0))


@settings(max_examples=s.examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(life=s.lifetimes, days=st.lists(st.integers(1, 28), min_size=2, max_size=2, unique=True))
def test_a_subscription_bills_the_same_whatever_the_billing_day(life: s.Lifetime,
                                                                days: list[int]) -> None:
    """Through the application too: the billing day decides when lines are invoiced, never
    how much a subscription's life costs."""
    totals = [lived(life, day) for day in days]
    assert totals[0] == totals[1], dict(zip(days, totals, strict=True))
