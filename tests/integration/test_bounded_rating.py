"""A billing cut reads what its period holds, not the subscription's whole history: the
checkpoint its last posting recorded and the events since. Backdating is bounded, so the
checkpoint is; verify checks every recorded checkpoint against the whole history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ledger import errors
from ledger.offers import OfferTerms
from tests.conftest import NewStore
from tests.support import seed_ledger
from tests.tamper import Store


def test_a_cut_reads_the_events_since_the_last_posting_not_the_whole_history(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("b"), date(2014, 1, 13))
    ledger.define_offer(OfferTerms.create("m1", price="4.00", currency="USD", term="P1M",
                                          billing="monthly", convention="daily-rate",
                                          daily_rate_places=3))
    ledger.purchase("acme", "S1", "m1", 5)
    day = date(2014, 1, 20)
    for month in range(60):  # five years, a license change every month
        day = date(2014 + (month + 1) // 12, (month + 1) % 12 + 1, 20)
        ledger.advance_to(day)
        ledger.change_quantity("acme", "S1", 6 - (month % 2))
    history = ledger.app.history("acme", "S1")
    sub, tail = ledger.app._rating_input("acme", "S1")
    assert len(history) > 150
    assert len(tail) <= 6  # the last posting, the events since, nothing older
    assert sub.checkpoint is not None and len(sub.checkpoint.lines) <= 6
    ledger.advance_to(day + timedelta(days=40))
    assert ledger.verify().ok
    ledger.close()


def test_an_action_backdated_more_than_a_year_is_refused(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("old"), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 1)
    ledger.advance_to(date(2019, 6, 1))
    before = ledger.app.recorder.max_notification_id()
    # The last billing date is 15 January 2019 (the renewal): 15 January 2018 is 365 days
    # before it, so the purchase date is the earliest an action could still take effect.
    with pytest.raises(errors.EffectiveDateTooOld, match="more than 366 days before its last billing date"):
        ledger.change_quantity("acme", "S1", 2, effective_date=date(2018, 1, 13))
    assert ledger.app.recorder.max_notification_id() == before
    ledger.change_quantity("acme", "S1", 2, effective_date=date(2018, 1, 14))  # 366 days: accepted
    ledger.close()


def test_verify_checks_every_recorded_checkpoint(new_store: NewStore) -> None:
    location = new_store("cp")
    ledger = seed_ledger(location, date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 3)
    ledger.advance_to(date(2018, 3, 1))
    ledger.change_quantity("acme", "S1", 4)
    ledger.advance_to(date(2018, 4, 1))
    assert ledger.verify().ok
    store = Store(location)
    position = store.position_of("Subscription.ChargesPosted")

    def forge(state: dict[str, object]) -> None:
        checkpoint = state["checkpoint"]
        assert isinstance(checkpoint, dict)
        checkpoint["_data_"]["quantity"] = 40

    store.edit_event(position, forge)
    store.rechain()
    text = "\n".join(map(str, ledger.verify().findings))
    assert "recorded rating checkpoint is not what its events leave" in text
    ledger.close()
