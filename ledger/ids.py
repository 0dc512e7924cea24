"""Deterministic aggregate ids from the keys people use (account, subscription, offer)."""

from __future__ import annotations

from uuid import UUID, uuid5

from ledger.bounds import lookup

NAMESPACE = UUID("6f1c2b1e-3d0a-5b7e-9a43-1f6c2f1b9e50")
_SEP = "\x1f"


def _key(value: object, what: str) -> str:
    """A key to look up: any printable string (one outside the bounds of ``ledger.bounds``
    simply names nothing); anything else is refused (InvalidInput)."""
    return lookup(value, what)


def account_id(account: str) -> UUID:
    return uuid5(NAMESPACE, _SEP.join(("account", _key(account, "account id"))))


def subscription_id(account: str, subscription: str) -> UUID:
    return uuid5(NAMESPACE, _SEP.join(("subscription", _key(account, "account id"),
                                       _key(subscription, "subscription id"))))


def offer_id(offer: str) -> UUID:
    return uuid5(NAMESPACE, _SEP.join(("offer", _key(offer, "offer id"))))


def registry_id() -> UUID:
    return uuid5(NAMESPACE, "account-registry")


def idempotency_id(key: str) -> UUID:
    return uuid5(NAMESPACE, _SEP.join(("idempotency", _key(key, "idempotency key"))))
