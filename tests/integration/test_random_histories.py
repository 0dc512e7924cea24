"""Random action sequences through the application (both conventions, both billing
frequencies, trials, renewals): only documented domain errors, and an account's issued
totals always equal the sum of its posted lines, and an aggregate loaded from its latest
snapshot is the aggregate its events make."""

from __future__ import annotations

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
from ledger.application import BillingLedger
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


def play(ledger: BillingLedger, subs: list[s.SubscriptionSpec]) -> None:
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
            else:
                ledger.set_auto_renew("acme", key, kind == "auto_renew_on")
        except LedgerError:
            pass  # documented refusals: anything else fails the test


def played(offers: list[s.OfferSpec], billing_day: int,
           subs: list[s.SubscriptionSpec]) -> BillingLedger:
    """An in-memory ledger after the random history and 800 days of billing."""
    ledger = BillingLedger({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=TestClock(START))
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
    for ev in ledger.events.get(ids.account_id("acme")):
        if isinstance(ev, BillingAccount.InvoiceIssued):
            document = json.loads(ev.document)
            lines = [Decimal(line["amount"]) for group in document["subscriptions"]
                     for line in group["lines"]]
            assert Decimal(document["total"]) == sum(lines, Decimal(0))
            assert Decimal(document["balance_brought_forward"]) == due
            due = Decimal(document["amount_due"])
            assert due == Decimal(document["balance_brought_forward"]) + Decimal(document["total"])
            issued += Decimal(document["total"])
    assert issued == posted
    assert due == issued  # nothing was paid: the balance is everything ever invoiced


def state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def assert_snapshots_hold_the_replayed_state(ledger: BillingLedger, aggregate_id: UUID) -> int:
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
