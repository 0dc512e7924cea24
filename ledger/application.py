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
from datetime import date, datetime
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
from ledger.clock import Clock, SystemClock, today
from ledger.commands import (
    AddPaymentMethod,
    Cancel,
    ChangeQuantity,
    Command,
    CommandMethods,
    DefineOffer,
    OpenAccount,
    Purchase,
    Reactivate,
    RecordPayment,
    SetAutoRenew,
    SubscriptionCommand,
    Suspend,
)
from ledger.cut import Rated, derive_cut, subscription_info
from ledger.errors import (
    ConcurrencyConflict,
    DateAlreadyCut,
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
from ledger.scheduler import BillRun, Scheduler
from ledger.subscription import Subscription
from ledger.transcodings import LedgerSnapshot, LedgerTranscoder, register_ledger_transcodings

T = TypeVar("T")
R = TypeVar("R")

#: How many times a command is re-applied to fresh state after losing a race.
MAX_ATTEMPTS = 8


#: What a handler returns: the body a command runs (inside retries): its result and the
#: aggregates to save.
Body = Callable[[], tuple[Any, list[Aggregate]]]
_HANDLERS: dict[type[Command[Any]], Callable[[Any, Any], Body]] = {}


def _handles(kind: type[Command[Any]]) -> Callable[[Callable[[Any, Any], Body]], Callable[[Any, Any], Body]]:
    """Register a method of the application as the handler of ``kind``."""

    def register(method: Callable[[Any, Any], Body]) -> Callable[[Any, Any], Body]:
        _HANDLERS[kind] = method
        return method

    return register


class BillingApplication(CommandMethods, Application[UUID]):
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
        self.scheduler = Scheduler(self)  # what falls due, done in date order
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

    # ------------------------------------------------------------------ commands
    def handle(self, command: Command[R]) -> R:
        """Handle a command (:mod:`ledger.commands`): its handler checks it and decides which
        events to record, and they are saved in one atomic write with the idempotency record
        when the command carries a key. A typed method per command (``purchase(...)``) comes
        from :class:`~ledger.commands.CommandMethods`."""
        handler = _HANDLERS.get(type(command))
        if handler is None:
            raise InvalidInput(f"not a command this ledger handles: {shown(command)}")
        body = handler(self, command)  # checks what needs no aggregate, before anything else
        recorded = self._execute(command.kind, command.payload(), command.idempotency_key, body)
        account = getattr(command, "account", None)
        if isinstance(account, str):
            self.scheduler.touched(account)  # it may fall due sooner than the scheduler thought
        return command.result(recorded)

    @_handles(DefineOffer)
    def _define_offer(self, command: DefineOffer) -> Body:
        terms = OfferTerms.checked(command.terms)  # terms built without OfferTerms.create, too

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

        return body

    @_handles(OpenAccount)
    def _open_account(self, command: OpenAccount) -> Body:
        key = command.account
        bounds.identifier(key, "account id", InvalidAccount)
        day = self._effective(command.effective_date)

        def body() -> tuple[None, list[Aggregate]]:
            if ids.account_id(key) in self.repository:
                raise DuplicateAccount(f"account {key!r} already exists")
            now = self.clock.now()
            account = BillingAccount.open(
                key=key, billing_day=command.billing_day, name=command.name,
                currency=command.currency, effective_date=day, recorded_at=now,
                locale=command.locale,
            )
            try:
                registry: AccountRegistry = self.repository.get(ids.registry_id())
            except AggregateNotFoundError:
                registry = AccountRegistry(timestamp=now)
            registry.register(key, recorded_at=now)
            return None, [account, registry]

        return body

    @_handles(RecordPayment)
    def _record_payment(self, command: RecordPayment) -> Body:
        day = self._effective(command.effective_date)

        def body() -> tuple[None, list[Aggregate]]:
            acc = self._account(command.account)
            acc.record_payment(command.amount, effective_date=day, recorded_at=self.clock.now(),
                               reference=command.reference)
            return None, [acc]

        return body

    @_handles(Purchase)
    def _purchase(self, command: Purchase) -> Body:
        account, subscription = command.account, command.subscription
        bounds.identifier(subscription, "subscription id")
        day = self._effective(command.effective_date)

        def body() -> tuple[UUID, list[Aggregate]]:
            acc = self._account(account)
            terms = self.offer_terms(command.offer)
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
                account=account, key=subscription, offer=terms, quantity=command.quantity,
                effective_date=day, recorded_at=now, trial=command.trial,
                trial_days=command.trial_days, auto_renew=command.auto_renew,
            )
            acc.add_subscription(subscription, terms.currency, effective_date=day, recorded_at=now)
            return sub.id, [sub, acc]

        return body

    def _on_subscription(self, command: SubscriptionCommand, effective_date: date | None,
                         action: Callable[[Subscription, date, datetime], None]) -> Body:
        """A command on one subscription: brought up to its effective date (trial ends and
        renewals before it), then ``action`` (sub, effective date, recorded time)."""
        day = self._effective(effective_date)

        def body() -> tuple[None, list[Aggregate]]:
            sub = self._subscription(command.account, command.subscription)
            sub.catch_up(day, catalog_terms=self._catalog_terms, recorded_at=self.clock.now())
            action(sub, day, self.clock.now())
            return None, [sub]

        return body

    @_handles(ChangeQuantity)
    def _change_quantity(self, command: ChangeQuantity) -> Body:
        return self._on_subscription(command, command.effective_date, lambda sub, day, now: (
            sub.change_quantity(command.quantity, effective_date=day, recorded_at=now)))

    @_handles(Suspend)
    def _suspend(self, command: Suspend) -> Body:
        return self._on_subscription(command, command.effective_date, lambda sub, day, now: (
            sub.suspend(effective_date=day, recorded_at=now)))

    @_handles(Reactivate)
    def _reactivate(self, command: Reactivate) -> Body:
        return self._on_subscription(command, command.effective_date, lambda sub, day, now: (
            sub.reactivate(effective_date=day, recorded_at=now)))

    @_handles(Cancel)
    def _cancel(self, command: Cancel) -> Body:
        return self._on_subscription(command, command.effective_date, lambda sub, day, now: (
            sub.cancel(effective_date=day, channel=command.channel, recorded_at=now)))

    @_handles(AddPaymentMethod)
    def _add_payment_method(self, command: AddPaymentMethod) -> Body:
        return self._on_subscription(command, command.effective_date, lambda sub, day, now: (
            sub.add_payment_method(effective_date=day, recorded_at=now)))

    @_handles(SetAutoRenew)
    def _set_auto_renew(self, command: SetAutoRenew) -> Body:
        return self._on_subscription(command, command.effective_date, lambda sub, day, now: (
            sub.set_auto_renew(command.enabled, effective_date=day, recorded_at=now)))

    # ------------------------------------------------------------------ reading aggregates
    def offer_terms(self, offer_id: str) -> OfferTerms:
        offer: Offer = self._get(ids.offer_id(offer_id),
                                 UnknownOffer(f"unknown offer {shown(offer_id)}"), fresh=True)
        return offer.terms

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
    def _catalog_terms(self, offer_id: str) -> OfferTerms | None:
        try:
            return self.offer_terms(offer_id)
        except UnknownOffer:
            return None

    def record_transitions(self, account: str, keys: Sequence[str], through: date) -> int:
        """Record the trial ends and term ends on or before ``through`` of an account's
        subscriptions ``keys``, in one transaction; returns how many were recorded (the
        scheduler calls this, inside a retry)."""
        subs = [self._subscription(account, key) for key in keys]
        before = sum(sub.version for sub in subs)
        for sub in subs:
            sub.catch_up(through, catalog_terms=self._catalog_terms, recorded_at=self.clock.now())
        self.save(*subs)
        return sum(sub.version for sub in subs) - before

    def advance_to(self, day: date) -> BillRun:
        """With a test clock: :meth:`Scheduler.advance_to <ledger.scheduler.Scheduler.advance_to>`."""
        return self.scheduler.advance_to(day)

    def run_due(self, through: date | None = None) -> BillRun:
        """:meth:`Scheduler.run_due <ledger.scheduler.Scheduler.run_due>`: everything due on
        or before ``through`` (default: yesterday), in date order."""
        return self.scheduler.run_due(through)

    # ------------------------------------------------------------------ billing
    def cut(self, account: str, billing_date: date) -> str | None:
        """Cut ``billing_date`` for ``account``: rate, post, issue. Returns the invoice number,
        or None when the date posted nothing.

        Each subscription is rated from the checkpoint its last posting recorded and the
        events after it, so a cut reads what its period holds, not the whole history."""
        acc = self._account(account)
        if acc.next_billing_date() != billing_date:
            raise DateAlreadyCut(
                f"account {account}: {billing_date.isoformat()} was cut already; the next "
                f"billing date to cut is {acc.next_billing_date().isoformat()}")
        subs: dict[str, Subscription] = {}
        inputs: dict[str, Rated] = {}
        for key in acc.subscriptions:
            sub, tail = self._rating_input(account, key)
            if sub.last_billing_date is not None and sub.last_billing_date >= billing_date:
                fresh = self.account(account)  # another process may have cut it meanwhile
                if fresh.next_billing_date() != billing_date:
                    raise DateAlreadyCut(f"account {account}: {billing_date.isoformat()} was cut "
                                         "by another process")
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
