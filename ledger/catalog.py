"""The catalog: offers and their terms, and the registry of billing accounts."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger import ids
from ledger.aggregate import LedgerAggregate
from ledger.errors import NothingToChange
from ledger.offers import OfferTerms


class Offer(LedgerAggregate):
    """An offer in the catalog. Revising it changes what new purchases and renewals pay;
    subscriptions already running keep the terms they bought."""

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
        if terms == self.terms:
            raise NothingToChange(f"offer {self.offer_id} already has these terms")
        self._revised(terms=terms, timestamp=recorded_at)

    @event(Revised)
    def _revised(self, terms: OfferTerms, timestamp: datetime) -> None:
        self.terms = terms


class AccountRegistry(LedgerAggregate):
    """Every billing account's key, in the order they were opened (the scheduler's list)."""

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
