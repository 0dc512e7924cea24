"""The write routes, generated from the command values (:mod:`ledger.commands`).

Each command is one ``POST /api/v1/commands/<name>`` whose JSON body is the command's
fields (by the same names, with the same defaults) and whose ``Idempotency-Key`` header is
its idempotency key. A new command in ``ledger.commands.COMMANDS`` gets its route, its
request schema and its place in the OpenAPI document with no code here, unless a field has
a type this module does not know yet (then :func:`json_type` says so at start-up).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Header
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, create_model

from billing_ledger.server import models
from ledger.commands import COMMANDS, Command, DefineOffer
from ledger.offers import OfferTerms
from ledger.subscription import Channel

#: The commands that create something answer 201 Created; the others 200 OK.
CREATES = {"define_offer", "open_account", "purchase"}
_FIELD_HELP = {
    "effective_date": "the business date it takes effect (default: the server's today)",
    "account": "the account's id (1-64 characters from A-Z a-z 0-9 . _ -, not starting "
               "with . or -)",
    "subscription": "the subscription's id within its account (the same characters)",
    "offer": "the offer's id", "quantity": "licenses: a whole number 1-1,000,000 (for a change: the new "
    "total, not a difference)", "billing_day": "the day of the month invoices are cut, 1-31 "
    "(clamped to short months)", "name": "1-200 printable characters (default: the id)",
    "currency": "ISO 4217 code (default: the first purchase's)",
    "locale": "the language of its invoices: en_US, it_IT, nl_NL or nb_NO",
    "amount": "a decimal string, above 0, in the account's currency's places",
    "reference": "0-200 printable characters", "trial": "start as a trial",
    "trial_days": "the trial's length, 1-365 days", "auto_renew": "renew at the term's end",
    "enabled": "auto-renew on (true) or off (false)",
    "channel": "online (fewer than 25 licenses) or assisted",
}


def json_type(hint: Any, where: str) -> Any:
    """The JSON (pydantic) type of a command field's type: strict (a quantity is a JSON
    number, never ``"3"`` or ``3.5``), money as a decimal string."""
    if hint is str:
        return StrictStr
    if hint is int:
        return StrictInt
    if hint is bool:
        return StrictBool
    if hint is date:
        return models.IsoDate
    if hint is Decimal:
        return models.Money
    if hint == (str | Channel):
        return Literal["online", "assisted"]
    args = typing.get_args(hint)
    if type(None) in args and len(args) == 2:
        (inner,) = [arg for arg in args if arg is not type(None)]
        return json_type(inner, where) | None
    raise TypeError(f"{where}: no JSON type for {hint!r}; teach billing_ledger.server.commands")


@dataclass(frozen=True)
class CommandRoute:
    """One command's route: its name and path, its request model, and how a body becomes
    the command."""

    name: str
    command: type[Command[Any]]
    body: type[BaseModel]
    build: Callable[[BaseModel, str | None], Command[Any]]

    @property
    def path(self) -> str:
        return f"/commands/{self.name.replace('_', '-')}"

    @property
    def status(self) -> int:
        return 201 if self.name in CREATES else 200

    @property
    def summary(self) -> str:
        return (self.command.__doc__ or self.name).replace("``", "`").split("\n\n")[0]


def _body_model(command: type[Command[Any]]) -> type[BaseModel]:
    hints = typing.get_type_hints(command)
    spec: dict[str, Any] = {}
    for f in fields(command):
        if f.name == "idempotency_key":
            continue
        kind = json_type(hints[f.name], f"{command.__name__}.{f.name}")
        default = ... if f.default is MISSING else f.default
        spec[f.name] = (kind, Field(default, description=_FIELD_HELP.get(f.name)))
    model: type[BaseModel] = create_model(
        f"{command.__name__}Body", __config__=ConfigDict(extra="forbid"),
        __doc__=(command.__doc__ or "").replace("``", "`"), **spec)
    return model


def _generic(command: type[Command[Any]]) -> CommandRoute:
    hints = typing.get_type_hints(command)

    def build(body: BaseModel, key: str | None) -> Command[Any]:
        values = dict(body)
        for name, value in values.items():
            if hints[name] is Decimal or hints[name] == (Decimal | None):
                values[name] = None if value is None else Decimal(value)
        return command(**values, idempotency_key=key)

    return CommandRoute(command.kind, command, _body_model(command), build)


def _define_offer(body: BaseModel, key: str | None) -> Command[Any]:
    assert isinstance(body, models.OfferBody)
    terms = body.model_dump()
    return DefineOffer(OfferTerms.create(terms.pop("offer_id"), **terms), idempotency_key=key)


def routes() -> list[CommandRoute]:
    """One route per command, in the order of ``COMMANDS``."""
    made = []
    for name, command in COMMANDS.items():
        if command is DefineOffer:  # its one field is the offer's terms: the body is them
            made.append(CommandRoute(name, command, models.OfferBody, _define_offer))
        else:
            made.append(_generic(command))
    return made


IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", description="Repeat-safe: the same key and body again return the "
    "first result and record nothing; the same key with another body is refused (409).")]


def endpoint(route: CommandRoute, handle: Callable[[Command[Any]], Any]) -> Callable[..., Any]:
    """The route's function, typed for FastAPI: ``(body, Idempotency-Key) -> CommandResult``."""

    def call(body: BaseModel, idempotency_key: str | None = None) -> models.CommandResult:
        result = handle(route.build(body, idempotency_key))
        return models.CommandResult(command=route.name,
                                    result=None if result is None else str(result),
                                    idempotency_key=idempotency_key)

    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=route.body),
         inspect.Parameter("idempotency_key", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                           default=None, annotation=IdempotencyKey)],
        return_annotation=models.CommandResult)
    call.__name__ = route.name
    return call
