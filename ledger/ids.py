"""Deterministic aggregate ids from the keys people use (account, subscription, offer)."""

from __future__ import annotations

from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c2b1e-3d0a-5b7e-9a43-1f6c2f1b9e50")
_SEP = "\x1f"


def account_id(account: str) -> UUID:
    return uuid5(NAMESPACE, _SEP.join(("account", account)))


def subscription_id(account: str, subscription: str) -> UUID:
    return uuid5(NAMESPACE, _SEP.join(("subscription", account, subscription)))


def offer_id(offer: str) -> UUID:
    return uuid5(NAMESPACE, _SEP.join(("offer", offer)))


def registry_id() -> UUID:
    return uuid5(NAMESPACE, "account-registry")


def idempotency_id(key: str) -> UUID:
    return uuid5(NAMESPACE, _SEP.join(("idempotency", key)))
