"""The commands the ledger takes, as values.

A command is a frozen dataclass: what is asked, with the names and defaults every entry
point uses. The application handles it (``BillingApplication.handle``) in one place: its
idempotency fingerprint is derived from the value, and its handler checks it against the
aggregates and records what it decides. The ``Ledger`` facade, the command line and the
scenario player build these values instead of repeating their signatures.

Adding a command: its value here (with a line in :class:`CommandMethods`, which gives it a
typed method on the application and the facade), its handler in ``ledger/application.py``,
and one line on the command line (``billing_ledger/cli.py``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Generic, ParamSpec, TypeVar, cast, overload
from uuid import UUID

from ledger.offers import OfferTerms
from ledger.subscription import DEFAULT_TRIAL_DAYS, Channel

R = TypeVar("R")
P = ParamSpec("P")


@dataclass(frozen=True, kw_only=True)
class Command(Generic[R]):
    """What every command carries: an optional idempotency key. A repeat with the same key
    and the same value returns the first result and records nothing; the same key with
    another value is refused (``IdempotencyConflict``)."""

    #: The command's name (idempotency records and scenario files use it).
    kind: ClassVar[str]
    idempotency_key: str | None = None

    def payload(self) -> dict[str, Any]:
        """What the command asks (everything but its idempotency key): its fingerprint."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "idempotency_key"}

    def result(self, recorded: str | None) -> R:
        """The command's result from what its handler (or its idempotency record) returned."""
        return cast(R, None)


@dataclass(frozen=True)
class DefineOffer(Command[None]):
    """Add an offer to the catalog, or revise its terms for new purchases and renewals (a
    revision keeps the offer's currency)."""

    kind = "define_offer"
    terms: OfferTerms


@dataclass(frozen=True)
class OpenAccount(Command[None]):
    """Open a billing account, cut on ``billing_day`` (1-31, clamped to short months); its
    invoices read in ``locale`` (en_US, it_IT, nl_NL or nb_NO)."""

    kind = "open_account"
    account: str
    _: KW_ONLY
    billing_day: int
    name: str | None = None
    currency: str | None = None
    locale: str | None = None
    effective_date: date | None = None


@dataclass(frozen=True)
class RecordPayment(Command[None]):
    """Record a payment received from an account (in its currency's places)."""

    kind = "record_payment"
    account: str
    amount: Decimal
    _: KW_ONLY
    effective_date: date | None = None
    reference: str = ""


@dataclass(frozen=True)
class Purchase(Command[UUID]):
    """Buy ``quantity`` licenses of ``offer`` as a new subscription (or start a trial of it);
    returns the subscription's aggregate id."""

    kind = "purchase"
    account: str
    subscription: str
    offer: str
    quantity: int
    _: KW_ONLY
    effective_date: date | None = None
    trial: bool = False
    trial_days: int = DEFAULT_TRIAL_DAYS
    auto_renew: bool = True

    def result(self, recorded: str | None) -> UUID:
        assert recorded is not None
        return UUID(recorded)


@dataclass(frozen=True)
class SubscriptionCommand(Command[None]):
    """A command on one subscription of an account."""

    account: str
    subscription: str


@dataclass(frozen=True)
class ChangeQuantity(SubscriptionCommand):
    """Set the number of licenses (the new total, not a delta)."""

    kind = "change_quantity"
    quantity: int
    _: KW_ONLY
    effective_date: date | None = None


@dataclass(frozen=True)
class Suspend(SubscriptionCommand):
    """Suspend a subscription: it owes nothing until it is reactivated."""

    kind = "suspend"
    _: KW_ONLY
    effective_date: date | None = None


@dataclass(frozen=True)
class Reactivate(SubscriptionCommand):
    """Reactivate a suspended subscription."""

    kind = "reactivate"
    _: KW_ONLY
    effective_date: date | None = None


@dataclass(frozen=True)
class Cancel(SubscriptionCommand):
    """Cancel for good; ``online`` needs fewer than 25 licenses, ``assisted`` always may."""

    kind = "cancel"
    _: KW_ONLY
    channel: str | Channel = Channel.ONLINE.value
    effective_date: date | None = None


@dataclass(frozen=True)
class AddPaymentMethod(SubscriptionCommand):
    """Add a payment method (a trial then converts to paid at its end)."""

    kind = "add_payment_method"
    _: KW_ONLY
    effective_date: date | None = None


@dataclass(frozen=True)
class SetAutoRenew(SubscriptionCommand):
    """Turn auto-renew on or off."""

    kind = "set_auto_renew"
    enabled: bool
    _: KW_ONLY
    effective_date: date | None = None


#: Every command, by name.
COMMANDS: dict[str, type[Command[Any]]] = {
    cls.kind: cls for cls in (DefineOffer, OpenAccount, RecordPayment, Purchase, ChangeQuantity,
                              Suspend, Reactivate, Cancel, AddPaymentMethod, SetAutoRenew)
}


class command_method(Generic[P, R]):
    """A typed method that builds a command from its arguments and handles it:
    ``purchase = command_method(Purchase)`` gives ``obj.purchase(account, subscription,
    offer, quantity, *, ...)``, with the command's own signature (for type checkers and
    ``help()``) and documentation."""

    def __init__(self, command: Callable[P, Command[R]]) -> None:
        self.command = command
        self.__doc__ = command.__doc__

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> command_method[P, R]: ...

    @overload
    def __get__(self, obj: object, owner: type[Any]) -> Callable[P, R]: ...

    def __get__(self, obj: object, owner: type[Any]) -> command_method[P, R] | Callable[P, R]:
        if obj is None:
            return self
        handle: Callable[[Command[R]], R] = obj.handle  # type: ignore[attr-defined]
        command = self.command

        def method(*args: P.args, **kwargs: P.kwargs) -> R:
            return handle(command(*args, **kwargs))

        method.__doc__ = command.__doc__
        method.__name__ = getattr(command, "kind", "command")
        method.__signature__ = inspect.signature(command)  # type: ignore[attr-defined]
        return method


class CommandMethods:
    """A typed method per command, for whatever can :meth:`handle` them (the application,
    the ``Ledger`` facade): ``obj.purchase(...)`` is ``obj.handle(Purchase(...))``."""

    def handle(self, command: Command[R]) -> R:
        raise NotImplementedError

    define_offer = command_method(DefineOffer)
    open_account = command_method(OpenAccount)
    record_payment = command_method(RecordPayment)
    purchase = command_method(Purchase)
    change_quantity = command_method(ChangeQuantity)
    suspend = command_method(Suspend)
    reactivate = command_method(Reactivate)
    cancel = command_method(Cancel)
    add_payment_method = command_method(AddPaymentMethod)
    set_auto_renew = command_method(SetAutoRenew)
