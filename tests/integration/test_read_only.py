"""A read-only ledger (what the command line's reads use) creates and writes nothing, and
still answers exactly; a billing run that stops at one account says what it issued."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from billing_ledger.api import Ledger
from ledger import errors
from ledger.application import BillingApplication
from ledger.clock import TestClock
from tests.conftest import NewStore
from tests.support import seed_ledger, table_state


def answers(ledger: Ledger) -> object:
    rows = ledger.invoices()
    return (ledger.accounts(), rows, ledger.subscriptions("acme"),
            [ledger.reconciliation(row["account"], date.fromisoformat(row["billing_date"]))
             for row in rows],
            [check.ok for check in ledger.verify().checks], ledger.verify().ok, ledger.feed())


def test_a_read_only_ledger_answers_like_a_writable_one_and_writes_nothing(
        new_store: NewStore) -> None:
    location = new_store()
    with seed_ledger(location, date(2018, 1, 13)) as ledger:
        ledger.purchase("acme", "S1", "o1", 2)
        ledger.advance_to(date(2018, 2, 1))
        ledger.change_quantity("acme", "S1", 5)
        ledger.advance_to(date(2018, 3, 1))  # the views are behind: nothing read them
    before = table_state(location)
    with Ledger(location, read_only=True) as reader:
        seen = answers(reader)
        assert seen == answers(reader)  # the copy in memory is kept and caught up
        with pytest.raises(errors.InvalidInput, match="read-only"):
            reader.suspend("acme", "S1")
        with pytest.raises(errors.InvalidInput, match="read-only"):
            reader.rebuild()
    assert table_state(location) == before
    with Ledger(location) as writer:
        assert answers(writer) == seen
    after = table_state(location)
    with Ledger(location, read_only=True) as reader:  # the views are current now: read as is
        assert answers(reader) == seen
    assert table_state(location) == after


def test_a_location_without_a_ledger_is_refused_and_left_alone(new_store: NewStore,
                                                               tmp_path: Path) -> None:
    location = new_store("nothing-here")
    if location.endswith(".sqlite"):
        with sqlite3.connect(location) as conn:
            conn.execute("CREATE TABLE mine (x)")
    before = table_state(location)
    with pytest.raises(errors.NotALedger, match="not a billing ledger database"):
        Ledger(location, read_only=True)
    assert table_state(location) == before
    with pytest.raises(errors.MissingDatabase):
        Ledger(tmp_path / "missing.sqlite", read_only=True)
    assert not (tmp_path / "missing.sqlite").exists()


def test_a_billing_run_that_stops_at_one_account_lists_what_it_issued(
        new_store: NewStore, monkeypatch: pytest.MonkeyPatch) -> None:
    with seed_ledger(new_store(), date(2018, 1, 13)) as ledger:
        ledger.open_account("zeta", billing_day=15)
        ledger.purchase("acme", "S1", "o1", 1)
        ledger.purchase("zeta", "Z1", "o1", 1)
        cut = BillingApplication.cut

        def failing(self: BillingApplication, account: str, billing_date: date) -> str | None:
            if account == "zeta":
                raise sqlite3.OperationalError("disk I/O error")
            return cut(self, account, billing_date)

        monkeypatch.setattr(BillingApplication, "cut", failing)
        with pytest.raises(errors.BillingRunIncomplete) as stopped:
            ledger.bill(date(2018, 1, 31))
        assert stopped.value.account == "zeta"
        assert stopped.value.issued == ["acme-20180115"]
        assert isinstance(stopped.value.cause, sqlite3.OperationalError)
        monkeypatch.setattr(BillingApplication, "cut", cut)
        assert ledger.bill(date(2018, 1, 31)).issued == ["zeta-20180115"]
        assert ledger.verify().ok


def test_a_test_clock_may_stay_pinned_during_a_billing_run(new_store: NewStore) -> None:
    with Ledger(new_store(), clock=TestClock(date(2018, 1, 20))) as ledger:
        with pytest.raises(errors.EffectiveDateInFuture, match="cannot run 2018-02-01 yet"):
            ledger.bill(date(2018, 2, 1), advance_clock=False)
        assert ledger.today() == date(2018, 1, 20)
        assert ledger.last_recorded_at() is None
        ledger.open_account("acme", billing_day=15, currency="USD")
        ledger.record_payment("acme", Decimal("10.5"))
        assert ledger.last_recorded_at() == ledger.clock.now()
