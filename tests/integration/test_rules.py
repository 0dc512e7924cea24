"""The seed documents' rules beyond the annual tables: final invoices after cancellation,
balances carried, refused commands, renewals at revised prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger import errors, invoicing
from ledger.offers import OfferTerms
from tests.conftest import NewStore
from tests.support import seed_ledger


def test_the_final_invoice_is_the_outstanding_balance_minus_the_prorated_credit(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("f"), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 1)
    ledger.advance_to(date(2018, 3, 1))
    ledger.cancel("acme", "S1")
    ledger.advance_to(date(2018, 3, 16))
    final = ledger.invoice("acme", date(2018, 3, 15))
    assert final["final_for"] == ["S1"]
    assert final["balance_brought_forward"] == "48.00"  # nothing was paid
    assert final["credits"] == "-41.34"
    assert final["amount_due"] == "6.66"
    ledger.close()


def test_a_credit_larger_than_the_charges_is_carried_never_lost(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("c"), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 10)
    ledger.advance_to(date(2018, 1, 20))
    ledger.record_payment("acme", Decimal("480.00"), reference="wire 42")
    ledger.advance_to(date(2018, 3, 1))
    ledger.cancel("acme", "S1")
    ledger.advance_to(date(2018, 3, 16))
    credit = ledger.invoice("acme", date(2018, 3, 15))
    assert (credit["payments_received"], credit["total"]) == ("480.00", "-413.40")
    assert credit["amount_due"] == "-413.40"  # a credit in the customer's favour
    ledger.purchase("acme", "S2", "o1", 1)
    ledger.advance_to(date(2018, 4, 16))
    after = ledger.invoice("acme", date(2018, 4, 15))
    assert after["balance_brought_forward"] == "-413.40"
    assert after["total"] == "48.00"
    assert after["amount_due"] == "-365.40"
    ledger.close()


def test_cancelling_a_suspended_subscription_still_gets_a_final_invoice(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("s"), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 1)
    ledger.advance_to(date(2018, 3, 1))
    ledger.suspend("acme", "S1")
    ledger.advance_to(date(2018, 4, 1))
    ledger.cancel("acme", "S1")
    ledger.advance_to(date(2018, 4, 16))
    final = ledger.invoice("acme", date(2018, 4, 15))
    assert final["final_for"] == ["S1"] and final["subscriptions"] == []
    assert final["amount_due"] == "6.66"  # 48.00 - 41.34, still owed
    assert ledger.verify().ok
    ledger.close()


@pytest.mark.parametrize(
    ("setup", "command", "error", "words"),
    [
        (lambda led: None, lambda led: led.cancel("acme", "BIG"), errors.OnlineCancellationRefused,
         "reduce it below 25 licenses or cancel through the assisted channel"),
        (lambda led: None, lambda led: led.cancel("acme", "T1"), errors.TrialCannotBeCancelled,
         "nothing to cancel"),
        (lambda led: led.cancel("acme", "S1"), lambda led: led.change_quantity("acme", "S1", 3),
         errors.SubscriptionEnded, "cancelled"),
        (lambda led: led.cancel("acme", "S1"), lambda led: led.reactivate("acme", "S1"),
         errors.SubscriptionEnded, "cancelled"),
    ],
)
def test_refused_commands_append_nothing_and_say_why(new_store: NewStore, setup: object, command: object,
                                                     error: type[Exception], words: str) -> None:
    ledger = seed_ledger(new_store("r"), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 2)
    ledger.purchase("acme", "BIG", "o1", 25)
    ledger.purchase("acme", "T1", "o1", 1, trial=True)
    setup(ledger)  # type: ignore[operator]
    before = ledger.app.recorder.max_notification_id()
    with pytest.raises(error, match=words):
        command(ledger)  # type: ignore[operator]
    assert ledger.app.recorder.max_notification_id() == before
    ledger.cancel("acme", "BIG", channel="assisted")  # the assisted channel always may
    ledger.close()


def test_a_renewal_takes_the_catalog_price_of_the_day_running_terms_keep_theirs(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("p"), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 1)
    ledger.advance_to(date(2018, 6, 1))
    ledger.define_offer(OfferTerms.create("o1", price="60.00", currency="USD", term="P1Y",
                                          billing="annual", convention="daily-rate"))
    ledger.change_quantity("acme", "S1", 2)  # still at the purchase's 48.00 a year
    ledger.advance_to(date(2019, 1, 16))
    june = invoicing.invoice_lines(ledger.invoice("acme", date(2018, 6, 15)))
    # 1/13-5/31 is 139 days: 139 x 0.13 = 18.07; 6/1-1/12 is 226 days: 29.38 x 2 = 58.76.
    assert [line["amount"] for line in june] == ["-48.00", "18.07", "58.76"]
    renewal = invoicing.invoice_lines(ledger.invoice("acme", date(2019, 1, 15)))
    assert [(line["charge_type"], line["unit_price"], line["amount"]) for line in renewal] == [
        ("Prorate fee when renew", "60.00", "120.00")]
    ledger.close()


def test_a_suspended_subscription_renews_suspended_and_can_be_reactivated(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("x"), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 1)
    ledger.advance_to(date(2018, 12, 1))
    ledger.suspend("acme", "S1")
    ledger.advance_to(date(2019, 2, 1))
    assert ledger.history("acme", "S1").state["status"] == "suspended"
    assert ledger.history("acme", "S1").state["term_start"] == "2019-01-13"
    ledger.reactivate("acme", "S1")
    ledger.advance_to(date(2019, 2, 16))
    lines = invoicing.invoice_lines(ledger.invoice("acme", date(2019, 2, 15)))
    # 2/1/2019-1/12/2020 is 346 days: 346 x 0.13 = 44.98.
    assert [(line["start"], line["end"], line["amount"]) for line in lines] == [
        ("2019-02-01", "2020-01-12", "44.98")]
    # Suspended at the renewal: the renewed term owed nothing until the reactivation.
    assert "2019-01-15" not in {row["billing_date"] for row in ledger.invoices("acme")}
    ledger.close()


def test_a_change_backdated_before_a_monthly_renewal_is_accepted(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("b"), date(2018, 1, 13))
    ledger.define_offer(OfferTerms.create("m1", price="4.00", currency="USD", term="P1M",
                                          billing="monthly", convention="daily-rate",
                                          daily_rate_places=3))
    ledger.purchase("acme", "S1", "m1", 1)
    ledger.advance_to(date(2018, 2, 14))  # the one-month term renewed on 2/13
    ledger.change_quantity("acme", "S1", 2, effective_date=date(2018, 2, 1))
    ledger.advance_to(date(2018, 2, 16))
    lines = invoicing.invoice_lines(ledger.invoice("acme", date(2018, 2, 15)))
    # As Partner Center's monthly article bills a 2/1 change: 2.45, 3.10, and the new month.
    assert [(line["start"], line["amount"]) for line in lines] == [
        ("2018-01-13", "-4.00"), ("2018-01-13", "2.45"), ("2018-02-01", "3.10"),
        ("2018-02-13", "8.00")]
    ledger.close()
