"""The application service: one method per command, and the billing run.

Commands load aggregates, let them check and record events, and save every aggregate they
touched in one atomic write. A command that loses a race with another writer (an
optimistic-concurrency conflict) is re-applied to fresh state a bounded number of times.

Time comes from the clock given to the ledger. ``run_due(through)`` (or, with a
:class:`~ledger.clock.TestClock`, ``advance_to(day)``) does everything due on the way, in date
order: trial ends and renewals first, then each account's billing date, where the rating
rules (:mod:`ledger.rating`) decide what to post and the invoice is issued.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    Cache,
    LRUCache,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    JSONTranscoder,
    Notification,
    OperationalError,
    Transcoder,
)
from eventsourcing.postgres import PostgresFactory
from eventsourcing.sqlite import SQLiteFactory
from eventsourcing.utils import get_topic

from ledger import bounds, ids, invoicing, rating
from ledger.account import BillingAccount
from ledger.aggregate import replay
from ledger.bounds import shown
from ledger.catalog import AccountRegistry, IdempotencyRecord, Offer, command_fingerprint
from ledger.chain import (
    ChainedPostgresRecorder,
    ChainedRecorder,
    ChainedSQLiteRecorder,
    Seal,
    walk,
)
from ledger.charges import ChargeLine
from ledger.clock import Clock, SystemClock, TestClock, start_of, today
from ledger.cut import Rated, derive_cut, subscription_info
from ledger.errors import (
    BillingRunIncomplete,
    ConcurrencyConflict,
    DuplicateAccount,
    DuplicateSubscription,
    EffectiveDateInFuture,
    EffectiveDateOutOfOrder,
    IdempotencyConflict,
    InvalidAccount,
    InvalidInput,
    LedgerError,
    LogAltered,
    UnknownAccount,
    UnknownOffer,
    UnknownSubscription,
)
from ledger.eventstore import prepare, schema_lock
from ledger.offers import OfferTerms
from ledger.subscription import Channel, Subscription
from ledger.transcodings import LedgerSnapshot, LedgerTranscoder, register_ledger_transcodings

T = TypeVar("T")

#: How many times a command is re-applied to fresh state after losing a race.
MAX_ATTEMPTS = 8


class BillingApplication(Application[UUID]):
    """The write side of the ledger, on the eventsourcing library's event store."""

    # The name the library gives the store's tables and the views' tracking row: kept as the
    # first version named it, so every ledger written since still opens.
    name = "BillingLedger"
    # Commands decide on aggregates kept in memory, without re-reading the store first:
    # if another writer appended to one of them meanwhile, the save fails on the version
    # (optimistic concurrency), the cache is dropped and the command runs again on fresh
    # state. Reads that no save would check (offers, the account list, queries) are fresh.
    env: ClassVar[dict[str, str]] = {
        "AGGREGATE_CACHE_MAXSIZE": "20000",
        "AGGREGATE_CACHE_FASTFORWARD": "n",
    }
    # A snapshot every 20 events bounds what a cold load replays (a subscription billed
    # monthly gains a dozen events a year); snapshots are a cache, the events stay the record.
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        Subscription: 20, BillingAccount: 20, AccountRegistry: 50,
    }
    snapshot_class = LedgerSnapshot

    def __init__(self, env: Mapping[str, str] | None = None, *, clock: Clock | None = None,
                 partner_id: str = "") -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        # written into the invoices this process issues
        self.partner_id = bounds.text(partner_id, "partner id")
        self.retries = 0  # commands re-applied after losing a race (for monitoring)
        self._touched = threading.local()  # aggregates the running command read
        # When each account next has something due, as last seen by this process's scheduler.
        self._wake: dict[str, date] = {}
        settings = {**os.environ, **env} if env is not None else dict(os.environ)
        prepare(settings)
        with schema_lock(settings):
            super().__init__(dict(env) if env is not None else None)

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot each saved aggregate whose new events reached a multiple of its interval.

        The library would load the aggregate again from the store (its last snapshot and the
        events since) to snapshot it at that version; the object just saved already holds
        exactly the recorded state, at its latest version, so it is snapshotted as it is.
        (Its state came only from applying its events: the ``@event`` methods only assign.)"""
        if self.snapshots is None:
            return
        due: dict[UUID, Aggregate] = {}
        for ev in processing_event.events:
            aggregate = processing_event.aggregates.get(ev.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate)) if aggregate else None
            if interval and ev.originator_version % interval == 0:
                due[ev.originator_id] = aggregate  # type: ignore[assignment]
        if due:
            self.snapshots.put([LedgerSnapshot.take(aggregate) for aggregate in due.values()])

    def construct_recorder(self) -> ApplicationRecorder:
        """The library's recorder for the configured store, sealing every event it records
        (:mod:`ledger.chain`) on SQLite and PostgreSQL; the in-memory store keeps no chain."""
        chained: dict[type[Any], type[Any]] = {
            SQLiteFactory: ChainedSQLiteRecorder, PostgresFactory: ChainedPostgresRecorder}
        topic_key = self.factory.APPLICATION_RECORDER_TOPIC
        for factory_type, recorder_type in chained.items():
            if isinstance(self.factory, factory_type) and not self.factory.env.get(topic_key):
                self.factory.env[topic_key] = get_topic(recorder_type)
        return super().construct_recorder()

    def construct_transcoder(self) -> Transcoder:
        transcoder = LedgerTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        register_ledger_transcodings(transcoder)

    # ------------------------------------------------------------------ plumbing
    def _retrying(self, command: Callable[[], T]) -> T:
        """Run ``command`` (which loads fresh state each time) until it saves cleanly.

        A conflict (another writer appended to the same aggregate first, or SQLite's write
        lock stayed taken) re-applies the command to fresh state, after a short random pause
        that grows with each attempt; after ``MAX_ATTEMPTS`` it is surfaced as
        :class:`ConcurrencyConflict`. Nothing is recorded by a failed attempt.
        """
        for attempt in range(MAX_ATTEMPTS):
            try:
                return command()
            except IntegrityError:
                self._forget_cached()
            except OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
            self.retries += 1
            time.sleep(random.uniform(0, 0.002 * 2**attempt))  # jitter, so racers drift apart
        raise ConcurrencyConflict(
            f"gave up after {MAX_ATTEMPTS} attempts: other writers kept changing the same records"
        )

    def _execute(
        self, command: str, payload: dict[str, Any], idempotency_key: str | None,
        body: Callable[[], tuple[Any, list[Aggregate]]],
    ) -> Any:
        """Run a command: ``body`` checks and returns (result, aggregates to save); they are
        saved in one atomic write, with the idempotency record when a key is given.

        A repeat with the same key and the same payload returns the first result and appends
        nothing; the same key with another command or payload is refused."""
        if idempotency_key is not None:
            bounds.text(idempotency_key, "idempotency key", least=1)
        fingerprint = command_fingerprint(command, payload) if idempotency_key else ""

        def replayed() -> tuple[bool, Any]:
            done = self._idempotency_record(idempotency_key) if idempotency_key else None
            if done is None:
                return False, None
            if done.fingerprint != fingerprint:
                raise IdempotencyConflict(
                    f"idempotency key {idempotency_key!r} was already used for "
                    f"{done.command} with a different payload"
                )
            return True, done.result

        def attempt() -> Any:
            found, first = replayed()
            if found:
                return first
            self._touched.ids = set()
            try:
                result, aggregates = body()
            except LedgerError:
                # A racing repeat of this very command may have committed since we looked:
                # then its result stands, and this refusal (e.g. "already 7") is moot.
                found, first = replayed()
                if found:
                    return first
                # The refusal may come from a cached aggregate another writer has changed
                # since: only a refusal on fresh state is final.
                for aggregate_id in self._touched.ids:
                    self._forget_cached(aggregate_id)
                result, aggregates = body()
            if idempotency_key is not None:
                aggregates.append(IdempotencyRecord(
                    key=idempotency_key, command=command, fingerprint=fingerprint,
                    result=None if result is None else str(result), timestamp=self.clock.now(),
                ))
            self.save(*aggregates)
            return None if result is None else str(result)

        return self._retrying(attempt)

    def _idempotency_record(self, key: str) -> IdempotencyRecord | None:
        try:
            record: IdempotencyRecord = self.repository.get(ids.idempotency_id(key),
                                                            projector_func=_mutate_all)
        except AggregateNotFoundError:
            return None
        return record

    def _effective(self, effective_date: date | None) -> date:
        current = today(self.clock)
        if effective_date is None:
            return bounds.business_date(current, "the clock's date (the default effective date)")
        bounds.business_date(effective_date, "effective date")
        if effective_date > current:
            raise EffectiveDateInFuture(
                f"effective date {effective_date.isoformat()} is after today "
                f"({current.isoformat()} by the ledger's clock)"
            )
        return effective_date

    def _forget_cached(self, aggregate_id: UUID | None = None) -> None:
        cache = self.repository.cache
        if cache is None:
            return
        if aggregate_id is None:
            # (LRUCache.clear() resets its recency list but keeps the entries.)
            self.repository.cache = (
                LRUCache(maxsize=cache.maxsize) if isinstance(cache, LRUCache) else Cache()
            )
            return
        with contextlib.suppress(KeyError):
            cache.get(aggregate_id, evict=True)

    def _get(self, aggregate_id: UUID, missing: Exception, *, fresh: bool = False) -> Any:
        """The aggregate, from the cache (commands) or, ``fresh``, from the store."""
        if fresh:
            self._forget_cached(aggregate_id)
        touched = getattr(self._touched, "ids", None)
        if touched is not None:
            touched.add(aggregate_id)
        try:
            return self.repository.get(aggregate_id, projector_func=_mutate_all)
        except AggregateNotFoundError:
            raise missing from None

    def _account(self, key: str) -> BillingAccount:
        account: BillingAccount = self._get(ids.account_id(key),
                                            UnknownAccount(f"unknown account {shown(key)}"))
        return account

    def _subscription(self, account: str, key: str) -> Subscription:
        sub: Subscription = self._get(
            ids.subscription_id(account, key),
            UnknownSubscription(f"unknown subscription {shown(key)} in account {shown(account)}"),
        )
        return sub

    def history(self, account: str, subscription: str) -> list[Any]:
        """Every event of one subscription, in order."""
        events = list(self.events.get(ids.subscription_id(account, subscription)))
        if not events:
            raise UnknownSubscription(
                f"unknown subscription {shown(subscription)} in account {shown(account)}")
        return events

    # ------------------------------------------------------------------ catalog
    def define_offer(self, terms: OfferTerms, *, idempotency_key: str | None = None) -> None:
        """Add an offer to the catalog, or revise its terms for future purchases and renewals."""

        terms = OfferTerms.checked(terms)  # terms built without OfferTerms.create, too

        def body() -> tuple[None, list[Aggregate]]:
            now = self.clock.now()
            self._forget_cached(ids.offer_id(terms.offer_id))
            try:
                offer: Offer = self.repository.get(ids.offer_id(terms.offer_id))
            except AggregateNotFoundError:
                return None, [Offer(offer_id=terms.offer_id, terms=terms, timestamp=now)]
            if offer.terms != terms:
                offer.revise(terms, recorded_at=now)  # refuses a change of currency
            return None, [offer]

        self._execute("define_offer", {"terms": terms}, idempotency_key, body)

    def offer_terms(self, offer_id: str) -> OfferTerms:
        offer: Offer = self._get(ids.offer_id(offer_id),
                                 UnknownOffer(f"unknown offer {shown(offer_id)}"), fresh=True)
        return offer.terms

    # ------------------------------------------------------------------ accounts
    def open_account(
        self,
        key: str,
        *,
        billing_day: int,
        name: str | None = None,
        currency: str | None = None,
        effective_date: date | None = None,
        locale: str | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        bounds.identifier(key, "account id", InvalidAccount)
        day = self._effective(effective_date)

        def body() -> tuple[None, list[Aggregate]]:
            if ids.account_id(key) in self.repository:
                raise DuplicateAccount(f"account {key!r} already exists")
            now = self.clock.now()
            account = BillingAccount.open(
                key=key, billing_day=billing_day, name=name, currency=currency,
                effective_date=day, recorded_at=now, locale=locale,
            )
            try:
                registry: AccountRegistry = self.repository.get(ids.registry_id())
            except AggregateNotFoundError:
                registry = AccountRegistry(timestamp=now)
            registry.register(key, recorded_at=now)
            return None, [account, registry]

        payload = {"account": key, "billing_day": billing_day, "name": name, "currency": currency,
                   "effective_date": effective_date, "locale": locale}
        self._execute("open_account", payload, idempotency_key, body)
        self._wake.pop(key, None)

    def account(self, key: str) -> BillingAccount:
        """The account as the store has it now."""
        account: BillingAccount = self._get(ids.account_id(key),
                                            UnknownAccount(f"unknown account {shown(key)}"),
                                            fresh=True)
        return account

    def account_keys(self) -> list[str]:
        self._forget_cached(ids.registry_id())
        try:
            registry: AccountRegistry = self.repository.get(ids.registry_id())
        except AggregateNotFoundError:
            return []
        return list(registry.accounts)

    def record_payment(
        self, account: str, amount: Decimal, *, effective_date: date | None = None, reference: str = "",
        idempotency_key: str | None = None,
    ) -> None:
        day = self._effective(effective_date)

        def body() -> tuple[None, list[Aggregate]]:
            acc = self._account(account)
            acc.record_payment(amount, effective_date=day, recorded_at=self.clock.now(),
                               reference=reference)
            return None, [acc]

        payload = {"account": account, "amount": amount, "effective_date": effective_date,
                   "reference": reference}
        self._execute("record_payment", payload, idempotency_key, body)

    # ------------------------------------------------------------------ subscriptions
    def purchase(
        self,
        account: str,
        subscription: str,
        offer: str,
        quantity: int,
        *,
        effective_date: date | None = None,
        trial: bool = False,
        trial_days: int = 30,
        auto_renew: bool = True,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Buy ``quantity`` licenses of ``offer`` for ``account`` as ``subscription``; returns
        the subscription's aggregate id."""
        bounds.identifier(subscription, "subscription id")
        day = self._effective(effective_date)

        def body() -> tuple[UUID, list[Aggregate]]:
            acc = self._account(account)
            terms = self.offer_terms(offer)
            if ids.subscription_id(account, subscription) in self.repository:
                raise DuplicateSubscription(
                    f"subscription {subscription!r} already exists in account {account!r}"
                )
            if day < acc.opened_on:
                raise EffectiveDateOutOfOrder(
                    f"purchase date {day.isoformat()} is before account {account!r} was opened "
                    f"({acc.opened_on.isoformat()})"
                )
            now = self.clock.now()
            sub = Subscription.purchase(
                account=account, key=subscription, offer=terms, quantity=quantity,
                effective_date=day, recorded_at=now, trial=trial, trial_days=trial_days,
                auto_renew=auto_renew,
            )
            acc.add_subscription(subscription, terms.currency, effective_date=day, recorded_at=now)
            return sub.id, [sub, acc]

        payload = {"account": account, "subscription": subscription, "offer": offer,
                   "quantity": quantity, "effective_date": effective_date, "trial": trial,
                   "trial_days": trial_days, "auto_renew": auto_renew}
        result = UUID(self._execute("purchase", payload, idempotency_key, body))
        self._wake.pop(account, None)  # a new subscription may fall due before the account did
        return result

    def _on_subscription(
        self, command: str, account: str, subscription: str, effective_date: date | None,
        idempotency_key: str | None, action: Callable[[Subscription, date], None],
        **arguments: Any,
    ) -> None:
        day = self._effective(effective_date)

        def body() -> tuple[None, list[Aggregate]]:
            sub = self._subscription(account, subscription)
            self._catch_up(sub, day)
            action(sub, day)
            return None, [sub]

        payload = {"account": account, "subscription": subscription,
                   "effective_date": effective_date, **arguments}
        self._execute(command, payload, idempotency_key, body)
        self._wake.pop(account, None)

    def change_quantity(
        self, account: str, subscription: str, quantity: int, *, effective_date: date | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        self._on_subscription(
            "change_quantity", account, subscription, effective_date, idempotency_key,
            lambda sub, day: sub.change_quantity(quantity, effective_date=day,
                                                 recorded_at=self.clock.now()),
            quantity=quantity,
        )

    def suspend(self, account: str, subscription: str, *, effective_date: date | None = None,
                idempotency_key: str | None = None) -> None:
        self._on_subscription(
            "suspend", account, subscription, effective_date, idempotency_key,
            lambda sub, day: sub.suspend(effective_date=day, recorded_at=self.clock.now()),
        )

    def reactivate(self, account: str, subscription: str, *, effective_date: date | None = None,
                   idempotency_key: str | None = None) -> None:
        self._on_subscription(
            "reactivate", account, subscription, effective_date, idempotency_key,
            lambda sub, day: sub.reactivate(effective_date=day, recorded_at=self.clock.now()),
        )

    def cancel(
        self, account: str, subscription: str, *, channel: str | Channel = Channel.ONLINE,
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> None:
        self._on_subscription(
            "cancel", account, subscription, effective_date, idempotency_key,
            lambda sub, day: sub.cancel(effective_date=day, channel=channel,
                                        recorded_at=self.clock.now()),
            channel=channel.value if isinstance(channel, Channel) else channel,
        )

    def add_payment_method(self, account: str, subscription: str, *,
                           effective_date: date | None = None,
                           idempotency_key: str | None = None) -> None:
        self._on_subscription(
            "add_payment_method", account, subscription, effective_date, idempotency_key,
            lambda sub, day: sub.add_payment_method(effective_date=day,
                                                    recorded_at=self.clock.now()),
        )

    def set_auto_renew(
        self, account: str, subscription: str, enabled: bool, *, effective_date: date | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        self._on_subscription(
            "set_auto_renew", account, subscription, effective_date, idempotency_key,
            lambda sub, day: sub.set_auto_renew(enabled, effective_date=day,
                                                recorded_at=self.clock.now()),
            enabled=enabled,
        )

    def subscription(self, account: str, subscription: str) -> Subscription:
        """The subscription as the store has it now."""
        sub: Subscription = self._get(
            ids.subscription_id(account, subscription),
            UnknownSubscription(
                f"unknown subscription {shown(subscription)} in account {shown(account)}"),
            fresh=True,
        )
        return sub

    # ------------------------------------------------------------------ time
    def _catch_up(self, sub: Subscription, through: date) -> None:
        """Record the trial ends and term ends of ``sub`` that fall on or before ``through``."""
        while (when := sub.next_transition()) is not None and when <= through:
            if sub.trial_end is not None and sub.term is None:
                sub.end_trial(recorded_at=self.clock.now())
            else:
                sub.end_term(catalog_terms=self._catalog_terms(sub.offer.offer_id),
                             recorded_at=self.clock.now())

    def _catalog_terms(self, offer_id: str) -> OfferTerms | None:
        try:
            return self.offer_terms(offer_id)
        except UnknownOffer:
            return None

    def advance_to(self, day: date) -> None:
        """Move a test clock to the start of ``day``, doing everything due before it as a
        daily job would: what falls due on a date is done at the start of the next day (the
        clock stepping there), so recorded times read as they would in production and "as
        known at" questions get the answers they would get there."""
        clock = self.clock
        if not isinstance(clock, TestClock):
            raise InvalidInput("advance_to needs a TestClock; with a real clock use run_due()")
        bounds.business_date(day, "advance_to's day")
        if start_of(day) < clock.now():
            clock.set(day)  # refused: the clock never goes back
        last = day - timedelta(days=1)
        self.run_due(min(last, clock.today() - timedelta(days=1)))  # what was overdue already
        keys = self.account_keys()
        while True:
            # After a run every account has a wake date: when it next has something due.
            due = min((self._wake.get(key, clock.today()) for key in keys), default=None)
            if due is None or due > last:
                break
            clock.set(max(clock.now(), start_of(due + timedelta(days=1))))
            for key in keys:
                wake = self._wake.get(key)
                if wake is None or wake <= due:
                    self._run_account(key, due)
        clock.set(day)

    def run_due(self, through: date | None = None) -> None:
        """Do everything due on or before ``through`` (default: yesterday), in date order:
        each account's trial ends and renewals, then its billing dates."""
        current = today(self.clock)
        last = through if through is not None else current - timedelta(days=1)
        bounds.business_date(last, "the date to run through")
        if last > current:
            raise EffectiveDateInFuture(
                f"cannot run {last.isoformat()} yet: the ledger's clock says {current.isoformat()}"
            )
        for key in self.account_keys():
            wake = self._wake.get(key)
            if wake is None or wake <= last:
                self._run_account(key, last)

    def _run_account(self, account: str, through: date) -> None:
        """:meth:`run_account_due`, a failure named by account. Each cut is one atomic
        write: the dates cut before it stand, and a rerun carries on from the first one
        not cut."""
        try:
            self.run_account_due(account, through)
        except Exception as error:
            raise BillingRunIncomplete(account, error) from error

    def run_account_due(self, account: str, through: date) -> None:
        """Everything due for one account on or before ``through``, exactly once."""
        while True:
            acc = self._account(account)
            subs = [self._subscription(account, key) for key in acc.subscriptions]
            next_cut = acc.next_billing_date()
            upcoming = [when for sub in subs if (when := sub.next_transition()) is not None]
            first = min(upcoming, default=None)
            if first is not None and first <= through and first <= next_cut:
                for sub in subs:
                    if sub.next_transition() == first:
                        self._retrying(partial(self._transition, account, sub.key, first))
                continue
            if next_cut > through:
                # Nothing is due for this account before this date; run_due skips it until
                # then (or until a command of this process touches it).
                self._wake[account] = min([next_cut, *upcoming])
                return
            self._retrying(partial(self.cut, account, next_cut))

    def _transition(self, account: str, key: str, when: date) -> None:
        sub = self._subscription(account, key)
        self._catch_up(sub, when)
        self.save(sub)

    # ------------------------------------------------------------------ billing
    def cut(self, account: str, billing_date: date) -> str | None:
        """Cut ``billing_date`` for ``account``: rate, post, issue. Returns the invoice number,
        or None when the date posted nothing.

        Each subscription is rated from the checkpoint its last posting recorded and the
        events after it, so a cut reads what its period holds, not the whole history."""
        acc = self._account(account)
        subs: dict[str, Subscription] = {}
        inputs: dict[str, Rated] = {}
        for key in acc.subscriptions:
            sub, tail = self._rating_input(account, key)
            if sub.last_billing_date is not None and sub.last_billing_date >= billing_date:
                raise LogAltered(
                    f"account {account}: subscription {key} posted charges for "
                    f"{sub.last_billing_date.isoformat()}, but the account's record of cutting "
                    "that date is not in the log; nothing was issued (run billing-ledger verify)"
                )
            subs[key] = sub
            inputs[key] = Rated(subscription_info(sub), tail, sub.checkpoint)
        log = self.log_point()
        now = self.clock.now()
        result = derive_cut(
            account=acc.key, account_name=acc.name, currency=acc.currency, balance=acc.balance,
            payments=acc.payments_since_invoice, subscriptions=inputs, billing_date=billing_date,
            log=log, partner_id=self.partner_id,
        )
        position = log.position
        versions = {key: sub.version for key, sub in subs.items()}
        to_save: list[Aggregate] = []  # postings first, then the account's record of the cut
        for key, rated in result.ratings.items():
            if rated.has_anything_to_post:
                sub = subs[key]
                sub.post_charges(
                    billing_date=billing_date, lines=rated.lines,
                    rated_version=rated.rated_version, rules_version=rating.RULES_VERSION,
                    checkpoint=rated.checkpoint, recorded_at=now,
                )
                to_save.append(sub)
        if result.invoice is None:
            acc.close_billing_date(billing_date=billing_date, cut_position=position,
                                   subscription_versions=versions, recorded_at=now)
            self.save(*to_save, acc)
            return None
        invoice = result.invoice
        number = invoice.invoice_number
        acc.issue_invoice(
            billing_date=billing_date, invoice_number=number,
            document=invoice.canonical_bytes().decode(), digest=invoice.digest(),
            cut_position=position, subscription_versions=versions,
            amount_due=invoice.amount_due.amount, recorded_at=now,
        )
        self.save(*to_save, acc)
        return number

    def _rating_input(self, account: str, key: str) -> tuple[Subscription, list[Any]]:
        """A subscription and the events rating needs beside its checkpoint: those after
        the checkpoint's rated version (all of them when it has none yet). The aggregate is
        the one those events end at (reloaded when the cached one lags behind the store)."""
        fresh = False
        while True:
            sub: Subscription = self._get(
                ids.subscription_id(account, key),
                UnknownSubscription(f"unknown subscription {key!r} in account {account!r}"),
                fresh=fresh)
            after = sub.checkpoint.rated_version if sub.checkpoint is not None else 0
            tail = list(self.events.get(ids.subscription_id(account, key), gt=after))
            if not tail or tail[-1].originator_version == sub.version:
                return sub, tail
            fresh = True  # another writer appended since this process cached it

    # ------------------------------------------------------------------ the log, read
    # What the read side reads of the log (projections.log.EventLog): it depends on these,
    # not on the rest of this class.
    def last_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def notifications(self, after: int, limit: int, *, topics: Sequence[str] = (),
                      stop: int | None = None) -> Sequence[Notification]:
        return self.recorder.select_notifications(start=after, limit=limit, stop=stop,
                                                  topics=topics, inclusive_of_start=False)

    def decode(self, notification: Notification) -> Any:
        return self.mapper.to_domain_event(notification)

    def aggregate_events(self, originator_id: UUID, *, gt: int | None = None,
                         lte: int | None = None) -> list[Any]:
        return list(self.events.get(originator_id, gt=gt, lte=lte))

    def latest_snapshot(self, originator_id: UUID) -> Any | None:
        if self.snapshots is None:
            return None
        found = list(self.snapshots.get(originator_id, desc=True, limit=1))
        return found[0] if found else None

    def positions(self, batch: int = 5000) -> Iterator[tuple[int, Notification | None, Seal | None]]:
        if isinstance(self.recorder, ChainedRecorder):
            yield from walk(self.recorder, batch)
            return
        after = 0
        while found := self.notifications(after, batch):
            for note in found:
                yield note.id, note, None
            after = found[-1].id

    def chain_origin(self) -> int | None:
        return self.recorder.chain_origin() if isinstance(self.recorder, ChainedRecorder) else None

    def log_point(self) -> invoicing.LogPoint:
        """The log's last position and its seal: what a cut records in its invoice."""
        position = self.recorder.max_notification_id() or 0
        if not isinstance(self.recorder, ChainedRecorder):
            return invoicing.LogPoint(position, None)
        seal = self.recorder.head(position)
        if position and (seal is None or seal.position != position):
            raise LogAltered(
                f"the log's last event (position {position}) has no seal: it was recorded "
                "outside the ledger; nothing was issued (run billing-ledger verify)"
            )
        return invoicing.LogPoint(position, seal.hash if seal else None)

    def preview(self, account: str, billing_date: date | None = None) -> list[ChargeLine]:
        """The lines the next billing date to cut would post, issuing nothing.

        ``billing_date``, when given, must be that date: a later one would merge the lines
        of the dates before it, which are cut (and invoiced) on their own."""
        acc = self._account(account)
        when = acc.next_billing_date()
        if billing_date is not None:
            bounds.business_date(billing_date, "preview date")
        if billing_date is not None and billing_date != when:
            raise InvalidInput(
                f"account {account}: the next billing date to cut is {when.isoformat()}, "
                f"not {billing_date.isoformat()}; cut up to it first (bill --until), or read an "
                "issued invoice"
            )
        lines: list[ChargeLine] = []
        for key in acc.subscriptions:
            sub, tail = self._rating_input(account, key)
            lines.extend(rating.rate(tail, when, sub.checkpoint).lines)
        return lines

    def issued_invoices(self, account: str) -> Iterator[BillingAccount.InvoiceIssued]:
        """The account's issued invoices, oldest first, as recorded."""
        for ev in self.events.get(ids.account_id(account)):
            if isinstance(ev, BillingAccount.InvoiceIssued):
                yield ev


def _mutate_all(aggregate: Any, events: Iterable[Any]) -> Any:
    """The repository's projector: :func:`ledger.aggregate.replay` (the library's own also
    asserts a runtime Protocol on every event, which costs more than applying it)."""
    return replay(events, aggregate)
