"""The test clock: everything due on the way happens in order, exactly once, however the
advance is split."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_ledger import scenario as scenarios
from ledger import ids
from ledger.application import BillingApplication
from ledger.clock import start_of
from ledger.invoicing import Invoice
from projections import reconciliation
from tests.conftest import NewStore, temporary_store
from tests.support import SCENARIOS, write_ledger

TEXT = """
format: 1
account: {id: acme, billing_day: 31}
offers:
  yearly: {price: "211.20", currency: USD, term: P1Y, billing: annual, convention: exact}
  daily: {price: "48.00", currency: USD, term: P1Y, billing: annual, convention: daily-rate}
actions:
  - {date: 2017-01-31, action: purchase, subscription: A, offer: yearly, quantity: 3}
  - {date: 2017-02-12, action: purchase, subscription: B, offer: daily, quantity: 1}
  - {date: 2017-03-01, action: change_quantity, subscription: A, quantity: 5}
  - {date: 2017-03-30, action: suspend, subscription: B}
  - {date: 2017-05-02, action: reactivate, subscription: B}
  - {date: 2017-07-31, action: change_quantity, subscription: B, quantity: 4}
  - {date: 2017-12-20, action: set_auto_renew, subscription: B, enabled: false}
until: 2018-04-30
"""


def files_after(ledger: BillingApplication, scenario: scenarios.Scenario,
                advance: Callable[[BillingApplication, date], None]) -> dict[str, object]:
    try:
        for terms in scenario.offers.values():
            ledger.define_offer(terms)
        ledger.open_account(scenario.account, billing_day=scenario.billing_day)
        for action in scenario.actions:
            advance(ledger, action.day)
            if action.action == "purchase":
                ledger.purchase(scenario.account, action.subscription, action.fields["offer"],
                                action.fields["quantity"])
            elif action.action == "change_quantity":
                ledger.change_quantity(scenario.account, action.subscription,
                                       action.fields["quantity"])
            elif action.action == "set_auto_renew":
                ledger.set_auto_renew(scenario.account, action.subscription,
                                      action.fields["enabled"])
            else:
                getattr(ledger, action.action)(scenario.account, action.subscription)
        advance(ledger, scenario.until + timedelta(days=1))
        out: dict[str, object] = {
            reconciliation.file_name(issued.billing_date): reconciliation.render(
                Invoice.parse(issued.document))
            for issued in ledger.issued_invoices(scenario.account)
        }
        # When each fact was recorded, not only what: the same however the advance is split.
        for key in sorted({action.subscription for action in scenario.actions}):
            out[f"recorded/{key}"] = [(type(ev).__qualname__, ev.timestamp)
                                      for ev in ledger.history(scenario.account, key)]
        out["recorded/invoices"] = [ev.timestamp for ev in ledger.issued_invoices(scenario.account)]
        return out
    finally:
        ledger.close()


def day_by_day(ledger: BillingApplication, target: date) -> None:
    day = ledger.clock.now().date()
    while day < target:
        day += timedelta(days=1)
        ledger.advance_to(day)


def in_one_jump(ledger: BillingApplication, target: date) -> None:
    ledger.advance_to(target)


def test_day_by_day_and_one_jump_write_identical_files(new_store: NewStore) -> None:
    scenario = scenarios.parse(TEXT)
    start = scenario.start
    stepped = files_after(write_ledger(new_store("a"), start), scenario, day_by_day)
    jumped = files_after(write_ledger(new_store("b"), start), scenario, in_one_jump)
    assert stepped == jumped
    assert len(stepped) >= 6  # purchases, changes, suspension, reactivation, a renewal


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(splits=st.lists(st.integers(min_value=1, max_value=90), min_size=1, max_size=12))
def test_any_split_of_the_advance_gives_the_same_files(backend: str, tmp_path: Path,
                                                       splits: list[int]) -> None:
    scenario = scenarios.load(SCENARIOS / "seed" / "06-suspend-and-reactivate.yaml")
    with temporary_store(backend, tmp_path) as reference_store:
        reference = files_after(write_ledger(reference_store, scenario.start), scenario, in_one_jump)

    def in_pieces(ledger: BillingApplication, target: date) -> None:
        day = ledger.clock.now().date()
        for step in splits:
            if day + timedelta(days=step) >= target:
                break
            day += timedelta(days=step)
            ledger.advance_to(day)
        ledger.advance_to(target)

    with temporary_store(backend, tmp_path) as pieces_store:
        pieces = files_after(write_ledger(pieces_store, scenario.start), scenario, in_pieces)
    assert pieces == reference


def test_what_falls_due_is_recorded_the_next_morning_however_far_the_jump(
        new_store: NewStore) -> None:
    scenario = scenarios.parse(TEXT)
    ledger = write_ledger(new_store("m"), scenario.start)
    try:
        for terms in scenario.offers.values():
            ledger.define_offer(terms)
        ledger.open_account(scenario.account, billing_day=scenario.billing_day)
        ledger.purchase(scenario.account, "A", "yearly", 3)
        ledger.advance_to(date(2018, 3, 10))  # over a year: twelve cuts and a renewal
        cuts = [ev for ev in ledger.events.get(ids.account_id(scenario.account))
                if hasattr(ev, "billing_date")]  # invoices issued and dates closed
        assert [ev.billing_date.month for ev in cuts] == [*range(1, 13), 1, 2]
        for ev in cuts:
            assert ev.timestamp == start_of(ev.billing_date + timedelta(days=1))
        renewed = [ev for ev in ledger.history(scenario.account, "A")
                   if type(ev).__name__ == "Renewed"]
        assert [ev.timestamp for ev in renewed] == [start_of(date(2018, 2, 1))]
        assert ledger.clock.now() == start_of(date(2018, 3, 10))
    finally:
        ledger.close()
