"""The catalog (offers and their terms), the registry of billing accounts, and the
records that make commands idempotent."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger import ids
from ledger.aggregate import LedgerAggregate
from ledger.errors import InvalidOffer, NothingToChange
from ledger.offers import OfferTerms


class Offer(LedgerAggregate):
    """An offer in the catalog. Revising it changes what new purchases and renewals pay;
    subscriptions already running keep the terms they bought."""

    class_version = 1  # of its snapshots' state: a change adds an upcast_vN_vM method

    class Defined(Aggregate.Created):
        class_version = 1
        offer_id: str
        terms: OfferTerms

    class Revised(Aggregate.Event):
        class_version = 1
        terms: OfferTerms

    @staticmethod
    def create_id(offer_id: str) -> UUID:
        return ids.offer_id(offer_id)

    @event(Defined)
    def __init__(self, offer_id: str, terms: OfferTerms, timestamp: datetime) -> None:
        self.offer_id = offer_id
        self.terms = terms

    def revise(self, terms: OfferTerms, *, recorded_at: datetime) -> None:
        """New terms for new purchases and renewals. The currency cannot change: an account
        is billed in one currency, so subscribers could not renew into another (define a new
        offer instead). Anything else may change (see :func:`ledger.offers.renewal_terms`)."""
        if terms == self.terms:
            raise NothingToChange(f"offer {self.offer_id} already has these terms")
        if terms.currency != self.terms.currency:
            raise InvalidOffer(
                f"offer {self.offer_id} is priced in {self.terms.currency}; a revision cannot "
                f"change its currency to {terms.currency} (its subscriptions renew in "
                f"{self.terms.currency}): define a new offer for {terms.currency}"
            )
        self._revised(terms=terms, timestamp=recorded_at)

    @event(Revised)
    def _revised(self, terms: OfferTerms, timestamp: datetime) -> None:
        self.terms = terms


class AccountRegistry(LedgerAggregate):
    """Every billing account's key, in the order they were opened (the scheduler's list)."""

    class_version = 1  # of its snapshots' state: a change adds an upcast_vN_vM method

    _containers = ("accounts",)

    class Started(Aggregate.Created):
        class_version = 1

    class AccountRegistered(Aggregate.Event):
        class_version = 1
        key: str

    @staticmethod
    def create_id() -> UUID:
        return ids.registry_id()

    @event(Started)
    def __init__(self, timestamp: datetime) -> None:
        self.accounts: list[str] = []

    def register(self, key: str, *, recorded_at: datetime) -> None:
        self._registered(key=key, timestamp=recorded_at)

    @event(AccountRegistered)
    def _registered(self, key: str, timestamp: datetime) -> None:
        self.accounts.append(key)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, Decimal)):
        return str(value)
    return value


def command_fingerprint(command: str, payload: dict[str, Any]) -> str:
    """A stable digest of a command and its arguments (as given, before defaults)."""
    # (A value of a type no command takes still gets a digest: the command then refuses it.)
    text = json.dumps({"command": command, "payload": _plain(payload)}, sort_keys=True,
                      default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


class IdempotencyRecord(LedgerAggregate):
    """The first outcome of a command sent with an idempotency key, saved atomically with
    the command's own events: a repeat finds it and returns the same result."""

    class_version = 1  # of its snapshots' state: a change adds an upcast_vN_vM method

    class Recorded(Aggregate.Created):
        class_version = 1
        key: str
        command: str
        fingerprint: str
        result: str | None

    @staticmethod
    def create_id(key: str) -> UUID:
        return ids.idempotency_id(key)

    @event(Recorded)
    def __init__(self, key: str, command: str, fingerprint: str, result: str | None,
                 timestamp: datetime) -> None:
        self.key = key
        self.command = command
        self.fingerprint = fingerprint
        self.result = result
