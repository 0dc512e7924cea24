"""The subscription aggregate refuses bad commands with typed errors and records nothing."""

from __future__ import annotations

from datetime import date

import pytest

from ledger import errors
from ledger.offers import OfferTerms
from ledger.subscription import Subscription
from tests.support import at, offer

START = date(2018, 1, 13)


def bought(quantity: int = 1, **kwargs: object) -> Subscription:
    sub = Subscription.purchase(account="acme", key="S1", offer=offer(), quantity=quantity,
                                effective_date=START, recorded_at=at(START), **kwargs)
    sub.collect_events()
    return sub


def refused(sub: Subscription, error: type[Exception], command: str, *args: object,
            day: date = date(2018, 2, 1), **kwargs: object) -> str:
    sub.collect_events()
    version = sub.version
    with pytest.raises(error) as caught:
        getattr(sub, command)(*args, effective_date=day, recorded_at=at(day), **kwargs)
    assert sub.version == version
    assert sub.collect_events() == []
    return str(caught.value)


def test_events_carry_effective_date_and_recorded_time() -> None:
    sub = bought()
    sub.change_quantity(3, effective_date=date(2018, 2, 1), recorded_at=at(date(2018, 2, 3)))
    (changed,) = sub.collect_events()
    assert isinstance(changed, Subscription.QuantityChanged)
    assert changed.effective_date == date(2018, 2, 1)
    assert changed.timestamp == at(date(2018, 2, 3))
    assert changed.timestamp.utcoffset() is not None
    assert (changed.quantity, changed.previous_quantity) == (3, 1)


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True])
def test_quantity_must_be_a_whole_number_of_at_least_one(quantity: object) -> None:
    with pytest.raises(errors.InvalidQuantity):
        Subscription.purchase(account="a", key="S1", offer=offer(), quantity=quantity,  # type: ignore[arg-type]
                              effective_date=START, recorded_at=at(START))
    assert "quantity" in refused(bought(), errors.InvalidQuantity, "change_quantity", quantity)


def test_actions_out_of_date_order_are_refused() -> None:
    sub = bought()
    sub.suspend(effective_date=date(2018, 3, 1), recorded_at=at(date(2018, 3, 1)))
    message = refused(sub, errors.EffectiveDateOutOfOrder, "reactivate", day=date(2018, 2, 1))
    assert "2018-02-01" in message and "2018-03-01" in message


def test_suspending_a_suspended_subscription_is_refused() -> None:
    sub = bought()
    sub.suspend(effective_date=date(2018, 2, 1), recorded_at=at(date(2018, 2, 1)))
    assert "already suspended" in refused(sub, errors.AlreadySuspended, "suspend")


def test_reactivating_an_active_subscription_is_refused() -> None:
    assert "not suspended" in refused(bought(), errors.NotSuspended, "reactivate")


def test_nothing_is_allowed_after_cancellation() -> None:
    sub = bought()
    sub.cancel(effective_date=date(2018, 2, 1), recorded_at=at(date(2018, 2, 1)))
    for command, args in [("change_quantity", (2,)), ("suspend", ()), ("reactivate", ()),
                          ("cancel", ()), ("add_payment_method", ()), ("set_auto_renew", (False,))]:
        assert "cancelled" in refused(sub, errors.SubscriptionEnded, command, *args)


def test_a_suspended_subscription_may_remove_licenses_but_not_add_any() -> None:
    sub = bought(30)
    sub.suspend(effective_date=date(2018, 2, 1), recorded_at=at(date(2018, 2, 1)))
    assert "before adding licenses" in refused(sub, errors.SubscriptionSuspended, "change_quantity", 31)
    # The seed documents' way out of the online limit: remove users below 25, then cancel.
    sub.change_quantity(24, effective_date=date(2018, 2, 2), recorded_at=at(date(2018, 2, 2)))
    sub.cancel(effective_date=date(2018, 2, 2), recorded_at=at(date(2018, 2, 2)), channel="online")
    assert (sub.quantity, sub.status.value) == (24, "cancelled")


def test_online_cancellation_needs_fewer_than_25_licenses() -> None:
    message = refused(bought(25), errors.OnlineCancellationRefused, "cancel", channel="online")
    assert "below 25" in message and "assisted" in message
    sub = bought(25)
    sub.cancel(effective_date=date(2018, 2, 1), recorded_at=at(date(2018, 2, 1)), channel="assisted")
    assert sub.status.value == "cancelled"
    small = bought(24)
    small.cancel(effective_date=date(2018, 2, 1), recorded_at=at(date(2018, 2, 1)))
    assert small.status.value == "cancelled"


def test_a_trial_has_nothing_to_cancel() -> None:
    trial = bought(trial=True)
    assert "nothing to cancel" in refused(trial, errors.TrialCannotBeCancelled, "cancel")


def test_offers_are_validated_field_by_field() -> None:
    with pytest.raises(errors.InvalidOffer, match="price"):
        OfferTerms.create("x", price=48.0, currency="USD", term="P1Y", billing="annual",
                          convention="exact")
    with pytest.raises(errors.InvalidOffer, match="convention"):
        OfferTerms.create("x", price="48", currency="USD", term="P1Y", billing="annual",
                          convention="rounded")
    with pytest.raises(errors.InvalidOffer, match="annual billing needs a P1Y"):
        OfferTerms.create("x", price="4", currency="USD", term="P1M", billing="annual",
                          convention="exact")
    with pytest.raises(errors.InvalidOffer, match="currency"):
        OfferTerms.create("x", price="4", currency="dollars", term="P1Y", billing="annual",
                          convention="exact")
