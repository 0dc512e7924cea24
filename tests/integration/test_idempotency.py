"""Idempotent commands: a retry with the same key and payload returns the first result and
appends nothing; the same key with a different payload is refused."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest

from ledger import errors
from tests.conftest import NewStore
from tests.support import seed_ledger


def test_a_repeat_with_the_same_key_returns_the_first_result_and_appends_nothing(
    new_store: NewStore,
) -> None:
    ledger = seed_ledger(new_store(), date(2018, 1, 13))
    first = ledger.purchase("acme", "S1", "o1", 3, idempotency_key="order-1")
    position = ledger.app.recorder.max_notification_id()
    again = ledger.purchase("acme", "S1", "o1", 3, idempotency_key="order-1")
    assert again == first
    assert ledger.app.recorder.max_notification_id() == position
    ledger.change_quantity("acme", "S1", 5, idempotency_key="change-1")
    ledger.change_quantity("acme", "S1", 5, idempotency_key="change-1")  # not "already 5"
    ledger.record_payment("acme", Decimal("10.00"), idempotency_key="pay-1")
    ledger.record_payment("acme", Decimal("10.00"), idempotency_key="pay-1")
    assert ledger.app.subscription("acme", "S1").version == 2
    assert ledger.app.account("acme").payments_since_invoice == Decimal("10.00")
    ledger.close()


def test_the_same_key_with_another_payload_is_refused(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store(), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 3, idempotency_key="k")
    position = ledger.app.recorder.max_notification_id()
    with pytest.raises(errors.IdempotencyConflict, match="'k' was already used for purchase"):
        ledger.purchase("acme", "S1", "o1", 4, idempotency_key="k")
    with pytest.raises(errors.IdempotencyConflict):
        ledger.suspend("acme", "S1", idempotency_key="k")
    assert ledger.app.recorder.max_notification_id() == position
    ledger.close()


def test_a_refused_command_records_no_key(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store(), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 3)
    with pytest.raises(errors.NotSuspended):
        ledger.reactivate("acme", "S1", idempotency_key="r")
    ledger.suspend("acme", "S1")
    ledger.reactivate("acme", "S1", idempotency_key="r")  # the key was never used
    assert ledger.app.subscription("acme", "S1").status.value == "active"
    ledger.close()


def test_racing_repeats_of_one_key_take_effect_once(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store(), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 3)
    failures: list[BaseException] = []

    def send() -> None:
        try:
            ledger.change_quantity("acme", "S1", 7, idempotency_key="once")
        except BaseException as error:  # collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert ledger.app.subscription("acme", "S1").version == 2
    ledger.close()
