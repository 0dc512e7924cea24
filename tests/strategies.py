"""Hypothesis strategies, all in one place, and how many examples a property runs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from ledger.invoicing import Invoice, InvoiceLine, LogPoint, SubscriptionGroup, SubscriptionInfo
from ledger.money import Money, currency_places
from projections.journal import EventRef, LineFact, PaymentFact

#: Properties run ``examples(n)`` examples: n by default, 4n under CI=true, and n times
#: ``BILLING_LEDGER_EXAMPLES`` when that is set (a long local search for counterexamples).
_SCALE = int(os.environ.get("BILLING_LEDGER_EXAMPLES") or
             (4 if os.environ.get("CI", "").lower() in {"1", "true", "yes"} else 1))


def examples(n: int) -> int:
    return n * _SCALE


prices = st.integers(min_value=1, max_value=2_000_000).map(lambda cents: Decimal(cents) / 100)
quantities = st.integers(min_value=1, max_value=60)
billing_days = st.integers(min_value=1, max_value=31)
refund_windows = st.sampled_from([0, 7, 30, 45])
start_dates = st.dates(min_value=date(2016, 1, 1), max_value=date(2031, 12, 31))
conventions = st.sampled_from(["daily-rate", "exact"])
frequencies = st.sampled_from(["annual", "monthly"])


@dataclass(frozen=True)
class Step:
    """One action, ``gap`` days after the previous one."""

    gap: int
    kind: str
    quantity: int


steps = st.builds(
    Step,
    gap=st.integers(min_value=0, max_value=45),
    kind=st.sampled_from(["change", "change", "suspend", "reactivate", "cancel"]),
    quantity=quantities,
)

in_term_steps = st.builds(
    Step,
    gap=st.integers(min_value=0, max_value=40),
    kind=st.sampled_from(["change", "change", "change", "suspend", "reactivate"]),
    quantity=quantities,
)


def dated(start: date, plan: list[Step], last: date) -> list[tuple[date, Step]]:
    """The plan's steps on their dates, dropping those after ``last``."""
    day, result = start, []
    for step in plan:
        day = day + timedelta(days=step.gap)
        if day > last:
            break
        result.append((day, step))
    return result


@dataclass(frozen=True)
class OfferSpec:
    billing: str
    term: str
    convention: str
    price: Decimal
    places: int
    window: int


offer_specs = st.builds(
    OfferSpec,
    billing=frequencies,
    term=st.sampled_from(["P1Y", "P1M"]),
    convention=conventions,
    price=prices,
    places=st.sampled_from([2, 3]),
    window=refund_windows,
).map(lambda spec: spec if spec.billing == "monthly" else OfferSpec(
    spec.billing, "P1Y", spec.convention, spec.price, spec.places, spec.window))

ACTIONS = ["change", "change", "change", "change", "suspend", "reactivate", "reactivate",
           "cancel", "cancel_assisted", "add_payment_method", "auto_renew_off", "auto_renew_on",
           "pay"]


@dataclass(frozen=True)
class Act:
    gap: int
    kind: str
    quantity: int
    back: int = 0  # days the act is backdated (its effective date before the day it is made)


acts = st.builds(Act, gap=st.integers(0, 70), kind=st.sampled_from(ACTIONS), quantity=quantities)


@dataclass(frozen=True)
class SubscriptionSpec:
    offer: int
    start_offset: int
    quantity: int
    trial: bool
    trial_days: int
    acts: list[Act]


subscription_specs = st.builds(
    SubscriptionSpec,
    offer=st.integers(0, 2),
    start_offset=st.integers(0, 60),
    quantity=st.integers(1, 40),
    trial=st.sampled_from([False, False, False, True]),
    trial_days=st.integers(1, 40),
    acts=st.lists(acts, max_size=8),
)


@dataclass(frozen=True)
class Lifetime:
    """One subscription's whole life: bought (or a trial started), acted on, and finally
    cancelled through the assisted channel ``end_gap`` days after its last act (and after
    its trial), so that everything it will ever be billed is billed within two months."""

    offer: OfferSpec
    start: date
    quantity: int
    trial: bool
    trial_days: int
    acts: list[Act]
    end_gap: int


#: Acts of a life that ends with its own cancellation: mostly license changes, rarely an
#: early cancellation (which would make every later act a refusal).
life_acts = st.builds(Act, gap=st.integers(0, 90), kind=st.sampled_from(
    ["change"] * 5 + ["suspend", "reactivate", "reactivate", "add_payment_method",
                      "auto_renew_off", "auto_renew_on", "cancel"]), quantity=quantities,
    back=st.sampled_from([0, 0, 0, 0, 1, 5, 20, 45]))

lifetimes = st.builds(
    Lifetime,
    offer=offer_specs,
    start=st.dates(min_value=date(2016, 1, 1), max_value=date(2028, 12, 31)),
    quantity=st.integers(1, 40),
    trial=st.sampled_from([False, False, False, True]),
    trial_days=st.integers(1, 40),
    acts=st.lists(life_acts, max_size=10),
    end_gap=st.integers(0, 400),
)


# ---------------------------------------------------------------------------- hostile input
# Values a careless or hostile caller may send: huge, tiny, NaN, markup, path separators,
# control characters, very long strings, wrong types. The ledger must refuse each with one
# of its own errors (or accept it, when it is within the bounds) and stay readable. Each
# value is mostly a good one (so that commands get far, and many are recorded), sometimes a
# hostile one.
MARKUP = ["[/x]", "[bold]x[/bold]", "[link=file:///etc/passwd]x[/link]", ":smile:", "\x1b[31mred"]
PATHS = ["../etc", "a/b", "a\\b", "..", ".", "/abs", "-rf", "--help", "C:\\x", "x/../../y"]
CONTROL = ["\x00", "a\nb", "\r", "\t", "\x7f", "\u2028", "\u200b", "\ud800"]
UNICODE = ["Ünïcödé", "名前", "e\u0301", "🙂"]
LONG = ["x" * 65, "x" * 201, "y" * 1000, "é" * 300]


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any],
           odds: int = 8) -> st.SearchStrategy[Any]:
    """``bad`` one time in ``odds``, else ``good``."""
    return st.integers(0, odds - 1).flatmap(lambda n: bad if n == odds - 1 else good)


hostile_text = st.one_of(
    st.sampled_from(["", " ", *MARKUP, *PATHS, *CONTROL, *UNICODE, *LONG]),
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=60, max_size=300),
)
valid_ids = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,20}", fullmatch=True)
#: Account, subscription and offer ids: mostly the ones the ledger holds, some new valid
#: ones (a markup-looking one too: ``[x]`` is no id), and hostile ones.
account_ids = mostly(st.sampled_from(["contoso", "contoso", "fabrikam", "a.b_c-1"]),
                     st.one_of(valid_ids, hostile_text))
subscription_ids = mostly(st.sampled_from(["S1", "S1", "S2", "S3"]),
                          st.one_of(valid_ids, hostile_text))
offer_ids = mostly(st.sampled_from(["e1", "e1", "jpy", "m1"]), st.one_of(valid_ids, hostile_text))
names = mostly(st.sampled_from(["Contoso Ltd", "[bold]x[/bold]", "[/x] :smile:", "名前 & <b>"]),
               hostile_text)
hostile_ints = st.one_of(
    st.sampled_from([0, -1, 1_000_000, 1_000_001, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64,
                     10**30, -(2**63) - 1]),
    st.integers(),
)
quantities_or_worse = mostly(st.integers(1, 40), hostile_ints)
DECIMAL_TEXTS = ["0", "-0", "-1", "0.015", "48.001", "1E+30", "1e-1000000", "1E+999999999", "NaN",
                 "sNaN", "-Infinity", "Infinity", "1000000000.01", "1000000000000.01", "12.5",
                 "1_000", " 5 ", "abc", "9" * 40, "0." + "0" * 40 + "1"]
amounts = mostly(st.sampled_from(["48.00", "48", "10.50", "0.01", "1000000000", "48.0000",
                                  "999999999999.99", "5000"]),
                 st.one_of(st.sampled_from(DECIMAL_TEXTS), st.decimals(allow_nan=True).map(str),
                           hostile_text))
DATE_TEXTS = ["2018-02-30", "2018-13-01", "0001-01-01", "9999-12-31", "1969-12-31", "3000-01-01",
              "2018-1-5", "20180115", "2018-W07-4", "15/02/2018", "", "2018-02-15T00:00:00",
              "today", "-1", "２０１８-０１-１５"]
INSTANT_TEXTS = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2018-02-30T00:00:00",
                 "2018-01-01T00:00:00+25:00", "2018-02-01T25:00:00", "1969-12-31T23:00:00-02:00"]
#: Days close to the ledger's own (early 2018), and hostile spellings.
near_days = st.dates(min_value=date(2017, 12, 20), max_value=date(2019, 12, 31))
date_texts = mostly(near_days.map(date.isoformat), st.one_of(st.sampled_from(DATE_TEXTS),
                                                             hostile_text))
currencies = mostly(st.sampled_from(["USD", "USD", "JPY", "KWD"]),
                    st.sampled_from(["usd", "US", "USDD", "€€€", "", "\x00", "[/x]"]))
locales = mostly(st.sampled_from(["en_US", "it-IT", "nb", "nl_NL"]),
                 st.sampled_from(["fr_FR", "xx", "", "\x00", "a" * 100, "[/x]", "../x"]))
hostile_billing_days = mostly(st.integers(1, 31), hostile_ints)
#: Things that are not what an API parameter expects.
wrong_types = st.sampled_from([None, 1.5, float("nan"), float("inf"), True, [], {}, b"bytes",
                               object(), Decimal("NaN"), date(2018, 1, 1), ("x",)])


def _maybe(option: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), values.map(lambda value: [option, value]))


def _always(option: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return values.map(lambda value: [option, value])


def _argv(*parts: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    return st.tuples(*parts).map(lambda pieces: [word for piece in pieces for word in piece])


def _one(values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return values.map(lambda value: [value])


def _text(values: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return mostly(values.map(str), hostile_text)


keys = mostly(st.just([]), _always("--idempotency-key",
                                   mostly(st.sampled_from(["k1", "k2", "k3"]), hostile_text)),
              odds=3)
#: An effective date: mostly none (today), else a near day or a hostile one.
when = mostly(st.just([]), _always("--date", date_texts), odds=3)
_account_sub = _argv(_one(account_ids), _one(subscription_ids))
_quantity = mostly(quantities_or_worse.map(str), hostile_text)

#: One ``billing-ledger`` command with careless or hostile values (after ``--``, so that a
#: value starting with ``-`` is a value). ``OUT`` stands for an output folder of the test's.
cli_commands = st.one_of(
    _argv(st.just(["define-offer"]), _always("--price", amounts), _always("--currency", currencies),
          st.sampled_from([["--term", "P1Y", "--billing", "annual"],
                           ["--term", "P1M", "--billing", "monthly"],
                           ["--term", "P1Y", "--billing", "monthly"]]),
          _always("--convention", st.sampled_from(["daily-rate", "exact"])),
          _maybe("--name", names), _maybe("--daily-rate-places", _text(hostile_ints)),
          _maybe("--refund-window-days", _text(hostile_ints)), keys, st.just(["--"]),
          _one(offer_ids)),
    _argv(st.just(["open-account"]), _always("--billing-day", _text(hostile_billing_days)),
          _maybe("--name", names), _maybe("--currency", currencies), _maybe("--locale", locales),
          when, keys, st.just(["--"]), _one(account_ids)),
    _argv(st.just(["purchase"]), _always("--offer", offer_ids), _always("--quantity", _quantity),
          st.sampled_from([[], [], ["--trial"]]), _maybe("--trial-days", _text(hostile_ints)),
          when, keys, st.just(["--"]), _account_sub),
    _argv(st.just(["change-quantity"]), when, keys, st.just(["--"]), _account_sub,
          _one(_quantity)),
    _argv(_one(st.sampled_from(["suspend", "reactivate", "add-payment-method"])), when, keys,
          st.just(["--"]), _account_sub),
    _argv(st.just(["cancel"]), _maybe("--channel", st.sampled_from(["online", "assisted", "x"])),
          when, keys, st.just(["--"]), _account_sub),
    _argv(st.just(["set-auto-renew"]), when, keys, st.just(["--"]), _account_sub,
          _one(st.sampled_from(["on", "off", "maybe"]))),
    _argv(st.just(["record-payment"]), _maybe("--reference", names), when, keys,
          st.just(["--"]), _one(account_ids), _one(amounts)),
    _argv(st.just(["bill", "--until"]), _one(date_texts)),
    _argv(st.just(["recon", "--out", "OUT", "--date"]),
          _one(mostly(st.sampled_from(["2018-01-15", "2018-02-15"]), date_texts)),
          _maybe("--account", account_ids)),
    _argv(st.just(["invoice", "--date"]),
          _one(mostly(st.sampled_from(["2018-01-15", "2018-02-15"]), date_texts)),
          _maybe("--account", account_ids),
          _maybe("--format", st.sampled_from(["text", "json", "html", "table"])),
          _maybe("--locale", locales)),
    _argv(st.just(["feed"]), _maybe("--after", _text(hostile_ints)),
          _maybe("--limit", _text(hostile_ints))),
    _argv(st.just(["preview", "--account"]), _one(account_ids)),
    _argv(st.just(["explain", "--"]), _one(mostly(st.just("contoso-20180115"), hostile_text)),
          _one(_text(mostly(st.integers(1, 3), hostile_ints)))),
    _argv(st.just(["history"]), _maybe("--as-of", date_texts),
          _maybe("--known-at", mostly(st.just("2018-02-01T00:00:00Z"), st.one_of(
              date_texts, st.sampled_from(INSTANT_TEXTS)))),
          st.just(["--"]), _account_sub),
)


@dataclass(frozen=True)
class CliStep:
    """A command, ``gap`` days after the previous one (``--today`` never goes back), now and
    then with a hostile ``--today`` or ``--partner-id`` of its own."""

    gap: int
    today: str | None
    partner_id: str | None
    argv: list[str]


cli_steps = st.builds(
    CliStep,
    gap=st.sampled_from([0, 0, 1, 3, 17, 40, 120, 365]),  # far enough for renewals too
    today=mostly(st.none(), date_texts, odds=12),
    partner_id=mostly(st.none(), hostile_text, odds=16),
    argv=cli_commands,
)


# ---------------------------------------------------------------------------- hostile API calls
@dataclass(frozen=True)
class Call:
    """A call of a ``Ledger`` method: its name and arguments."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def _decimal(text: str) -> Decimal | str:
    try:
        return Decimal(text)
    except ArithmeticError:
        return text


api_days = mostly(st.one_of(st.dates(min_value=date(2018, 1, 10), max_value=date(2018, 6, 30)),
                            st.dates(min_value=date(2018, 7, 1), max_value=date(2020, 3, 1))),
                  st.one_of(st.sampled_from([date.min, date.max, date(1969, 12, 31),
                                             date(3000, 1, 1)]),
                            st.datetimes(min_value=datetime(2018, 1, 1),
                                         max_value=datetime(2018, 3, 1)),
                            wrong_types, hostile_text))
api_optional_days = mostly(st.none(), api_days, odds=3)
api_accounts = mostly(account_ids, wrong_types)
api_subscriptions = mostly(subscription_ids, wrong_types)
api_quantities = mostly(quantities_or_worse, st.one_of(wrong_types, st.just("5"), st.just(5.0)))
api_amounts = mostly(amounts.map(_decimal), st.one_of(wrong_types, st.floats(), st.integers()))
api_keys = mostly(st.none(), mostly(st.sampled_from(["k1", "k2"]), st.one_of(hostile_text,
                                                                              wrong_types)), odds=3)
api_text = mostly(names, wrong_types)
api_flags = mostly(st.booleans(), wrong_types)


def _call(method: str, *args: st.SearchStrategy[Any], **kwargs: st.SearchStrategy[Any],
          ) -> st.SearchStrategy[Call]:
    return st.builds(Call, st.just(method), st.tuples(*args), st.fixed_dictionaries(kwargs))


_on_sub = {"effective_date": api_optional_days, "idempotency_key": api_keys}

#: One ``Ledger`` call with careless, hostile or wrongly typed values.
api_calls = st.one_of(
    _call("define_offer", st.builds(
        dict, offer_id=mostly(offer_ids, wrong_types), price=api_amounts,
        currency=mostly(currencies, wrong_types),
        term_billing=st.sampled_from([("P1Y", "annual"), ("P1M", "monthly"), ("P1M", "annual"),
                                      (1, "x")]),
        convention=mostly(st.sampled_from(["daily-rate", "exact"]), wrong_types),
        name=mostly(st.none(), api_text, odds=2),
        daily_rate_places=mostly(st.none(), mostly(st.integers(0, 10), hostile_ints), odds=3),
        refund_window_days=mostly(st.none(), mostly(st.integers(0, 366), hostile_ints), odds=3),
        raw=mostly(st.just(False), st.just(True), odds=6))),
    _call("open_account", api_accounts, billing_day=mostly(hostile_billing_days, wrong_types),
          name=mostly(st.none(), api_text, odds=2),
          currency=mostly(st.none(), mostly(currencies, wrong_types), odds=2),
          locale=mostly(st.none(), mostly(locales, wrong_types), odds=2), **_on_sub),
    _call("purchase", api_accounts, api_subscriptions, mostly(offer_ids, wrong_types),
          api_quantities, trial=mostly(st.just(False), api_flags, odds=3),
          trial_days=mostly(st.integers(1, 40), mostly(hostile_ints, wrong_types)),
          auto_renew=mostly(st.just(True), api_flags, odds=4), **_on_sub),
    _call("change_quantity", api_accounts, api_subscriptions, api_quantities, **_on_sub),
    *[_call(name, api_accounts, api_subscriptions, **_on_sub)
      for name in ("suspend", "reactivate", "add_payment_method")],
    _call("cancel", api_accounts, api_subscriptions,
          channel=mostly(st.sampled_from(["online", "assisted"]),
                         st.one_of(st.just("x"), wrong_types)), **_on_sub),
    _call("set_auto_renew", api_accounts, api_subscriptions, api_flags, **_on_sub),
    _call("record_payment", api_accounts, api_amounts,
          reference=mostly(st.just(""), api_text, odds=3), **_on_sub),
    _call("advance_to", api_days),
    _call("bill", api_optional_days),
    _call("run_due", api_optional_days),
    _call("invoices", mostly(st.none(), api_accounts, odds=2)),
    _call("subscriptions", api_accounts),
    _call("invoice", api_accounts, api_days),
    _call("invoice_text", api_accounts, api_days, mostly(st.none(), mostly(locales, wrong_types))),
    _call("invoice_html", api_accounts, api_days, mostly(st.none(), mostly(locales, wrong_types))),
    _call("reconciliation", api_accounts, api_days),
    _call("preview", api_accounts, api_optional_days),
    _call("next_billing_date", api_accounts),
    _call("explain", mostly(st.just("contoso-20180115"), st.one_of(hostile_text, wrong_types)),
          mostly(st.integers(1, 3), st.one_of(hostile_ints, wrong_types))),
    _call("history", api_accounts, api_subscriptions, as_of=api_optional_days,
          known_at=mostly(st.none(), st.one_of(
              st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)),
                                                      timezone(timedelta(hours=-14))])),
              st.datetimes(), wrong_types), odds=3)),
    _call("feed", mostly(st.integers(0, 50), st.one_of(hostile_ints, wrong_types)),
          mostly(st.none(), st.one_of(hostile_ints, wrong_types), odds=3)),
    _call("verify", mostly(st.none(), api_accounts, odds=2)),
    _call("journal_csv", api_optional_days, account=mostly(st.none(), api_accounts, odds=2)),
    _call("journal_beancount", api_optional_days),
    _call("trial_balance", api_optional_days, account=mostly(st.none(), api_accounts, odds=2)),
    _call("deferred_revenue", api_optional_days),
    _call("revenue", api_days, api_days),
    _call("explain_entry", mostly(st.sampled_from(["contoso-20180115:1",
                                                   "contoso-20180115:1:2018-01-16..2018-01-31",
                                                   "contoso:payment:4", "contoso-20180115:2"]),
                                  st.one_of(hostile_text, wrong_types))),
)


# --------------------------------------------------------------------------- the books
#: Currencies of 0, 2 and 3 places.
book_currencies = st.sampled_from(["USD", "JPY", "KWD"])


@st.composite
def journal_line_facts(draw: Any, account: str = "contoso", number: int = 1) -> Any:
    """An issued line as the books read it: any non-zero amount (credits too) in the
    currency's minor units, a service period of 1 to 800 days, invoiced up to two months
    before it starts or any time up to 900 days after."""
    currency = draw(book_currencies)
    minor = draw(st.integers(-50_000_000, 50_000_000).filter(bool))
    start = draw(st.dates(min_value=date(2016, 1, 1), max_value=date(2031, 12, 31)))
    days = draw(st.integers(1, 800))
    issued = start + timedelta(days=draw(st.integers(-60, 900)))
    return LineFact(account, f"{account}-{issued:%Y%m%d}", number, issued, "S1", currency,
                    Decimal(minor).scaleb(-currency_places(currency)), start,
                    start + timedelta(days=days - 1), (EventRef(account, number),))


@st.composite
def books(draw: Any) -> Any:
    """Lines and payments of a few accounts (each in one currency)."""
    lines, payments = [], []
    for number in range(1, draw(st.integers(1, 8)) + 1):
        lines.append(draw(journal_line_facts(account=f"a{number % 3}", number=number)))
    for version in range(1, draw(st.integers(0, 4)) + 1):
        currency = draw(book_currencies)
        payments.append(PaymentFact(
            f"a{version % 3}", version,
            draw(st.dates(min_value=date(2016, 1, 1), max_value=date(2034, 12, 31))), currency,
            Decimal(draw(st.integers(1, 10_000_000))).scaleb(-currency_places(currency))))
    return lines, payments


# --------------------------------------------------------------------------- documents
_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def invoice_lines(draw: Any, currency: str, number: int, subscription: str) -> Any:
    """A line as an issued invoice shows it: charges and credits, any charge type."""
    term_start = draw(start_dates)
    start = term_start + timedelta(days=draw(st.integers(0, 400)))
    places = currency_places(currency)

    def money(bound: int) -> Money:
        return Money(Decimal(draw(st.integers(-bound, bound))).scaleb(-places), currency)

    return InvoiceLine(
        number, f"L{number}", subscription, term_start,
        term_start + timedelta(days=draw(st.integers(0, 1100))), start,
        start + timedelta(days=draw(st.integers(0, 400))),
        draw(st.sampled_from(["new", "cycleCharge", "addQuantity", "removeQuantity", "cancel",
                              "renew"])),
        money(10**7), draw(quantities), money(10**9), draw(conventions),
        draw(st.none() | st.just("L1")),
        tuple(draw(st.lists(st.integers(1, 10**6), max_size=4))))


@st.composite
def issued_invoices(draw: Any) -> Any:
    """An issued invoice of one to three subscriptions with one to four lines each, in a
    currency of 0, 2 or 3 places (totals are not made to add up: what is tested is how a
    document's values reach other documents)."""
    currency = draw(book_currencies)
    groups, number = [], 0
    for index in range(draw(st.integers(1, 3))):
        key = f"S{index}"
        lines = []
        for _ in range(draw(st.integers(1, 4))):
            number += 1
            lines.append(draw(invoice_lines(currency, number, key)))
        info = SubscriptionInfo(key, draw(_names), draw(_names),
                                draw(st.sampled_from(["monthly", "annual"])), draw(_names))
        groups.append(SubscriptionGroup(info, tuple(lines), sum(
            (line.amount for line in lines), Money.zero(currency))))
    zero = Money.zero(currency)
    total = sum((group.subtotal for group in groups), zero)
    return Invoice(
        document_version=draw(st.sampled_from([1, 2])), invoice_number=draw(_names),
        account=draw(_names), account_name=draw(_names), billing_date=draw(start_dates),
        currency=currency, groups=tuple(groups), charges=total, credits=zero, total=total,
        balance_brought_forward=zero, payments_received=zero, amount_due=total, final_for=(),
        rules_version=1, log=LogPoint(1, "0" * 64), partner_id=draw(st.sampled_from(["", "P1"])))
