"""The bounds every value is checked against before it enters an event (ledger/bounds.py),
and the aggregates and factories that apply them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing_ledger import scenario as scenarios
from ledger import bounds, errors
from ledger.account import BillingAccount
from ledger.offers import OfferTerms
from ledger.subscription import Subscription
from tests.support import at, offer

NOW = datetime(2018, 1, 13, tzinfo=UTC)


@pytest.mark.parametrize("value", ["a", "S1", "contoso", "a.b_c-1", "_x", "0", "x" * 64, "A..b"])
def test_ids_within_bounds(value: str) -> None:
    assert bounds.identifier(value, "account id") == value
    assert bounds.is_identifier(value)


@pytest.mark.parametrize("value", ["", ".", "..", ".x", "-x", "../etc", "a/b", "a\\b", "a b",
                                   "[/x]", "x" * 65, "é", "a\nb", "a\x00", 7, None, b"x"])
def test_ids_out_of_bounds(value: object) -> None:
    with pytest.raises(errors.InvalidAccount, match=r"account id must be 1-64 characters"):
        bounds.identifier(value, "account id", errors.InvalidAccount)
    assert not bounds.is_identifier(value)


def test_a_long_or_unprintable_value_is_shown_escaped_and_short() -> None:
    assert bounds.shown("a\nb") == "'a\\nb'"
    long = bounds.shown("y" * 1000)
    assert long.startswith("'yyyy") and long.endswith("... (1000 characters)") and len(long) < 80
    assert "\n" not in bounds.shown(["x\n"] * 100)


@pytest.mark.parametrize(("value", "ok"), [
    ("Contoso Ltd", True), ("[bold]x[/bold]", True), ("名前 & <b>", True), ("x" * 200, True),
    ("", False), ("   ", False), ("x" * 201, False), ("a\nb", False), ("a\tb", False),
    ("\x1b[31m", False), ("\ud800", False), (5, False), (None, False),
])
def test_names(value: object, ok: bool) -> None:
    if ok:
        assert bounds.name(value, "account name") == value
    else:
        with pytest.raises(errors.InvalidInput, match="account name must"):
            bounds.name(value, "account name")


@pytest.mark.parametrize(("value", "ok"), [
    (1, True), (1_000_000, True), (0, False), (-1, False), (1_000_001, False), (2**63, False),
    (True, False), (1.0, False), ("5", False), (None, False),
])
def test_quantities(value: object, ok: bool) -> None:
    if ok:
        assert bounds.quantity(value) == value
    else:
        with pytest.raises(errors.InvalidQuantity, match="quantity must be"):
            bounds.quantity(value)


@pytest.mark.parametrize(("value", "currency", "stored"), [
    ("48.00", "USD", "48.00"), ("48", "USD", "48"), ("48.0000", "USD", "48.00"),
    ("-0", "USD", "0"), ("1E+3", "USD", "1000"), ("1000000000", "USD", "1000000000"),
    ("5000", "JPY", "5000"), ("5000.00", "JPY", "5000"), ("1.234", "KWD", "1.234"),
    ("0E-1000000", "USD", "0.00"),
])
def test_prices_within_bounds_are_kept_in_the_currencys_places(value: str, currency: str,
                                                                stored: str) -> None:
    assert str(bounds.price(Decimal(value), currency)) == stored


@pytest.mark.parametrize(("value", "currency", "words"), [
    ("48.001", "USD", "more decimal places than USD has (2)"),
    ("0.5", "JPY", "more decimal places than JPY has (0)"),
    ("1.2345", "KWD", "more decimal places than KWD has (3)"),
    ("1E-1000000", "USD", "more decimal places"),
    ("-0.01", "USD", "must not be negative"),
    ("1000000000.01", "USD", "at most 1,000,000,000"),
    ("1E+30", "USD", "at most 1,000,000,000"),
    ("NaN", "USD", "finite"), ("Infinity", "USD", "finite"), ("sNaN", "USD", "finite"),
])
def test_prices_out_of_bounds(value: str, currency: str, words: str) -> None:
    with pytest.raises(errors.InvalidOffer, match=words.replace("(", r"\(").replace(")", r"\)")):
        bounds.price(Decimal(value), currency, error=errors.InvalidOffer)


@pytest.mark.parametrize(("value", "currency", "words"), [
    (Decimal("0"), "USD", "positive"), (Decimal("-1"), "USD", "positive"),
    (Decimal("0.015"), "USD", "more decimal places than USD has"),
    (Decimal("1000000000000.01"), "USD", "at most 1,000,000,000,000"),
    (Decimal("NaN"), "USD", "decimal amount"), (10, "USD", "decimal amount"),
    (1.5, "USD", "decimal amount"),
    (Decimal("10.00"), None, "currency is not known yet"),
])
def test_payments_out_of_bounds(value: object, currency: str | None, words: str) -> None:
    with pytest.raises(errors.InvalidPayment, match=words):
        bounds.payment(value, currency)


def test_payments_within_bounds() -> None:
    assert bounds.payment(Decimal("1000000000000"), "USD") == Decimal("1000000000000")
    assert str(bounds.payment(Decimal("10.500"), "USD")) == "10.50"


@pytest.mark.parametrize(("value", "ok"), [
    (date(1970, 1, 1), True), (date(2999, 12, 31), True), (date(2018, 2, 28), True),
    (date(1969, 12, 31), False), (date(3000, 1, 1), False), (date.min, False), (date.max, False),
    (datetime(2018, 1, 1, tzinfo=UTC), False), ("2018-01-01", False), (None, False),
])
def test_business_dates(value: object, ok: bool) -> None:
    if ok:
        assert bounds.business_date(value, "effective date") == value
    else:
        with pytest.raises(errors.InvalidInput, match="effective date must be"):
            bounds.business_date(value, "effective date")


@pytest.mark.parametrize(("value", "least", "ok"), [
    ("wire 42", 0, True), ("", 0, True), ("", 1, False), ("x" * 200, 1, True),
    ("x" * 201, 0, False), ("a\x00b", 0, False), (42, 0, False),
])
def test_text(value: object, least: int, ok: bool) -> None:
    if ok:
        assert bounds.text(value, "reference", least=least) == value
    else:
        with pytest.raises(errors.InvalidInput, match="reference must"):
            bounds.text(value, "reference", least=least)


def test_offer_terms_are_bounded_when_created_and_when_built_directly() -> None:
    with pytest.raises(errors.InvalidOffer, match="offer id must be"):
        OfferTerms.create("../x", price="1", currency="USD", term="P1Y", billing="annual",
                          convention="exact")
    with pytest.raises(errors.InvalidOffer, match="name must not contain control"):
        offer(name="a\x1bb")
    with pytest.raises(errors.InvalidOffer, match="daily_rate_places must be at most 10"):
        offer(daily_rate_places=11)
    with pytest.raises(errors.InvalidOffer, match="refund_window_days must be at most 366"):
        offer(refund_window_days=367)
    with pytest.raises(errors.InvalidOffer, match="billing must be one of"):
        offer(billing=["annual"])  # type: ignore[arg-type]
    built = OfferTerms(offer_id="big", name="Big", price=Decimal("1E+30"), currency="USD",
                       term="P1Y", billing=offer().billing, convention=offer().convention)
    with pytest.raises(errors.InvalidOffer, match="at most 1,000,000,000"):
        OfferTerms.checked(built)
    with pytest.raises(errors.InvalidOffer, match="must be OfferTerms"):
        OfferTerms.checked({"offer_id": "x"})
    assert OfferTerms.checked(offer()) == offer()


def test_the_aggregates_apply_the_bounds_before_recording() -> None:
    with pytest.raises(errors.InvalidAccount, match="account id"):
        BillingAccount.open(key="a/b", billing_day=15, effective_date=date(2018, 1, 13),
                            recorded_at=NOW)
    with pytest.raises(errors.InvalidAccount, match="account name"):
        BillingAccount.open(key="a", name="x\ny", billing_day=15,
                            effective_date=date(2018, 1, 13), recorded_at=NOW)
    account = BillingAccount.open(key="a", billing_day=15, effective_date=date(2018, 1, 13),
                                  recorded_at=NOW)
    with pytest.raises(errors.InvalidPayment, match="currency is not known yet"):
        account.record_payment(Decimal("0.015"), effective_date=date(2018, 1, 13), recorded_at=NOW)
    with pytest.raises(errors.InvalidInput, match="subscription id"):
        Subscription.purchase(account="a", key="[/x]", offer=offer(), quantity=1,
                              effective_date=date(2018, 1, 13), recorded_at=at(date(2018, 1, 13)))
    with pytest.raises(errors.InvalidInput, match="trial_days must be at most 365"):
        Subscription.purchase(account="a", key="S1", offer=offer(), quantity=1, trial=True,
                              trial_days=366, effective_date=date(2018, 1, 13),
                              recorded_at=at(date(2018, 1, 13)))
    with pytest.raises(errors.InvalidInput, match="trial must be true or false"):
        Subscription.purchase(account="a", key="S1", offer=offer(), quantity=1, trial="yes",  # type: ignore[arg-type]
                              effective_date=date(2018, 1, 13), recorded_at=at(date(2018, 1, 13)))
    sub = Subscription.purchase(account="a", key="S1", offer=offer(), quantity=1,
                                effective_date=date(2018, 1, 13), recorded_at=at(date(2018, 1, 13)))
    with pytest.raises(errors.InvalidQuantity, match="at most 1,000,000"):
        sub.change_quantity(10**30, effective_date=date(2018, 1, 14), recorded_at=at(date(2018, 1, 14)))
    assert len(sub.collect_events()) == 1  # only the purchase


SCENARIO = """format: 1
account: {id: acme, billing_day: 15}
offers:
  o: {price: PRICE, currency: USD, term: P1Y, billing: annual, convention: daily-rate}
actions:
  - {date: 2018-01-13, action: purchase, subscription: SUB, offer: o, quantity: QTY}
until: 2018-03-31
"""


@pytest.mark.parametrize(("price", "sub", "quantity", "words"), [
    (".nan", "S1", "1", "offer 'o', field 'price': offer 'o': price is not a decimal number: '.nan'"),
    ("-.inf", "S1", "1", "field 'price'"),
    ("1:30.5", "S1", "1", "field 'price'"),
    ('"1E+30"', "S1", "1", "field 'price': offer 'o': price must be at most 1,000,000,000"),
    ('"48.001"', "S1", "1", "more decimal places than USD has (2)"),
    ('"48.00"', '"a/b"', "1", "action 1, field 'subscription': must be 1-64 characters"),
    ('"48.00"', "S1", "1000001", "action 1, field 'quantity': must be at most 1,000,000"),
    ('"48.00"', "S1", str(2**63), "action 1, field 'quantity': must be at most 1,000,000"),
])
def test_a_scenario_is_held_to_the_same_bounds(price: str, sub: str, quantity: str,
                                               words: str) -> None:
    text = SCENARIO.replace("PRICE", price).replace("SUB", sub).replace("QTY", quantity)
    with pytest.raises(scenarios.ScenarioError) as refused:
        scenarios.parse(text, "s.yaml")
    assert words in str(refused.value)


def test_a_yaml_error_is_one_line_with_its_place() -> None:
    with pytest.raises(scenarios.ScenarioError) as refused:
        scenarios.parse("format: 1\naccount: [unclosed\n", "bad.yaml")
    assert str(refused.value) == ("bad.yaml: document: not valid YAML at line 3, column 1: "
                                  "expected ',' or ']', but got '<stream end>'")
    with pytest.raises(scenarios.ScenarioError, match="nested too deeply"):
        scenarios.parse("format: 1\naccount: " + "[" * 5000 + "]" * 5000, "deep.yaml")


def test_instants_and_seconds() -> None:
    from datetime import timedelta, timezone

    east = timezone(timedelta(hours=14))
    assert bounds.instant(datetime(2018, 1, 1, 5, tzinfo=east), "known_at") == datetime(
        2017, 12, 31, 15, tzinfo=UTC)
    for value in (datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-14))),
                  datetime(1, 1, 1, tzinfo=east), datetime(2018, 1, 1), "2018-01-01", None):
        with pytest.raises(errors.InvalidInput, match="known_at"):
            bounds.instant(value, "known_at")
    assert bounds.seconds(0, "pause") == 0.0
    for bad in (float("nan"), float("inf"), -1, 3601, True, "1"):
        with pytest.raises(errors.InvalidInput, match="pause must be a number of seconds"):
            bounds.seconds(bad, "pause")


@pytest.mark.parametrize(("url", "words"), [
    ("postgresql://u@h/db?schema=a%22b", "schema name must be 1-63 characters"),
    ("postgresql://u@h/db?schema=" + "s" * 64, "schema name must be 1-63 characters"),
    ("postgresql://u@h/db?pool_size=abc", "pool_size must be a whole number"),
    ("postgresql://u@h/db?connect_timeout=-1", "connect_timeout must be a whole number"),
    ("postgresql://u@h:99999/db", "port"),
    ("postgresql://u@h/db?sslmode=x", "unknown PostgreSQL URL option"),
])
def test_a_postgresql_url_out_of_bounds_is_refused(url: str, words: str) -> None:
    from ledger.eventstore import store_env

    with pytest.raises(errors.InvalidInput, match=words):
        store_env(url)


def test_an_offer_keeps_its_currency_when_revised() -> None:
    from ledger.catalog import Offer

    catalog = Offer(offer_id="o1", terms=offer(), timestamp=NOW)
    with pytest.raises(errors.InvalidOffer, match="cannot change its currency"):
        catalog.revise(OfferTerms.create("o1", price="5000", currency="JPY", term="P1Y",
                                         billing="annual", convention="daily-rate"),
                       recorded_at=NOW)
    # Anything else may change: running subscriptions renew into it (a term counted from the
    # renewal; tests/integration/test_revised_offers.py).
    catalog.revise(offer(term="P1M", billing="monthly", price="4.00"), recorded_at=NOW)
    catalog.revise(offer(price="60.00", convention="exact"), recorded_at=NOW)
    assert catalog.terms.price == Decimal("60.00")
