"""The arithmetic of cutting a billing date, as a pure function.

:func:`derive_cut` takes an account's state before the cut and, for each subscription, its
rating input (the events since its last posting's checkpoint, and that checkpoint), and
returns what the cut posts: each subscription's rating and the invoice document. The billing
run records exactly this; ``verify`` calls it again on the whole histories as they stood at
the recorded cut (no checkpoint: the reference), and must get the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from eventsourcing.domain import Aggregate

from ledger import aggregate as aggregates
from ledger import invoicing, rating
from ledger.charges import ChargeLine
from ledger.subscription import Subscription

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class Rated:
    """What rating one subscription at a cut is given: what its invoice lines are grouped
    under, its events (all of them, or those after ``checkpoint.rated_version``) and the
    rating state its last posting recorded (None: rate from the whole history)."""

    info: invoicing.SubscriptionInfo
    history: Sequence[Any]
    checkpoint: rating.Checkpoint | None = None

    @classmethod
    def whole(cls, history: Sequence[Any]) -> Rated:
        """The reference: every event, no checkpoint (``verify`` rates this way)."""
        return cls(subscription_info(replay(history)), history)


@dataclass(frozen=True)
class CutResult:
    ratings: dict[str, rating.Rating]
    invoice: invoicing.Invoice | None  # None: the date posts nothing to invoice

    @property
    def document(self) -> dict[str, Any] | None:
        return self.invoice.document() if self.invoice is not None else None

    @property
    def lines(self) -> list[ChargeLine]:
        return [line for result in self.ratings.values() for line in result.lines]


def replay(history: Sequence[Any], kind: type[A] = Subscription) -> A:  # type: ignore[assignment]
    """The aggregate (a subscription unless ``kind`` says otherwise) as its events leave it."""
    aggregate = aggregates.replay(history)
    assert isinstance(aggregate, kind)
    return aggregate


def subscription_info(sub: Subscription) -> invoicing.SubscriptionInfo:
    return invoicing.SubscriptionInfo(
        key=sub.key,
        offer_id=sub.offer.offer_id,
        offer_name=sub.offer.name,
        billing_cycle=sub.offer.billing_cycle_type,
        order_id=str(sub.id),
    )


def derive_cut(
    *,
    account: str,
    account_name: str,
    currency: str | None,
    balance: Decimal,
    payments: Decimal,
    subscriptions: Mapping[str, Rated],
    billing_date: date,
    log: invoicing.LogPoint,
    partner_id: str = "",
) -> CutResult:
    """What cutting ``billing_date`` posts, given each subscription's rating input (in the
    account's order) and the account's balance and payments since its last invoice."""
    ratings: dict[str, rating.Rating] = {}
    groups: list[tuple[invoicing.SubscriptionInfo, Sequence[ChargeLine]]] = []
    for key, given in subscriptions.items():
        ratings[key] = rating.rate(given.history, billing_date, given.checkpoint)
        groups.append((given.info, ratings[key].lines))
    invoice = None
    final_for = [key for key, rated in ratings.items() if rated.cancelled]
    if any(lines for _, lines in groups) or final_for:
        # A cancellation always gets its final invoice: the outstanding balance minus any
        # prorated credits, even when there is nothing left to credit.
        assert currency is not None
        invoice = invoicing.build_invoice(
            account=account, account_name=account_name, billing_date=billing_date,
            currency=currency, subscriptions=groups, balance_brought_forward=balance,
            payments=payments, rules_version=rating.RULES_VERSION, log=log, final_for=final_for,
            partner_id=partner_id,
        )
    return CutResult(ratings, invoice)
