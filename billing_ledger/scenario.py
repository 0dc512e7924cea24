"""Scenario files (format 1): parse, validate, play against a ledger, compare with ``expect``.

A scenario describes one billing account, its offers and dated actions (see
``docs/reference/scenario-format.md``). :func:`parse` checks everything it can without a
ledger; :func:`play` applies the actions with a test clock, advancing through every
anniversary and billing date up to ``until``. Either raises :class:`ScenarioError`, which
names the action (by its 1-based position) and the field at fault.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ledger import bounds
from ledger.bounds import shown
from ledger.charges import normalise_charge_type
from ledger.commands import (
    AddPaymentMethod,
    Cancel,
    ChangeQuantity,
    Command,
    Purchase,
    Reactivate,
    SetAutoRenew,
    Suspend,
)
from ledger.errors import (
    DuplicateSubscription,
    EffectiveDateInFuture,
    EffectiveDateOutOfOrder,
    InvalidInput,
    InvalidQuantity,
    LedgerError,
    NothingToChange,
    OnlineCancellationRefused,
    UnknownOffer,
    UnknownSubscription,
)
from ledger.locales import normalise
from ledger.money import format_money, parse_decimal
from ledger.offers import OfferTerms

FORMAT = 1
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: A scenario's actions are the commands on one subscription, by name; each action's
#: fields are the command's, besides the account (the scenario's), the subscription and the
#: date (every action's).
ACTIONS: dict[str, Any] = {  # name -> a command class on one subscription
    command.kind: command for command in (Purchase, ChangeQuantity, Suspend, Reactivate, Cancel,
                                          AddPaymentMethod, SetAutoRenew)
}
_CONTEXT = {"account", "subscription", "effective_date", "idempotency_key", "_"}


def _fields_of(command: type[Command[Any]]) -> tuple[set[str], set[str]]:
    """(required fields, optional fields) of an action."""
    own = [f for f in fields(command) if f.name not in _CONTEXT]
    return ({f.name for f in own if f.default is MISSING},
            {f.name for f in own if f.default is not MISSING})


ACTION_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    name: _fields_of(command) for name, command in ACTIONS.items()
}
EXPECT_FIELDS = ("subscription", "start", "end", "charge_type", "unit_price", "quantity", "amount")


class ScenarioError(InvalidInput):
    """The scenario itself is invalid: names where (action position) and which field."""

    def __init__(self, source: str, where: str, field_name: str | None, message: str) -> None:
        self.source = source
        self.where = where
        self.field = field_name
        self.message = message
        at = f", field '{field_name}'" if field_name else ""
        super().__init__(f"{source}: {where}{at}: {message}")


@dataclass(frozen=True)
class Action:
    position: int
    day: date
    action: str
    subscription: str
    fields: Mapping[str, Any]

    def describe(self) -> str:
        return f"action {self.position} ({self.action} {self.subscription} on {self.day.isoformat()})"


@dataclass(frozen=True)
class ExpectedLine:
    subscription: str
    start: date
    end: date
    charge_type: str
    unit_price: Decimal
    quantity: int
    amount: Decimal

    def key(self) -> tuple[Any, ...]:
        return (self.subscription, self.start, self.end, normalise_charge_type(self.charge_type),
                self.unit_price, self.quantity, self.amount)

    def describe(self, currency: str = "USD") -> str:
        return (
            f"{self.subscription} {self.start.isoformat()}..{self.end.isoformat()} "
            f"{self.charge_type} {format_money(self.unit_price, currency)} x {self.quantity} = "
            f"{format_money(self.amount, currency)}"
        )


@dataclass(frozen=True)
class Scenario:
    source: str
    account: str
    account_name: str
    billing_day: int
    offers: Mapping[str, OfferTerms]
    actions: tuple[Action, ...]
    until: date
    expect: Mapping[date, tuple[ExpectedLine, ...]] | None
    warnings: tuple[str, ...] = field(default=())
    locale: str | None = None

    @property
    def start(self) -> date:
        return self.actions[0].day if self.actions else self.until


# ---------------------------------------------------------------------------- parsing
class _DecimalLoader(yaml.SafeLoader):
    """YAML with floats read as ``Decimal`` from their text (``48.00`` stays exact)."""


def _decimal_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | str:
    """A YAML float as a ``Decimal`` from its text; one with no decimal spelling (``.nan``,
    ``.inf``, ``1:30.5``) stays text, so the field's check names it."""
    text = str(loader.construct_scalar(node))
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        return text


def _lenient_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """A date-looking value that is no date (2018-02-30) stays text, so the field check can
    name it instead of the YAML parser failing."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal_float)
_DecimalLoader.add_constructor("tag:yaml.org,2002:timestamp", _lenient_timestamp)


def load(path: str | os.PathLike[str]) -> Scenario:
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(source, "file", None, f"cannot read it: {error.strerror}") from None
    return parse(text, source)


def parse(text: str, source: str = "<scenario>") -> Scenario:
    try:
        data = yaml.load(text, Loader=_DecimalLoader)
    except yaml.YAMLError as error:
        raise ScenarioError(source, "document", None, _yaml_problem(error)) from None
    except RecursionError:
        raise ScenarioError(source, "document", None, "nested too deeply") from None
    return _Parser(source).scenario(data)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error in one line: where, and what."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    what = getattr(error, "problem", None) or getattr(error, "context", None) or str(error)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"not valid YAML{where}: {' '.join(str(what).split())}"


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.warnings: list[str] = []

    def fail(self, where: str, field_name: str | None, message: str) -> ScenarioError:
        return ScenarioError(self.source, where, field_name, message)

    def bounded(self, check: Callable[..., Any], value: Any, where: str, field_name: str,
                *args: Any) -> Any:
        """``check(value, field_name, *args)`` from :mod:`ledger.bounds`, its refusal as a
        scenario error naming the field."""
        try:
            return check(value, field_name, *args)
        except InvalidInput as error:
            message = str(error).removeprefix(f"{field_name} ")  # the error names the field
            raise self.fail(where, field_name, message) from None

    def mapping(self, value: Any, where: str, field_name: str | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, field_name, f"must be a mapping, got {_kind(value)}")
        return value

    def require(self, data: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in data or data[key] is None:
            raise self.fail(where, key, "is missing")
        return data[key]

    def text(self, value: Any, where: str, field_name: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
            raise self.fail(where, field_name, f"must be a non-empty string, got {shown(value)}")
        return str(value)

    def identifier(self, value: Any, where: str, field_name: str) -> str:
        return str(self.bounded(bounds.identifier, self.text(value, where, field_name), where,
                                field_name))

    def integer(self, value: Any, where: str, field_name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, field_name, f"must be a whole number, got {shown(value)}")
        return value

    def boolean(self, value: Any, where: str, field_name: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, field_name, f"must be true or false, got {shown(value)}")
        return value

    def day(self, value: Any, where: str, field_name: str) -> date:
        if isinstance(value, datetime):
            raise self.fail(where, field_name, f"must be a date (YYYY-MM-DD), not a time: {value}")
        if isinstance(value, date):
            return value
        if isinstance(value, str) and ISO_DATE.fullmatch(value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                raise self.fail(where, field_name, f"no such day: {value.strip()}") from None
        raise self.fail(where, field_name,
                        f"must be a date in ISO 8601 (YYYY-MM-DD), got {shown(value)}")

    def business_day(self, value: Any, where: str, field_name: str) -> date:
        """A date an action happens on or the ledger runs through (within the bounds)."""
        day: date = self.bounded(bounds.business_date, self.day(value, where, field_name), where,
                                 field_name)
        return day

    def money(self, value: Any, where: str, field_name: str) -> Decimal:
        try:
            return parse_decimal(value, field_name)
        except ValueError as error:
            raise self.fail(where, field_name, str(error)) from None

    def extra_keys(self, data: Mapping[str, Any], known: set[str], where: str) -> None:
        for key in data:
            if key not in known:
                self.warnings.append(f"{self.source}: {where}: unknown field {key!r} ignored")

    # -------------------------------------------------------------------- sections
    def scenario(self, data: Any) -> Scenario:
        top = self.mapping(data, "document")
        version = self.require(top, "format", "document")
        if version != FORMAT:
            raise self.fail("document", "format", f"must be {FORMAT}, got {version!r}")
        self.extra_keys(top, {"format", "account", "offers", "actions", "until", "expect",
                              "name", "description"}, "document")
        account = self.mapping(self.require(top, "account", "document"), "account")
        account_id = self.identifier(self.require(account, "id", "account"), "account", "id")
        billing_day = self.integer(self.require(account, "billing_day", "account"), "account",
                                   "billing_day")
        if not 1 <= billing_day <= 31:
            raise self.fail("account", "billing_day", f"must be from 1 to 31, got {shown(billing_day)}")
        name = account.get("name")
        account_name = (self.bounded(bounds.name, self.text(name, "account", "name"), "account",
                                     "name") if name is not None else account_id)
        locale = account.get("locale")
        if locale is not None:
            try:
                locale = normalise(self.text(locale, "account", "locale"))
            except InvalidInput as error:
                raise self.fail("account", "locale", str(error)) from None
        self.extra_keys(account, {"id", "name", "billing_day", "locale"}, "account")
        offers = self.offers(self.require(top, "offers", "document"))
        actions = self.actions(self.require(top, "actions", "document"), offers)
        until = self.business_day(self.require(top, "until", "document"), "document", "until")
        if actions and until < actions[-1].day:
            raise self.fail("document", "until", f"{until.isoformat()} is before the last action's "
                            f"date {actions[-1].day.isoformat()}")
        expect = self.expect(top.get("expect"))
        return Scenario(
            source=self.source, account=account_id, account_name=account_name,
            billing_day=billing_day, offers=offers, actions=actions, until=until,
            expect=expect, warnings=tuple(self.warnings), locale=locale,
        )

    def offers(self, value: Any) -> dict[str, OfferTerms]:
        offers = self.mapping(value, "offers")
        if not offers:
            raise self.fail("offers", None, "at least one offer is needed")
        result: dict[str, OfferTerms] = {}
        known = {"name", "price", "currency", "term", "billing", "convention",
                 "daily_rate_places", "refund_window_days", "rounding"}
        for offer_id, spec in offers.items():
            where = f"offer {offer_id!r}"
            spec = self.mapping(spec, where)
            for key in ("price", "currency", "term", "billing", "convention"):
                self.require(spec, key, where)
            self.extra_keys(spec, known, where)
            try:
                result[str(offer_id)] = OfferTerms.create(
                    str(offer_id),
                    name=spec.get("name"),
                    price=spec["price"],
                    currency=spec["currency"],
                    term=spec["term"],
                    billing=spec["billing"],
                    convention=spec["convention"],
                    daily_rate_places=spec.get("daily_rate_places"),
                    refund_window_days=spec.get("refund_window_days"),
                    rounding=spec.get("rounding", "half-up"),
                )
            except InvalidInput as error:
                raise self.fail(where, _field_named_in(str(error), known), str(error)) from None
        return result

    def actions(self, value: Any, offers: Mapping[str, OfferTerms]) -> tuple[Action, ...]:
        if not isinstance(value, list):
            raise self.fail("actions", None, f"must be a list, got {_kind(value)}")
        result: list[Action] = []
        for index, raw in enumerate(value, start=1):
            where = f"action {index}"
            item = self.mapping(raw, where)
            day = self.business_day(self.require(item, "date", where), where, "date")
            kind = self.text(self.require(item, "action", where), where, "action")
            if kind not in ACTION_FIELDS:
                raise self.fail(where, "action", f"unknown action {kind!r}; one of "
                                f"{', '.join(ACTION_FIELDS)}")
            subscription = self.identifier(self.require(item, "subscription", where), where,
                                           "subscription")
            required, optional = ACTION_FIELDS[kind]
            fields = {k: v for k, v in item.items() if k not in {"date", "action", "subscription"}}
            for key in fields:
                if key not in required | optional:
                    raise self.fail(where, key, f"is not a field of {kind}")
            for key in required:
                self.require(item, key, where)
            checked = self.action_fields(kind, fields, where, offers)
            if result and day < result[-1].day:
                raise self.fail(where, "date", f"{day.isoformat()} is before the previous "
                                f"action's date {result[-1].day.isoformat()}; dates never go back")
            result.append(Action(index, day, kind, subscription, checked))
        return tuple(result)

    def action_fields(self, kind: str, fields: Mapping[str, Any], where: str,
                      offers: Mapping[str, OfferTerms]) -> dict[str, Any]:
        checked: dict[str, Any] = {}
        for key, value in fields.items():
            if key == "quantity":
                checked[key] = self.bounded(bounds.quantity, self.integer(value, where, key),
                                            where, key)
            elif key == "offer":
                offer = self.text(value, where, key)
                if offer not in offers:
                    raise self.fail(where, key, f"unknown offer {offer!r}; the scenario defines "
                                    f"{', '.join(offers)}")
                checked[key] = offer
            elif key in {"trial", "auto_renew", "enabled"}:
                checked[key] = self.boolean(value, where, key)
            elif key == "trial_days":
                checked[key] = self.bounded(bounds.whole, self.integer(value, where, key), where,
                                            key, 1, bounds.TRIAL_DAYS_MAX)
            elif key == "channel":
                channel = self.text(value, where, key)
                if channel not in {"online", "assisted"}:
                    raise self.fail(where, key, f"must be online or assisted, got {channel!r}")
                checked[key] = channel
        return checked

    def expect(self, value: Any) -> dict[date, tuple[ExpectedLine, ...]] | None:
        if value is None:
            return None
        expect = self.mapping(value, "expect")
        result: dict[date, tuple[ExpectedLine, ...]] = {}
        for raw_day, lines in expect.items():
            day = self.day(raw_day, "expect", "billing date")
            where = f"expect {day.isoformat()}"
            if lines is None:
                lines = []
            if not isinstance(lines, list):
                raise self.fail(where, None, f"must be a list of lines, got {_kind(lines)}")
            parsed: list[ExpectedLine] = []
            for number, raw in enumerate(lines, start=1):
                line_where = f"{where} line {number}"
                item = self.mapping(raw, line_where)
                for key in EXPECT_FIELDS:
                    self.require(item, key, line_where)
                self.extra_keys(item, set(EXPECT_FIELDS), line_where)
                parsed.append(ExpectedLine(
                    subscription=self.text(item["subscription"], line_where, "subscription"),
                    start=self.day(item["start"], line_where, "start"),
                    end=self.day(item["end"], line_where, "end"),
                    charge_type=self.text(item["charge_type"], line_where, "charge_type"),
                    unit_price=self.money(item["unit_price"], line_where, "unit_price"),
                    quantity=self.integer(item["quantity"], line_where, "quantity"),
                    amount=self.money(item["amount"], line_where, "amount"),
                ))
            result[day] = tuple(parsed)
        return result


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _field_named_in(message: str, known: set[str]) -> str | None:
    for name in sorted(known, key=len, reverse=True):
        if f": {name}" in message:
            return name
    return None


# ---------------------------------------------------------------------------- playing
_ERROR_FIELDS: tuple[tuple[type[Exception], str], ...] = (
    (InvalidQuantity, "quantity"),
    (UnknownOffer, "offer"),
    (UnknownSubscription, "subscription"),
    (DuplicateSubscription, "subscription"),
    (EffectiveDateOutOfOrder, "date"),
    (EffectiveDateInFuture, "date"),
    (OnlineCancellationRefused, "channel"),
)


def _field_for(error: Exception, action: Action) -> str:
    for kind, name in _ERROR_FIELDS:
        if isinstance(error, kind):
            return name
    if isinstance(error, NothingToChange):
        return next((key for key in ("quantity", "enabled") if key in action.fields), "action")
    return "action"


def play(scenario: Scenario, ledger: Any) -> None:
    """Apply the scenario's actions to ``ledger`` (a ``Ledger`` or ``BillingApplication`` with a
    ``TestClock``), then run everything due through ``until``."""
    for terms in scenario.offers.values():
        ledger.define_offer(terms)
    ledger.open_account(
        scenario.account, billing_day=scenario.billing_day, name=scenario.account_name,
        effective_date=scenario.start, locale=scenario.locale,
    )
    for action in scenario.actions:
        ledger.advance_to(action.day)
        try:
            ledger.handle(ACTIONS[action.action](account=scenario.account,
                                                  subscription=action.subscription,
                                                  effective_date=action.day, **action.fields))
        except LedgerError as error:
            raise ScenarioError(scenario.source, action.describe(), _field_for(error, action),
                                str(error)) from error
    if scenario.until > ledger.clock.today():
        ledger.advance_to(scenario.until)
    ledger.run_due(scenario.until)


# ---------------------------------------------------------------------------- comparing
def compare(
    scenario: Scenario, produced: Mapping[date, Sequence[ExpectedLine]], currency: str = "USD"
) -> list[str]:
    """Readable differences between ``expect`` and the produced lines (empty: they match).

    Only the billing dates ``expect`` names are checked; an empty list means that date must
    hold no line. Lines match on every field, charge types ignoring case; order is free.
    """
    if not scenario.expect:
        return []
    diff: list[str] = []
    for day, wanted in sorted(scenario.expect.items()):
        got = list(produced.get(day, ()))
        missing = Counter(line.key() for line in wanted) - Counter(line.key() for line in got)
        extra = Counter(line.key() for line in got) - Counter(line.key() for line in wanted)
        if not missing and not extra:
            continue
        diff.append(f"billing date {day.isoformat()}:")
        for line in wanted:
            if missing[line.key()] > 0:
                missing[line.key()] -= 1
                diff.append(f"  - expected, not produced: {line.describe(currency)}")
        for line in got:
            if extra[line.key()] > 0:
                extra[line.key()] -= 1
                diff.append(f"  + produced, not expected: {line.describe(currency)}")
    return diff


def lines_of(document: Mapping[str, Any]) -> list[ExpectedLine]:
    """An issued invoice's lines in the shape of ``expect``."""
    return [
        ExpectedLine(
            subscription=line["subscription"],
            start=date.fromisoformat(line["start"]),
            end=date.fromisoformat(line["end"]),
            charge_type=line["charge_type"],
            unit_price=Decimal(line["unit_price"]),
            quantity=int(line["quantity"]),
            amount=Decimal(line["amount"]),
        )
        for group in document["subscriptions"]
        for line in group["lines"]
    ]


def warn(scenario: Scenario) -> None:
    for message in scenario.warnings:
        print(f"warning: {message}", file=sys.stderr)
