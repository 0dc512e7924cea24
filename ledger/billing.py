"""The arithmetic of cutting a billing date, as a pure function.

:func:`derive_cut` takes an account's state before the cut and its subscriptions' histories
as they stood, and returns what the cut posts: each subscription's rating and the invoice
document. The billing run records exactly this; ``verify`` calls it again on the histories
as they stood at the recorded cut, and must get the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from eventsourcing.domain import Aggregate

from ledger import invoicing, rating
from ledger.charges import ChargeLine
from ledger.subscription import Subscription

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class CutResult:
    ratings: dict[str, rating.Rating]
    subscriptions: dict[str, Subscription]
    document: dict[str, Any] | None

    @property
    def lines(self) -> list[ChargeLine]:
        return [line for result in self.ratings.values() for line in result.lines]


def replay(history: Sequence[Any], kind: type[A] = Subscription) -> A:  # type: ignore[assignment]
    """The aggregate (a subscription unless ``kind`` says otherwise) as its events leave it."""
    aggregate: Any = None
    for ev in history:
        aggregate = ev.mutate(aggregate)
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
    histories: Mapping[str, Sequence[Any]],
    billing_date: date,
    log: invoicing.LogPoint,
    partner_id: str = "",
) -> CutResult:
    """What cutting ``billing_date`` posts, given each subscription's history (in the
    account's order) and the account's balance and payments since its last invoice."""
    ratings: dict[str, rating.Rating] = {}
    subs: dict[str, Subscription] = {}
    groups: list[tuple[invoicing.SubscriptionInfo, Sequence[ChargeLine]]] = []
    for key, history in histories.items():
        ratings[key] = rating.rate(history, billing_date)
        subs[key] = replay(history)
        groups.append((subscription_info(subs[key]), ratings[key].lines))
    document = None
    final_for = [key for key, rated in ratings.items() if rated.cancelled]
    if any(lines for _, lines in groups) or final_for:
        # A cancellation always gets its final invoice: the outstanding balance minus any
        # prorated credits, even when there is nothing left to credit.
        assert currency is not None
        document = invoicing.build_invoice(
            account=account, account_name=account_name, billing_date=billing_date,
            currency=currency, subscriptions=groups, balance_brought_forward=balance,
            payments=payments, rules_version=rating.RULES_VERSION, log=log, final_for=final_for,
            partner_id=partner_id,
        )
    return CutResult(ratings, subs, document)
