"""The subscription aggregate: every purchase, license change, suspension, reactivation,
cancellation, renewal and trial step is an immutable, past-tense event.

Each public method checks the command against the current state and raises a
:mod:`ledger.errors` exception naming what was wrong; only then does it call the ``@event``
method, which does nothing but assign. Replaying the events therefore never re-runs a check.

Every event carries its effective business date (``effective_date``) and the recorded UTC
time (``timestamp``, given by the application's clock).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger import bounds, ids
from ledger.aggregate import LedgerAggregate
from ledger.charges import ChargeLine
from ledger.dates import ONE_DAY, Period, renewed_term, term_period
from ledger.errors import (
    AlreadySuspended,
    EffectiveDateOutOfOrder,
    EffectiveDateTooOld,
    InvalidInput,
    InvalidTransition,
    NotATrial,
    NothingToChange,
    NotSuspended,
    OnlineCancellationRefused,
    SubscriptionEnded,
    SubscriptionSuspended,
    TrialCannotBeCancelled,
)
from ledger.offers import OfferTerms, renewal_terms

if TYPE_CHECKING:
    from ledger.rating import Checkpoint

#: How far back an action may take effect, in days before the subscription's last billing
#: date. It bounds what rating keeps of the past (``ledger.rating.Checkpoint``).
MAX_BACKDATE_DAYS = 366
#: Self-service (online) cancellation needs fewer than this many licenses.
ONLINE_CANCELLATION_LIMIT = 25
DEFAULT_TRIAL_DAYS = 30


class Status(Enum):
    TRIAL = "trial"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def has_ended(self) -> bool:
        return self in (Status.CANCELLED, Status.EXPIRED)


class Channel(Enum):
    """How a cancellation was asked for."""

    ONLINE = "online"
    ASSISTED = "assisted"


def _positive_quantity(quantity: object, what: str = "quantity") -> int:
    return bounds.quantity(quantity, what)  # 1 to bounds.QUANTITY_MAX


class Subscription(LedgerAggregate):
    """A license-based subscription of one billing account to one offer."""

    #: The version of its snapshots' state (upcast by the eventsourcing library on load).
    # v2 dropped term_index (renewed terms are counted from the renewal); v3 added checkpoint
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.pop("term_index", None)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["checkpoint"] = None  # the next posting records one

    # ---------------------------------------------------------------- events
    class Purchased(Aggregate.Created):
        class_version = 2  # v2 added term_end: the first term's last day (None for a trial)
        account: str
        key: str
        offer: OfferTerms
        quantity: int
        effective_date: date
        trial_end: date | None
        auto_renew: bool
        term_end: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            offer, start = state["offer"], state["effective_date"]
            state["term_end"] = (None if state["trial_end"] is not None
                                 else term_period(start, offer.term, 0).end)

    class QuantityChanged(Aggregate.Event):
        class_version = 1
        effective_date: date
        quantity: int
        previous_quantity: int

    class Suspended(Aggregate.Event):
        class_version = 1
        effective_date: date

    class Reactivated(Aggregate.Event):
        class_version = 1
        effective_date: date

    class Cancelled(Aggregate.Event):
        class_version = 1
        effective_date: date
        channel: str

    class Renewed(Aggregate.Event):
        """The term rolled over into a new one, on the new term's first day."""

        class_version = 1
        effective_date: date
        term_end: date
        offer: OfferTerms

    class Expired(Aggregate.Event):
        """The term ended without a renewal (auto-renew was off)."""

        class_version = 1
        effective_date: date
        reason: str

    class PaymentMethodAdded(Aggregate.Event):
        class_version = 1
        effective_date: date

    class AutoRenewSet(Aggregate.Event):
        class_version = 1
        effective_date: date
        enabled: bool

    class TrialConverted(Aggregate.Event):
        """The trial ended with a payment method on file: the paid term starts."""

        class_version = 1
        effective_date: date
        term_end: date

    class TrialExpired(Aggregate.Event):
        """The trial ended with no payment method: nothing is charged."""

        class_version = 1
        effective_date: date

    class ChargesPosted(Aggregate.Event):
        """A billing date's lines for this subscription, as rated by ``rules_version``, and
        the rating state after them (``checkpoint``: the next billing date rates from it and
        the events after ``rated_version``, not from the whole history)."""

        class_version = 2  # v2 added the checkpoint
        billing_date: date
        lines: tuple[ChargeLine, ...]
        rated_version: int
        rules_version: int
        checkpoint: Checkpoint | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["checkpoint"] = None  # posted before checkpoints: rated from the history

    # ---------------------------------------------------------------- creation
    @staticmethod
    def create_id(account: str, key: str) -> UUID:
        return ids.subscription_id(account, key)

    @classmethod
    def purchase(
        cls,
        *,
        account: str,
        key: str,
        offer: OfferTerms,
        quantity: int,
        effective_date: date,
        recorded_at: datetime,
        trial: bool = False,
        trial_days: int = DEFAULT_TRIAL_DAYS,
        auto_renew: bool = True,
    ) -> Subscription:
        """Buy ``quantity`` licenses of ``offer`` (or start a trial of it)."""
        _positive_quantity(quantity)
        bounds.identifier(key, "subscription id")
        bounds.business_date(effective_date, "effective date")
        if not isinstance(offer, OfferTerms):
            raise InvalidInput(f"offer must be OfferTerms, got {bounds.shown(offer)}")
        for flag, value in (("trial", trial), ("auto_renew", auto_renew)):
            if not isinstance(value, bool):
                raise InvalidInput(f"{flag} must be true or false, got {bounds.shown(value)}")
        days = bounds.trial_days(trial_days)
        trial_end = effective_date + timedelta(days=days) if trial else None
        term_end = None if trial else term_period(effective_date, offer.term, 0).end
        return cls(
            account=account,
            key=key,
            offer=offer,
            quantity=quantity,
            effective_date=effective_date,
            trial_end=trial_end,
            term_end=term_end,
            auto_renew=bool(auto_renew),
            timestamp=recorded_at,
        )

    @event(Purchased)
    def __init__(
        self,
        account: str,
        key: str,
        offer: OfferTerms,
        quantity: int,
        effective_date: date,
        trial_end: date | None,
        auto_renew: bool,
        term_end: date | None,
        timestamp: datetime,
    ) -> None:
        self.account = account
        self.key = key
        self.offer = offer
        self.quantity = quantity
        self.purchase_date = effective_date
        self.last_effective_date = effective_date
        self.trial_end = trial_end
        self.auto_renew = auto_renew
        self.has_payment_method = False
        self.ended_on: date | None = None
        self.last_billing_date: date | None = None
        self.checkpoint: Checkpoint | None = None  # the rating state after the last posting
        if trial_end is None:
            self.status = Status.ACTIVE
            self.anchor: date | None = effective_date
            assert term_end is not None  # a paid purchase starts a term
            self.term: Period | None = Period(effective_date, term_end)
        else:
            self.status = Status.TRIAL
            self.anchor = None
            self.term = None

    # ---------------------------------------------------------------- checks
    def _check_effective(self, effective_date: date) -> None:
        if self.status.has_ended:
            raise SubscriptionEnded(
                f"subscription {self.key} was {self.status.value} on "
                f"{self.ended_on.isoformat() if self.ended_on else '?'}; nothing more can be done"
            )
        if effective_date < self.last_effective_date:
            raise EffectiveDateOutOfOrder(
                f"subscription {self.key}: {effective_date.isoformat()} is before "
                f"{self.last_effective_date.isoformat()}, the date of its last recorded action"
            )
        billed = self.last_billing_date
        if billed is not None and effective_date < billed - timedelta(days=MAX_BACKDATE_DAYS):
            raise EffectiveDateTooOld(
                f"subscription {self.key}: {effective_date.isoformat()} is more than "
                f"{MAX_BACKDATE_DAYS} days before its last billing date {billed.isoformat()}: "
                "a correction reaches back a year at most"
            )

    # ---------------------------------------------------------------- commands
    def change_quantity(self, quantity: int, *, effective_date: date, recorded_at: datetime) -> None:
        """Set the number of licenses (the new total, not a delta).

        A suspended subscription may remove licenses (so that one of 25 or more can come
        below the online-cancellation limit, as the seed documents advise) but not add any;
        it owes nothing while suspended, and a reactivation bills the quantity it then has."""
        self._check_effective(effective_date)
        _positive_quantity(quantity)
        if self.status is Status.SUSPENDED and quantity > self.quantity:
            raise SubscriptionSuspended(
                f"subscription {self.key} is suspended; reactivate it before adding licenses "
                f"(removing some is allowed: it has {self.quantity})"
            )
        if quantity == self.quantity:
            raise NothingToChange(f"subscription {self.key} already has {quantity} licenses")
        self._quantity_changed(
            effective_date=effective_date,
            quantity=quantity,
            previous_quantity=self.quantity,
            timestamp=recorded_at,
        )

    @event(QuantityChanged)
    def _quantity_changed(
        self, effective_date: date, quantity: int, previous_quantity: int, timestamp: datetime
    ) -> None:
        self.quantity = quantity
        self.last_effective_date = effective_date

    def suspend(self, *, effective_date: date, recorded_at: datetime) -> None:
        self._check_effective(effective_date)
        if self.status is Status.SUSPENDED:
            raise AlreadySuspended(f"subscription {self.key} is already suspended")
        if self.status is Status.TRIAL:
            raise InvalidTransition(
                f"subscription {self.key} is a trial; a trial is not suspended, it expires "
                "unless a payment method is added"
            )
        self._suspended(effective_date=effective_date, timestamp=recorded_at)

    @event(Suspended)
    def _suspended(self, effective_date: date, timestamp: datetime) -> None:
        self.status = Status.SUSPENDED
        self.last_effective_date = effective_date

    def reactivate(self, *, effective_date: date, recorded_at: datetime) -> None:
        self._check_effective(effective_date)
        if self.status is not Status.SUSPENDED:
            raise NotSuspended(
                f"subscription {self.key} is {self.status.value}, not suspended; "
                "only a suspended subscription can be reactivated"
            )
        self._reactivated(effective_date=effective_date, timestamp=recorded_at)

    @event(Reactivated)
    def _reactivated(self, effective_date: date, timestamp: datetime) -> None:
        self.status = Status.ACTIVE
        self.last_effective_date = effective_date

    def cancel(
        self, *, effective_date: date, recorded_at: datetime, channel: str | Channel = Channel.ONLINE
    ) -> None:
        """Cancel for good. Online (self-service) needs fewer than 25 licenses."""
        self._check_effective(effective_date)
        try:
            how = Channel(channel)
        except ValueError:
            raise InvalidInput(
                f"channel must be 'online' or 'assisted', got {channel!r}"
            ) from None
        if self.status is Status.TRIAL:
            raise TrialCannotBeCancelled(
                f"subscription {self.key} is a trial: there is nothing to cancel; it expires on "
                f"{self.trial_end.isoformat() if self.trial_end else '?'} unless a payment "
                "method is added"
            )
        if how is Channel.ONLINE and self.quantity >= ONLINE_CANCELLATION_LIMIT:
            raise OnlineCancellationRefused(
                f"subscription {self.key} has {self.quantity} licenses; online cancellation needs "
                f"fewer than {ONLINE_CANCELLATION_LIMIT}: reduce it below "
                f"{ONLINE_CANCELLATION_LIMIT} licenses or cancel through the assisted channel"
            )
        self._cancelled(effective_date=effective_date, channel=how.value, timestamp=recorded_at)

    @event(Cancelled)
    def _cancelled(self, effective_date: date, channel: str, timestamp: datetime) -> None:
        self.status = Status.CANCELLED
        self.ended_on = effective_date
        self.last_effective_date = effective_date

    def add_payment_method(self, *, effective_date: date, recorded_at: datetime) -> None:
        self._check_effective(effective_date)
        if self.has_payment_method:
            raise NothingToChange(f"subscription {self.key} already has a payment method")
        self._payment_method_added(effective_date=effective_date, timestamp=recorded_at)

    @event(PaymentMethodAdded)
    def _payment_method_added(self, effective_date: date, timestamp: datetime) -> None:
        self.has_payment_method = True
        self.last_effective_date = effective_date

    def set_auto_renew(self, enabled: bool, *, effective_date: date, recorded_at: datetime) -> None:
        self._check_effective(effective_date)
        if not isinstance(enabled, bool):
            raise InvalidInput(f"enabled must be true or false, got {enabled!r}")
        if enabled == self.auto_renew:
            raise NothingToChange(
                f"subscription {self.key} already has auto-renew {'on' if enabled else 'off'}"
            )
        self._auto_renew_set(effective_date=effective_date, enabled=enabled, timestamp=recorded_at)

    @event(AutoRenewSet)
    def _auto_renew_set(self, effective_date: date, enabled: bool, timestamp: datetime) -> None:
        self.auto_renew = enabled
        self.last_effective_date = effective_date

    # ---------------------------------------------------------------- lifecycle (scheduler)
    def next_transition(self) -> date | None:
        """The date the subscription's trial or term next ends, if it can still end."""
        if self.status is Status.TRIAL:
            return self.trial_end
        if self.status.has_ended or self.term is None:
            return None
        return self.term.end + ONE_DAY

    def catch_up(self, through: date, *, catalog_terms: Callable[[str], OfferTerms | None],
                 recorded_at: datetime) -> None:
        """Record the trial end and the term ends that fall on or before ``through``, in
        order: a trial converts or expires; a term renews (into the terms
        ``catalog_terms(offer_id)`` gives, see :meth:`end_term`) or expires."""
        while (when := self.next_transition()) is not None and when <= through:
            if self.trial_end is not None and self.term is None:
                self.end_trial(recorded_at=recorded_at)
            else:
                self.end_term(catalog_terms=catalog_terms(self.offer.offer_id),
                              recorded_at=recorded_at)

    def end_trial(self, *, recorded_at: datetime) -> None:
        """At the trial's end: convert to paid with a payment method, else expire."""
        if self.status is not Status.TRIAL or self.trial_end is None:
            raise NotATrial(f"subscription {self.key} is not in a trial")
        on = self.trial_end
        if self.has_payment_method:
            term = term_period(on, self.offer.term, 0)
            self._trial_converted(effective_date=on, term_end=term.end, timestamp=recorded_at)
        else:
            self._trial_expired(effective_date=on, timestamp=recorded_at)

    @event(TrialConverted)
    def _trial_converted(self, effective_date: date, term_end: date, timestamp: datetime) -> None:
        self.status = Status.ACTIVE
        self.anchor = effective_date
        self.term = Period(effective_date, term_end)
        self.last_effective_date = max(self.last_effective_date, effective_date)

    @event(TrialExpired)
    def _trial_expired(self, effective_date: date, timestamp: datetime) -> None:
        self.status = Status.EXPIRED
        self.ended_on = effective_date
        self.last_effective_date = max(self.last_effective_date, effective_date)

    def end_term(self, *, catalog_terms: OfferTerms | None, recorded_at: datetime) -> None:
        """At the term's end: renew with auto-renew on, else expire. A suspended subscription
        renews suspended (it owes nothing until it is reactivated).

        ``catalog_terms`` are the offer's terms in the catalog today (None when the offer is
        gone); :func:`~ledger.offers.renewal_terms` decides what the renewal takes from them.
        The renewed term runs from the renewal date for the renewal terms' length."""
        if self.term is None or self.anchor is None or self.status.has_ended:
            raise InvalidTransition(f"subscription {self.key} has no running term to end")
        on = self.term.end + ONE_DAY
        if self.auto_renew:
            terms = renewal_terms(self.offer, catalog_terms)
            term = renewed_term(self.anchor, on, terms.term)
            self._renewed(effective_date=on, term_end=term.end, offer=terms, timestamp=recorded_at)
        else:
            self._expired(effective_date=on, reason="auto-renew is off", timestamp=recorded_at)

    @event(Renewed)
    def _renewed(
        self, effective_date: date, term_end: date, offer: OfferTerms, timestamp: datetime
    ) -> None:
        # A renewal is not an action: an action dated before it may still be recorded later
        # (so a one-month term renewing every month does not block backdated changes).
        self.offer = offer
        self.term = Period(effective_date, term_end)

    @event(Expired)
    def _expired(self, effective_date: date, reason: str, timestamp: datetime) -> None:
        self.status = Status.EXPIRED
        self.ended_on = effective_date
        self.last_effective_date = max(self.last_effective_date, effective_date)

    # ---------------------------------------------------------------- billing
    def post_charges(
        self,
        *,
        billing_date: date,
        lines: tuple[ChargeLine, ...],
        rated_version: int,
        rules_version: int,
        checkpoint: Checkpoint | None,
        recorded_at: datetime,
    ) -> None:
        """Record the lines a billing date posts for this subscription, with the rating
        state after them."""
        if self.last_billing_date is not None and billing_date <= self.last_billing_date:
            raise InvalidTransition(
                f"subscription {self.key} was already billed on {self.last_billing_date.isoformat()}"
            )
        self._charges_posted(
            billing_date=billing_date,
            lines=lines,
            rated_version=rated_version,
            rules_version=rules_version,
            checkpoint=checkpoint,
            timestamp=recorded_at,
        )

    @event(ChargesPosted)
    def _charges_posted(
        self,
        billing_date: date,
        lines: tuple[ChargeLine, ...],
        rated_version: int,
        rules_version: int,
        checkpoint: Checkpoint | None,
        timestamp: datetime,
    ) -> None:
        self.last_billing_date = billing_date
        self.checkpoint = checkpoint

    def describe(self) -> dict[str, Any]:
        """The current state, for people (CLI, history views)."""
        return {
            "account": self.account,
            "subscription": self.key,
            "offer": self.offer.offer_id,
            "status": self.status.value,
            "quantity": self.quantity,
            "term_start": self.term.start.isoformat() if self.term else None,
            "term_end": self.term.end.isoformat() if self.term else None,
            "auto_renew": self.auto_renew,
            "trial_end": self.trial_end.isoformat() if self.trial_end else None,
            "payment_method": self.has_payment_method,
            "ended_on": self.ended_on.isoformat() if self.ended_on else None,
            "version": self.version,
        }


#: Any event a subscription records: what its history, and rating's input, is made of.
SubscriptionEvent: TypeAlias = (
    Subscription.Purchased | Subscription.QuantityChanged | Subscription.Suspended
    | Subscription.Reactivated | Subscription.Cancelled | Subscription.Renewed
    | Subscription.Expired | Subscription.PaymentMethodAdded | Subscription.AutoRenewSet
    | Subscription.TrialConverted | Subscription.TrialExpired | Subscription.ChargesPosted
)
#: The events that change what a subscription owes (everything but its postings).
LifecycleEvent: TypeAlias = (
    Subscription.Purchased | Subscription.QuantityChanged | Subscription.Suspended
    | Subscription.Reactivated | Subscription.Cancelled | Subscription.Renewed
    | Subscription.Expired | Subscription.PaymentMethodAdded | Subscription.AutoRenewSet
    | Subscription.TrialConverted | Subscription.TrialExpired
)
