"""What a revised offer changes for the subscriptions already running: they renew on the
catalog's terms of the day, into a term counted from the renewal date, and never into
another currency."""

from __future__ import annotations

from datetime import date

import pytest

from billing_ledger.api import Ledger
from ledger import errors, ids, invoicing
from ledger.catalog import Offer
from ledger.offers import OfferTerms
from ledger.subscription import Subscription
from tests.conftest import NewStore
from tests.support import at, seed_ledger


def terms(price: str, term: str, billing: str, currency: str = "USD") -> OfferTerms:
    return OfferTerms.create("o1", price=price, currency=currency, term=term, billing=billing,
                             convention="daily-rate")


def renewals(ledger: Ledger, key: str = "S1") -> list[tuple[str, str, str]]:
    return [(ev.effective_date.isoformat(), ev.term_end.isoformat(), ev.offer.term)
            for ev in ledger.app.history("acme", key) if isinstance(ev, Subscription.Renewed)]


def lines_of(ledger: Ledger, day: date) -> list[tuple[str, str, str, str, int, str]]:
    return [(line["start"], line["end"], line["charge_type"], line["unit_price"], line["quantity"],
             line["amount"]) for line in invoicing.invoice_lines(ledger.invoice("acme", day))]


def test_a_revision_cannot_change_the_currency_and_records_nothing(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("c"), date(2018, 1, 13))
    before = ledger.app.recorder.max_notification_id()
    with pytest.raises(errors.InvalidOffer, match=r"cannot change its currency to JPY.*define a new offer"):
        ledger.define_offer(terms("5000", "P1Y", "annual", currency="JPY"))
    assert ledger.app.recorder.max_notification_id() == before
    assert ledger.app.offer_terms("o1").currency == "USD"
    ledger.close()


def test_a_currency_revision_recorded_by_an_older_version_is_not_renewed_into(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("l"), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 1)
    ledger.advance_to(date(2018, 6, 1))
    # As an older version of the ledger could record it, bypassing today's refusal.
    offer: Offer = ledger.app.repository.get(ids.offer_id("o1"))
    offer._revised(terms=terms("5000", "P1Y", "annual", currency="JPY"), timestamp=at(date(2018, 6, 1)))
    ledger.app.save(offer)
    ledger.advance_to(date(2019, 1, 16))
    assert lines_of(ledger, date(2019, 1, 15)) == [
        ("2019-01-13", "2020-01-12", "Prorate fee when renew", "48.00", 1, "48.00")]
    assert ledger.invoice("acme", date(2019, 1, 15))["amount_due"] == "96.00"
    assert ledger.verify().ok
    ledger.close()


def test_annual_revised_to_monthly_renews_into_one_month_from_the_renewal(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("m"), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 10)
    ledger.advance_to(date(2018, 9, 1))
    ledger.define_offer(terms("4.00", "P1M", "monthly"))
    ledger.advance_to(date(2019, 5, 1))
    assert renewals(ledger)[:3] == [("2019-01-13", "2019-02-12", "P1M"),
                                    ("2019-02-13", "2019-03-12", "P1M"),
                                    ("2019-03-13", "2019-04-12", "P1M")]
    assert lines_of(ledger, date(2019, 1, 15)) == [
        ("2019-01-13", "2019-02-12", "Cycle fee", "4.00", 10, "40.00")]
    assert lines_of(ledger, date(2019, 4, 15)) == [
        ("2019-04-13", "2019-05-12", "Cycle fee", "4.00", 10, "40.00")]
    assert ledger.verify().ok
    ledger.close()


def test_monthly_revised_to_annual_renews_into_a_year_from_the_renewal(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("y"), date(2018, 1, 13))
    ledger.define_offer(OfferTerms.create("o1", price="4.00", currency="USD", term="P1M",
                                          billing="monthly", convention="daily-rate"))
    ledger.purchase("acme", "S1", "o1", 2)
    ledger.advance_to(date(2018, 7, 1))
    ledger.define_offer(terms("48.00", "P1Y", "annual"))
    ledger.advance_to(date(2018, 9, 1))
    assert renewals(ledger)[-1] == ("2018-07-13", "2019-07-12", "P1Y")
    assert lines_of(ledger, date(2018, 7, 15)) == [
        ("2018-07-13", "2019-07-12", "Prorate fee when renew", "48.00", 2, "96.00")]
    ledger.cancel("acme", "S1")
    ledger.advance_to(date(2018, 9, 16))
    # 9/1/2018-7/12/2019 is 315 days of a 365-day year: 315 x 0.13 = 40.95 a license.
    (credit,) = invoicing.invoice_lines(ledger.invoice("acme", date(2018, 9, 15)))
    assert (credit["start"], credit["end"], credit["charge_type"], credit["amount"]) == (
        "2018-09-01", "2019-07-12", "Cancel Fee", "-81.90")
    assert "/ 365" in credit["basis"]
    assert ledger.verify().ok
    ledger.close()
