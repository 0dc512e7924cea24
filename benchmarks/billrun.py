"""Figure 5: what a billing run costs as a book ages, against the store's own limits.

An aging book: ``accounts`` accounts billed on the 28th, three monthly subscriptions each
(a one-month term, a yearly term billed monthly, both conventions), one license change per
subscription per month, for ``years`` years. Month after month the license changes are made
(untimed), then the bill run is timed: the scheduler renews the one-month terms and cuts the
28th of every account.

1. Cost per account-month of the bill run in year 1 and in the last year: their ratio says
   whether a cut costs what its period holds (target <= 1.2) or the account's age.
2. The same bill runs against a bare eventsourcing ``Application`` that reads the same
   events (the same ``select_events`` calls on the same store, decoded) and saves the same
   events in the same transactions (encoded, under new aggregate ids, to a store of its
   own): bill-run throughput / bare throughput (target >= 0.5). The two are
   taken month by month in turn, so a machine whose speed drifts slows both alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, StoredEvent

from ledger.application import BillingApplication
from ledger.clock import TestClock
from ledger.errors import LedgerError
from ledger.eventstore import prepare, store_env
from ledger.offers import OfferTerms
from ledger.transcodings import register_ledger_transcodings

OFFERS = (
    OfferTerms.create("bp", price="22.00", currency="USD", term="P1M", billing="monthly",
                      convention="daily-rate", daily_rate_places=3),
    OfferTerms.create("e3y", price="240.00", currency="USD", term="P1Y", billing="monthly",
                      convention="exact"),
    OfferTerms.create("visio", price="15.00", currency="USD", term="P1M", billing="monthly",
                      convention="exact"),
)
START = date(2010, 1, 1)


@dataclass
class Calls:
    """The store calls one bill run made: reads (recorder, arguments) and writes (events)."""

    reads: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    writes: list[list[StoredEvent]] = field(default_factory=list)
    events_read: int = 0


@dataclass
class BillRunFigures:
    accounts: int = 0
    years: int = 0
    first_year_ms: float = 0.0  # per account-month: a new book, billed beside the last year
    last_year_ms: float = 0.0
    own_first_year_ms: float = 0.0  # the aging book's own first year (years earlier)
    bill_rate: float = 0.0  # account-months per second, whole run
    bare_rate: float = 0.0  # the same calls' account-months per second on a bare Application
    events: int = 0

    @property
    def aging_ratio(self) -> float:
        return self.last_year_ms / self.first_year_ms if self.first_year_ms else 0.0

    @property
    def bare_ratio(self) -> float:
        return self.bill_rate / self.bare_rate if self.bare_rate else 0.0


def _record(app: BillingApplication, calls: Calls) -> Callable[[], None]:
    """Record every read and write ``app`` makes until the returned function is called."""
    recorders: dict[str, Any] = {"events": app.recorder}
    if app.snapshots is not None:
        recorders["snapshots"] = app.snapshots.recorder
    originals: list[tuple[Any, str, Any]] = []
    for name, recorder in recorders.items():
        select = recorder.select_events

        def reading(originator_id: Any, *, _name: str = name, _select: Any = select,
                    **kwargs: Any) -> Sequence[StoredEvent]:
            found: Sequence[StoredEvent] = _select(originator_id, **kwargs)
            calls.reads.append((_name, {"originator_id": originator_id, **kwargs}))
            calls.events_read += len(found)
            return found

        originals.append((recorder, "select_events", select))
        recorder.select_events = reading
    insert = app.recorder.insert_events

    def writing(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        calls.writes.append(list(stored_events))
        return insert(stored_events, **kwargs)

    originals.append((app.recorder, "insert_events", insert))
    app.recorder.insert_events = writing  # type: ignore[method-assign]

    def stop() -> None:
        for recorder, attribute, original in originals:
            setattr(recorder, attribute, original)

    return stop


class BareWriter(Application[uuid.UUID]):
    """A bare eventsourcing Application that can encode the ledger's events."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_ledger_transcodings(transcoder)


def _bare_writes(reader: BillingApplication, calls: Calls) -> list[list[Any]]:
    """The events ``calls`` saved, decoded and given new aggregate ids (before timing)."""
    groups = []
    for group in calls.writes:
        fresh = {stored.originator_id: uuid.uuid4() for stored in group}
        groups.append([dataclasses.replace(cast(Any, reader.mapper.to_domain_event(stored)),
                                           originator_id=fresh[stored.originator_id])
                       for stored in group])
    return groups


def _bare_replay(reader: BillingApplication, writer: BareWriter, calls: Calls,
                 writes: list[list[Any]]) -> None:
    """What ``calls`` did, done by bare Applications: the same reads, decoded, and the same
    events encoded and saved (under new aggregate ids) in the same transactions."""
    for name, kwargs in calls.reads:
        store = reader.events if name == "events" else reader.snapshots
        assert store is not None
        for stored in store.recorder.select_events(**kwargs):
            reader.mapper.to_domain_event(stored)
    for group in writes:
        writer.recorder.insert_events([writer.mapper.to_stored_event(event) for event in group])


class _AgingBook:
    """One aging book: accounts billed on the 28th, the three offers each, bought on
    ``start``; a month of it is the untimed renewals and license changes, then the timed
    bill run of the 28th (its store calls recorded)."""

    def __init__(self, location: str, start: date, accounts: int) -> None:
        self.app = BillingApplication(store_env(location), clock=TestClock(start))
        self.keys = [f"acct{n:03d}" for n in range(accounts)]
        for terms in OFFERS:
            self.app.define_offer(terms)
        for key in self.keys:
            self.app.open_account(key, billing_day=28)
            for number, terms in enumerate(OFFERS):
                self.app.purchase(key, f"S{number}", terms.offer_id, 5)

    def month(self, year: int, index: int, age: int, calls: Calls) -> float:
        """Seconds per account of the bill run of month ``index`` (0-11) of ``year``."""
        app = self.app
        app.advance_to(date(year, index + 1, 10))  # renewals of the 1st, untimed
        for key in self.keys:
            for number in range(len(OFFERS)):
                with contextlib.suppress(LedgerError):  # the same quantity: no change
                    app.change_quantity(key, f"S{number}", 5 + (age + number) % 4 + 1)
        stop = _record(app, calls)
        started = time.perf_counter()
        app.advance_to(date(year, index + 1, 28) + timedelta(days=1))  # the bill run: the 28th
        elapsed = time.perf_counter() - started
        stop()
        return elapsed / len(self.keys)


def measure_bill_run(location: str, raw_location: str, young_location: str,
                     accounts: int = 10, years: int = 10,
                     log: Callable[[str], None] = print) -> BillRunFigures:
    """Age a book ``years`` years; in its last year, a new book of the same shape is billed
    beside it, month by month in turn, so year N and year 1 are timed in the same minutes
    of the same machine (its speed drifts over a long run). Every month of the old book is
    also replayed by a bare Application, for the throughput ratio."""
    reader = BillingApplication(store_env(location))  # reads and decodes only: a bare reader
    raw_env = store_env(raw_location)
    prepare(raw_env)
    writer = BareWriter(env=raw_env)
    figures = BillRunFigures(accounts=accounts, years=years)
    old = _AgingBook(location, START, accounts)
    young: _AgingBook | None = None
    try:
        months = 12 * years
        per_month: list[float] = []
        young_months: list[float] = []
        bill_seconds = bare_seconds = 0.0
        for month in range(months):
            year, index = START.year + month // 12, month % 12
            if month == months - 12:
                young = _AgingBook(young_location, date(year, 1, 1), accounts)
            if young is not None and month % 2:  # the young book first every other month
                young_months.append(young.month(year, index, month, Calls()) * 1000)
            calls = Calls()
            elapsed = old.month(year, index, month, calls)
            if young is not None and not month % 2:
                young_months.append(young.month(year, index, month, Calls()) * 1000)
            writes = _bare_writes(reader, calls)
            started = time.perf_counter()
            _bare_replay(reader, writer, calls, writes)
            bare = time.perf_counter() - started
            per_month.append(elapsed * 1000)
            bill_seconds += elapsed * accounts
            bare_seconds += bare
            if month % 12 == 11:
                log(f"  bill run: year {month // 12 + 1}, {per_month[-1]:.1f} ms per account-month, "
                    f"{old.app.recorder.max_notification_id()} events")
        figures.own_first_year_ms = sum(per_month[:12]) / 12
        figures.first_year_ms = sum(young_months) / len(young_months)
        figures.last_year_ms = sum(per_month[-12:]) / 12
        figures.bill_rate = accounts * months / bill_seconds
        figures.bare_rate = accounts * months / bare_seconds
        figures.events = old.app.recorder.max_notification_id() or 0
        return figures
    finally:
        writer.close()
        reader.close()
        old.app.close()
        if young is not None:
            young.app.close()


@dataclass
class WorkerFigures:
    """Figure 6: one bill run split among worker processes, against one process."""

    accounts: int = 0
    months: int = 0
    rates: dict[int, float] = field(default_factory=dict)  # workers -> account-months/s
    # In the one-process runs: writes, and seconds inside the recorder's insert_events (on
    # PostgreSQL the events table's exclusive lock is held for nearly all of it).
    writes: int = 0
    write_seconds: float = 0.0

    @property
    def locked_ms(self) -> float:
        """Milliseconds per account-month holding the log's lock (one process)."""
        return self.write_seconds * 1000 / (self.accounts * self.months) if self.months else 0.0

    @property
    def ceiling(self) -> float:
        """Account-months/s at which the log's lock would be held all the time."""
        return 1000 / self.locked_ms if self.locked_ms else 0.0

    def speedup(self, workers: int) -> float:
        return self.rates[workers] / self.rates[1] if self.rates.get(1) else 0.0


def _workers_book(location: str, accounts: int) -> None:
    """``accounts`` accounts billed on the 28th, the three offers each, bought on START."""
    from billing_ledger.api import Ledger

    with Ledger(location, clock=TestClock(START)) as ledger:
        for terms in OFFERS:
            ledger.define_offer(terms)
        for number in range(accounts):
            key = f"acct{number:04d}"
            ledger.open_account(key, billing_day=28)
            for index, terms in enumerate(OFFERS):
                ledger.purchase(key, f"S{index}", terms.offer_id, 5 + (number + index) % 7)


def measure_workers(locations: dict[int, str], accounts: int = 600, months: int = 6,
                    log: Callable[[str], None] = print) -> WorkerFigures:
    """The same book in one store per worker count, aged month by month as figure 5's is:
    each month, untimed, the renewals of the 1st and one license change per subscription
    on the 10th; then, timed, the bill run that cuts every account's 28th, with 1 or N
    worker processes. The worker counts take turns month by month (a drifting machine slows
    them alike). Each run starts cold, as ``billing-ledger bill`` does (no aggregate the
    commands loaded is cached), and pays its own start-up."""
    from billing_ledger.api import Ledger

    figures = WorkerFigures(accounts=accounts, months=months)
    seconds = dict.fromkeys(locations, 0.0)
    for location in locations.values():
        _workers_book(location, accounts)
    end = date(START.year + months // 12 + 1, 1, 1)
    for month in range(months):
        year, number = START.year + month // 12, month % 12 + 1
        for workers, location in locations.items():
            with Ledger(location, clock=TestClock(end)) as ledger:
                ledger.run_due(date(year, number, 9))  # the renewals of the 1st
                for index in range(accounts):
                    for sub in range(len(OFFERS)):
                        ledger.change_quantity(f"acct{index:04d}", f"S{sub}",
                                               5 + (month + index + sub) % 7 + 1,
                                               effective_date=date(year, number, 10))
            with Ledger(location, clock=TestClock(end)) as ledger:  # cold, as a new process
                if workers == 1:
                    _time_writes(ledger.app, figures)
                started = time.perf_counter()
                ledger.bill(date(year, number, 28), advance_clock=False, workers=workers)
                seconds[workers] += time.perf_counter() - started
        log(f"  workers: month {month + 1}, " + ", ".join(
            f"{workers}: {accounts * (month + 1) / spent:,.1f} account-months/s"
            for workers, spent in seconds.items()))
    figures.rates = {workers: accounts * months / spent for workers, spent in seconds.items()}
    return figures


def _time_writes(app: BillingApplication, figures: WorkerFigures) -> None:
    """Count ``app``'s writes and the seconds they take into ``figures``."""
    insert = app.recorder.insert_events

    def timed(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return insert(stored_events, **kwargs)
        finally:
            figures.write_seconds += time.perf_counter() - started
            figures.writes += 1

    app.recorder.insert_events = timed  # type: ignore[method-assign]
