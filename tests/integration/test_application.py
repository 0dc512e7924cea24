"""The application service on a real SQLite store: commands, errors, the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from freezegun import freeze_time

from ledger import errors
from ledger.application import BillingApplication
from ledger.clock import SystemClock
from ledger.eventstore import store_env
from tests.conftest import NewStore
from tests.support import offer

Make = Callable[..., BillingApplication]


def opened(make_ledger: Make, start: date = date(2018, 1, 13), billing_day: int = 15) -> BillingApplication:
    ledger = make_ledger(start)
    ledger.define_offer(offer("48.00"))
    ledger.open_account("acme", billing_day=billing_day)
    return ledger


def test_events_are_stored_with_dates_decimals_and_recorded_utc_times(make_ledger: Make) -> None:
    ledger = opened(make_ledger)
    ledger.purchase("acme", "S1", "o1", 3)
    (purchased,) = ledger.history("acme", "S1")
    assert purchased.effective_date == date(2018, 1, 13)
    assert purchased.offer.price == Decimal("48.00")
    assert purchased.timestamp == datetime(2018, 1, 13, tzinfo=UTC)


@pytest.mark.parametrize(
    ("command", "error", "words"),
    [
        (lambda led: led.purchase("acme", "S1", "nope", 1), errors.UnknownOffer, "nope"),
        (lambda led: led.purchase("nobody", "S9", "o1", 1), errors.UnknownAccount, "nobody"),
        (lambda led: led.purchase("acme", "S2", "o1", 0), errors.InvalidQuantity, "at least 1"),
        (lambda led: led.purchase("acme", "S1", "o1", 1), errors.DuplicateSubscription, "S1"),
        (lambda led: led.change_quantity("acme", "S9", 2), errors.UnknownSubscription, "S9"),
        (lambda led: led.change_quantity("acme", "S1", 0), errors.InvalidQuantity, "quantity"),
        (lambda led: led.reactivate("acme", "S1"), errors.NotSuspended, "not suspended"),
        (lambda led: led.suspend("acme", "S1", effective_date=date(2018, 2, 1)),
         errors.EffectiveDateInFuture, "2018-02-01"),
        (lambda led: led.open_account("acme", billing_day=15), errors.DuplicateAccount, "acme"),
        (lambda led: led.open_account("new", billing_day=32), errors.InvalidAccount, "billing_day"),
    ],
)
def test_a_refused_command_names_what_was_wrong_and_appends_nothing(
    make_ledger: Make, command: Callable[[BillingApplication], None], error: type[Exception], words: str
) -> None:
    ledger = opened(make_ledger)
    ledger.purchase("acme", "S1", "o1", 1)
    before = ledger.recorder.max_notification_id()
    with pytest.raises(error, match=words):
        command(ledger)
    assert ledger.recorder.max_notification_id() == before


def test_every_ledger_error_is_one_hierarchy() -> None:
    for name in dir(errors):
        value = getattr(errors, name)
        if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == errors.__name__:
            assert issubclass(value, errors.LedgerError), name


def test_works_under_freezegun_with_the_system_clock(new_store: NewStore) -> None:
    location = new_store("frozen")
    with freeze_time("2018-01-13 09:30:00", ignore=["psycopg", "psycopg_pool"]) as frozen:
        ledger = BillingApplication(store_env(location), clock=SystemClock())
        ledger.define_offer(offer("48.00"))
        ledger.open_account("acme", billing_day=15)
        ledger.purchase("acme", "S1", "o1", 1)
        frozen.move_to("2018-01-16 08:00:00")
        ledger.run_due()  # yesterday, the 15th, was a billing date
        (issued,) = list(ledger.issued_invoices("acme"))
        assert issued.billing_date == date(2018, 1, 15)
        assert issued.timestamp == datetime(2018, 1, 16, 8, tzinfo=UTC)
        ledger.close()
    reopened = BillingApplication(store_env(location))
    purchased = reopened.history("acme", "S1")[0]
    assert purchased.timestamp == datetime(2018, 1, 13, 9, 30, tzinfo=UTC)
    assert type(purchased.effective_date) is date
    reopened.close()


def test_billing_runs_cannot_outrun_the_clock(make_ledger: Make) -> None:
    ledger = opened(make_ledger)
    with pytest.raises(errors.EffectiveDateInFuture):
        ledger.run_due(date(2018, 2, 15))
