"""The billing account aggregate: who is billed, on which day of the month, and every
billing date cut for it (an issued invoice, or a date that posted nothing)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger import bounds, ids
from ledger.aggregate import LedgerAggregate
from ledger.dates import ONE_DAY, next_billing_date
from ledger.errors import InvalidAccount, InvalidInput, InvalidPayment, InvalidTransition
from ledger.locales import normalise
from ledger.money import is_currency_code


def _check_billing_day(billing_day: object) -> int:
    if not isinstance(billing_day, int) or isinstance(billing_day, bool) or not 1 <= billing_day <= 31:
        raise InvalidAccount(
            f"billing_day must be a whole number from 1 to 31, got {bounds.shown(billing_day)}")
    return billing_day


class BillingAccount(LedgerAggregate):
    """A customer's billing account."""

    class_version = 1  # of its snapshots' state: a change adds an upcast_vN_vM method

    _containers = ("subscriptions",)

    class Opened(Aggregate.Created):
        class_version = 2  # v2 added the locale invoices are rendered in
        key: str
        name: str
        billing_day: int
        currency: str | None
        effective_date: date
        locale: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["locale"] = None  # accounts opened before: the default locale

    class SubscriptionAdded(Aggregate.Event):
        class_version = 1
        effective_date: date
        subscription: str
        currency: str

    class InvoiceIssued(Aggregate.Event):
        """An invoice, sealed: its canonical document, that document's SHA-256 digest, and the
        notification-log position it was cut at."""

        class_version = 1
        billing_date: date
        invoice_number: str
        document: str
        digest: str
        cut_position: int
        subscription_versions: dict[str, int]
        amount_due: Decimal

    class BillingDateClosed(Aggregate.Event):
        """A billing date was cut and posted nothing."""

        class_version = 2  # v2 added the subscription versions the cut rated
        billing_date: date
        cut_position: int
        subscription_versions: dict[str, int] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["subscription_versions"] = None  # closed before the versions were recorded

    class PaymentRecorded(Aggregate.Event):
        class_version = 1
        effective_date: date
        amount: Decimal
        reference: str

    @staticmethod
    def create_id(key: str) -> UUID:
        return ids.account_id(key)

    @classmethod
    def open(
        cls,
        *,
        key: str,
        billing_day: int,
        effective_date: date,
        recorded_at: datetime,
        name: str | None = None,
        currency: str | None = None,
        locale: str | None = None,
    ) -> BillingAccount:
        bounds.identifier(key, "account id", InvalidAccount)
        _check_billing_day(billing_day)
        bounds.business_date(effective_date, "effective date", InvalidAccount)
        if name is not None:
            bounds.name(name, "account name", InvalidAccount)
        if currency is not None and not is_currency_code(currency):
            raise InvalidAccount(f"currency must be an ISO 4217 code such as USD, "
                                 f"got {bounds.shown(currency)}")
        return cls(
            key=key,
            name=name or key,
            billing_day=billing_day,
            currency=currency,
            effective_date=effective_date,
            locale=normalise(locale) if locale is not None else None,
            timestamp=recorded_at,
        )

    @event(Opened)
    def __init__(
        self,
        key: str,
        name: str,
        billing_day: int,
        currency: str | None,
        effective_date: date,
        locale: str | None,
        timestamp: datetime,
    ) -> None:
        self.key = key
        self.locale = locale
        self.name = name
        self.billing_day = billing_day
        self.currency = currency
        self.opened_on = effective_date
        self.subscriptions: list[str] = []
        self.last_billing_date: date | None = None
        self.balance = Decimal(0)
        self.payments_since_invoice = Decimal(0)

    # ------------------------------------------------------------------ subscriptions
    def add_subscription(
        self, subscription: str, currency: str, *, effective_date: date, recorded_at: datetime
    ) -> None:
        if self.currency is not None and currency != self.currency:
            raise InvalidInput(
                f"account {self.key} is billed in {self.currency}; "
                f"subscription {subscription} is priced in {currency}"
            )
        self._subscription_added(
            effective_date=effective_date, subscription=subscription, currency=currency,
            timestamp=recorded_at,
        )

    @event(SubscriptionAdded)
    def _subscription_added(
        self, effective_date: date, subscription: str, currency: str, timestamp: datetime
    ) -> None:
        self.subscriptions.append(subscription)
        if self.currency is None:
            self.currency = currency

    # ------------------------------------------------------------------ billing dates
    def next_billing_date(self) -> date:
        """The next billing date to cut."""
        after = self.last_billing_date or (self.opened_on - ONE_DAY)
        return next_billing_date(after + ONE_DAY, self.billing_day)

    def _check_cut(self, billing_date: date) -> None:
        expected = self.next_billing_date()
        if billing_date != expected:
            raise InvalidTransition(
                f"account {self.key}: the next billing date to cut is {expected.isoformat()}, "
                f"not {billing_date.isoformat()}"
            )

    def issue_invoice(
        self,
        *,
        billing_date: date,
        invoice_number: str,
        document: str,
        digest: str,
        cut_position: int,
        subscription_versions: dict[str, int],
        amount_due: Decimal,
        recorded_at: datetime,
    ) -> None:
        self._check_cut(billing_date)
        self._invoice_issued(
            billing_date=billing_date,
            invoice_number=invoice_number,
            document=document,
            digest=digest,
            cut_position=cut_position,
            subscription_versions=subscription_versions,
            amount_due=amount_due,
            timestamp=recorded_at,
        )

    @event(InvoiceIssued)
    def _invoice_issued(
        self,
        billing_date: date,
        invoice_number: str,
        document: str,
        digest: str,
        cut_position: int,
        subscription_versions: dict[str, int],
        amount_due: Decimal,
        timestamp: datetime,
    ) -> None:
        self.last_billing_date = billing_date
        self.balance = amount_due
        self.payments_since_invoice = Decimal(0)

    def close_billing_date(
        self, *, billing_date: date, cut_position: int, subscription_versions: dict[str, int],
        recorded_at: datetime,
    ) -> None:
        self._check_cut(billing_date)
        self._billing_date_closed(
            billing_date=billing_date, cut_position=cut_position,
            subscription_versions=subscription_versions, timestamp=recorded_at,
        )

    @event(BillingDateClosed)
    def _billing_date_closed(self, billing_date: date, cut_position: int,
                             subscription_versions: dict[str, int] | None,
                             timestamp: datetime) -> None:
        self.last_billing_date = billing_date

    # ------------------------------------------------------------------ payments
    def record_payment(
        self, amount: Decimal, *, effective_date: date, recorded_at: datetime, reference: str = ""
    ) -> None:
        """Record ``amount`` received (above 0, at most 1,000,000,000,000, with no more
        places than the account's currency, which must be known by then: given when the
        account was opened or set by its first purchase)."""
        amount = bounds.payment(amount, self.currency)
        bounds.text(reference, "payment reference", error=InvalidPayment)
        self._payment_recorded(
            effective_date=effective_date, amount=amount, reference=reference, timestamp=recorded_at
        )

    @event(PaymentRecorded)
    def _payment_recorded(
        self, effective_date: date, amount: Decimal, reference: str, timestamp: datetime
    ) -> None:
        self.payments_since_invoice += amount
