"""The ledger against the limits of its own store: one command, figures printed.

    python -m benchmarks.run --events 100000 [--backend sqlite|postgres] [--data DIR] [--pg URL]

1. commands per second through the application API, and the same store's raw rate of
   appending equivalent events with a bare eventsourcing Application (target ratio >= 0.70);
2. a full rebuild of every projection, events per second, and the same run's raw rate of
   reading and decoding the same notifications (target ratio >= 0.30);
3. the latency of re-deriving one issued invoice of an account with 10 years of monthly
   history (median and p95 over all its invoices; target < 50 ms);
4. the peak resident memory of a rebuild at two sizes at least 10x apart (target: flat
   within 20%);
5. the bill run as a book ages (``benchmarks/billrun.py``): cost per account-month in year 1
   and in year 10 (target ratio <= 1.2), and its throughput against a bare Application
   making the same reads and writes (target >= 0.5);
6. (PostgreSQL) one bill run split among worker processes (``bill --workers``):
   account-months per second with 1 and 2 workers on the same book (target: 2 workers
   >= 1.5x one).

The book is generated reproducibly from ``--seed`` (``benchmarks/book.py``) and kept in
``--data`` (default ``benchmarks/data/book-<events>.sqlite``; on PostgreSQL the schema
``bench_<events>``), so later runs reuse it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from benchmarks.billrun import BillRunFigures, WorkerFigures, measure_bill_run, measure_workers
from benchmarks.book import generate, play
from ledger import ids
from ledger.account import BillingAccount
from ledger.application import BillingApplication
from ledger.clock import TestClock
from ledger.errors import LedgerError
from ledger.eventstore import prepare, store_env
from ledger.offers import OfferTerms
from projections.runner import Projector, ViewStore
from projections.verification import rederive_from_log
from projections.view_rows import TOPICS

DATA = Path(__file__).parent / "data"
EVENTS_PER_ACCOUNT_YEAR = 33  # measured on generate(): used to size the book


@dataclass
class Figures:
    backend: str
    events: int = 0
    accounts: int = 0
    generation_seconds: float = 0.0
    commands: int = 0
    command_rate: float = 0.0
    cold_command_rate: float = 0.0
    raw_append_rate: float = 0.0
    rebuild_events: int = 0
    rebuild_rate: float = 0.0
    raw_read_rate: float = 0.0
    invoice_latency_ms: dict[str, float] = field(default_factory=dict)
    rebuild_peak_rss_mb: dict[str, float] = field(default_factory=dict)
    bill_run: BillRunFigures | None = None
    workers: WorkerFigures | None = None
    machine: str = ""

    @property
    def command_ratio(self) -> float:
        return self.command_rate / self.raw_append_rate if self.raw_append_rate else 0.0

    @property
    def rebuild_ratio(self) -> float:
        return self.rebuild_rate / self.raw_read_rate if self.raw_read_rate else 0.0


# ---------------------------------------------------------------------------- the book
def location_for(args: argparse.Namespace, events: int, suffix: str = "") -> str:
    if args.backend == "postgres":
        base = args.pg or "postgresql://postgres@127.0.0.1:5432/test"
        return f"{base}?schema=bench_{events}{suffix.replace('-', '_')}"
    folder = Path(args.data)
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / f"book-{events}{suffix}.sqlite")


def build_book(location: str, events: int, seed: int, years: int) -> tuple[int, int, float]:
    """Generate (or reuse) a book of about ``events`` events; (events, accounts, seconds)."""
    accounts = max(1, round(events / (EVENTS_PER_ACCOUNT_YEAR * years)))
    plan = generate(accounts, years=years, seed=seed)
    app = BillingApplication(store_env(location), clock=TestClock(plan.start))
    try:
        existing = app.recorder.max_notification_id() or 0
        if existing:
            return existing, accounts, 0.0
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done % 100 == 0 or done == total:
                log(f"  book: day {done}/{total}, {app.recorder.max_notification_id()} events")

        play(plan, app, progress=progress)
        return app.recorder.max_notification_id() or 0, accounts, time.perf_counter() - started
    finally:
        app.close()


# ---------------------------------------------------------------------------- 1. commands
class Probe(Aggregate):
    """The bare baseline: an aggregate whose event carries what a license change carries."""

    @event("Created")
    def __init__(self, quantity: int) -> None:
        self.quantity = quantity

    @event("QuantityChanged")
    def change(self, quantity: int, previous_quantity: int, effective_date: str) -> None:
        self.quantity = quantity


#: Commands (and raw saves) per block; the two alternate block by block (see below).
BLOCK = 250


def measure_commands(location: str, raw_location: str, count: int,
                     day: date) -> tuple[float, float, float]:
    """License changes per second through ``BillingApplication`` on ``day`` (the book's last day,
    so no renewal falls due on the way), and a bare ``Application``'s rate of saving one
    equivalent event per transaction to ``raw_location`` (on SQLite a copy of the book).

    Returns (steady-state command rate, raw rate, cold command rate). Steady state is a
    running service: the subscriptions were loaded once before (the repository's cache),
    and a command decides on the cached aggregate (a stale one fails its save on the
    version and is retried on fresh state). Cold is the first command on each subscription
    (its latest snapshot and the events after it are read).

    The two rates are taken in alternating blocks of :data:`BLOCK`, so that a machine whose
    speed drifts during the run (a shared or throttled CPU, a busy disk) slows both alike."""
    ledger = BillingApplication(store_env(location), clock=TestClock(day))
    raw_env = store_env(raw_location)
    prepare(raw_env)  # on PostgreSQL, the throwaway schema (BillingApplication does this itself)
    raw: Application[uuid.UUID] = Application(env=raw_env)
    try:
        targets: list[tuple[str, str]] = []
        for account in ledger.account_keys():
            for sub in ledger.account(account).subscriptions:
                if len(targets) < 500 and ledger.subscription(account, sub).status.value == "active":
                    targets.append((account, sub))
        if not targets:
            raise SystemExit("the book has no active subscription to change")

        def change(n: int) -> bool:
            account, sub = targets[n % len(targets)]
            quantity = ledger.subscription(account, sub).quantity if n < len(targets) else None
            try:
                ledger.change_quantity(account, sub, (quantity or 0) + 1 if quantity else
                                       1 + (n // len(targets)) % 2 + 40)
                return True
            except LedgerError:
                return False

        probes = [Probe(quantity=1) for _ in range(len(targets))]
        raw.save(*probes)

        def save_raw(n: int) -> None:
            probe = probes[n % len(probes)]
            probe.change(quantity=probe.quantity + 1, previous_quantity=probe.quantity,
                         effective_date="2100-01-01")
            raw.save(probe)

        ledger._forget_cached()  # a new, empty cache (LRUCache.clear() keeps its entries)
        started = time.perf_counter()
        cold = sum(change(n) for n in range(len(targets)))
        cold_rate = cold / (time.perf_counter() - started)

        done = 0
        command_seconds = raw_seconds = 0.0
        for first in range(0, count, BLOCK):
            block = range(first, min(count, first + BLOCK))
            started = time.perf_counter()
            done += sum(change(len(targets) + n) for n in block)
            command_seconds += time.perf_counter() - started
            started = time.perf_counter()
            for n in block:
                save_raw(n)
            raw_seconds += time.perf_counter() - started
        return done / command_seconds, count / raw_seconds, cold_rate
    finally:
        raw.close()
        ledger.close()


# ---------------------------------------------------------------------------- 2. rebuild
def read_and_decode(ledger: BillingApplication, batch_size: int) -> int:
    """The store's own limit: select every notification the views fold and decode it."""
    position, read = 0, 0
    while True:
        batch = ledger.recorder.select_notifications(
            start=position, limit=batch_size, topics=TOPICS, inclusive_of_start=False)
        if not batch:
            return read
        for notification in batch:
            ledger.mapper.to_domain_event(notification)
        read += len(batch)
        position = batch[-1].id


def measure_rebuild(location: str) -> tuple[int, float, float]:
    """(events folded, rebuild events/s, raw read-and-decode events/s) on the same log.

    An untimed read first brings the log into the OS cache. Then, batch by batch, the raw
    pass reads and decodes the next batch of notifications and the rebuild folds the same
    batch into the views it builds beside the live ones (its own read, decode, fold and one
    transaction): interleaved, so that a machine whose speed drifts during the run slows
    both alike. The rebuild's time includes its swap."""
    env = store_env(location)
    ledger = BillingApplication(env)
    store = ViewStore(env)
    try:
        projector = Projector(ledger, store)
        read_and_decode(ledger, projector.batch_size)
        rebuild = projector.begin_rebuild()
        position = count = read = 0
        rebuild_seconds = raw_seconds = 0.0
        while True:
            started = time.perf_counter()
            batch = ledger.recorder.select_notifications(
                start=position, limit=projector.batch_size, topics=TOPICS,
                inclusive_of_start=False)
            for notification in batch:
                ledger.mapper.to_domain_event(notification)
            raw_seconds += time.perf_counter() - started
            if not batch:
                break
            read += len(batch)
            position = batch[-1].id
            started = time.perf_counter()
            count += rebuild.step(max_batches=1)
            rebuild_seconds += time.perf_counter() - started
        started = time.perf_counter()
        rebuild.finish()  # the swap: the rebuilt tables in, their secondary indexes made
        rebuild_seconds += time.perf_counter() - started
        if count != read:
            raise AssertionError(f"the rebuild folded {count} notifications, the raw pass {read}")
        return count, count / rebuild_seconds, read / raw_seconds
    finally:
        store.close()
        ledger.close()


def peak_rss_of_rebuild(location: str) -> float:
    """Peak resident memory (MB) of a process that rebuilds every view of ``location``."""
    code = (
        "import resource, sys\n"
        "from benchmarks.run import measure_rebuild\n"
        "measure_rebuild(sys.argv[1])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    if "://" not in location:  # a SQLite path, relative to the caller's folder
        location = str(Path(location).resolve())
    done = subprocess.run([sys.executable, "-c", code, location], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parent.parent)
    return int(done.stdout.strip().splitlines()[-1]) / 1024


# ---------------------------------------------------------------------------- 3. latency
def long_history(location: str) -> None:
    """One account with ten years of monthly billing and a change or two every year."""
    start = date(2010, 1, 13)
    app = BillingApplication(store_env(location), clock=TestClock(start))
    try:
        if app.recorder.max_notification_id():
            return
        app.define_offer(OfferTerms.create("m365", price="20.00", currency="USD", term="P1M",
                                           billing="monthly", convention="daily-rate",
                                           daily_rate_places=3))
        app.define_offer(OfferTerms.create("e3y", price="240.00", currency="USD", term="P1Y",
                                           billing="monthly", convention="exact"))
        app.open_account("decade", billing_day=20)
        app.purchase("decade", "S1", "m365", 10)
        app.purchase("decade", "S2", "e3y", 5)
        for year in range(10):
            app.advance_to(date(2010 + year, 4, 2))
            app.change_quantity("decade", "S1", 11 + year)
            app.advance_to(date(2010 + year, 9, 17))
            app.change_quantity("decade", "S2", 6 + (year % 2) if year % 2 == 0 else 5)
        app.advance_to(date(2020, 1, 31))
    finally:
        app.close()


def measure_invoice_latency(location: str) -> dict[str, float]:
    app = BillingApplication(store_env(location))
    try:
        events = list(app.events.get(ids.account_id("decade")))
        issued = [ev for ev in events if isinstance(ev, BillingAccount.InvoiceIssued)]
        timings = []
        for invoice in issued:
            started = time.perf_counter()
            document = rederive_from_log(app, "decade", invoice)
            timings.append((time.perf_counter() - started) * 1000)
            assert document is not None and document["invoice_number"] == invoice.invoice_number
        timings.sort()
        return {
            "invoices": float(len(timings)),
            "median": statistics.median(timings),
            "p95": timings[min(len(timings) - 1, int(len(timings) * 0.95))],
            "max": timings[-1],
        }
    finally:
        app.close()


def copy_store(location: str, copy: str) -> None:
    """On SQLite, copy the book's file for the bare Application to append to: appending to
    a log of a million events costs more than to an empty one, and the figure compares the
    ledger with the limits of its own store. On
    PostgreSQL the bare Application writes its own tables (named after it) in a new schema."""
    if "://" in location:
        return
    import sqlite3

    source, target = sqlite3.connect(location), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def drop_store(location: str) -> None:
    """Remove a throwaway store: a SQLite file and its journal, or a PostgreSQL schema."""
    env = store_env(location)
    if "POSTGRES_SCHEMA" not in env:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{location}{suffix}").unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(location.split("?")[0], autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(env["POSTGRES_SCHEMA"])))


# ---------------------------------------------------------------------------- report
def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
        cpu = f"{names[0]} x{len(names)}" if names else cpu
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {memory:.0f} GiB, {system}, Python {platform.python_version()}"


def report(f: Figures, measured: set[str] | None = None) -> str:
    """The figures as a table; ``measured`` names the figures this run took (default all)."""
    lat = f.invoice_latency_ms
    rss = list(f.rebuild_peak_rss_mb.items())
    growth = (rss[1][1] / rss[0][1] - 1) * 100 if len(rss) == 2 else 0.0
    rows = [
        ("1234", "book", f"{f.events:,} events, {f.accounts:,} accounts ({f.backend})", ""),
        ("1", "1. commands/s (application API)", f"{f.command_rate:,.0f}",
         f"steady state; first command per subscription {f.cold_command_rate:,.0f}/s"),
        ("1", "   raw appends/s (bare Application)", f"{f.raw_append_rate:,.0f}", ""),
        ("1", "   ratio", f"{f.command_ratio:.2f}", "target >= 0.70"),
        ("2", "2. rebuild events/s", f"{f.rebuild_rate:,.0f}", f"{f.rebuild_events:,} events"),
        ("2", "   raw read+decode events/s", f"{f.raw_read_rate:,.0f}", ""),
        ("2", "   ratio", f"{f.rebuild_ratio:.2f}", "target >= 0.30"),
        ("3", "3. re-derive one invoice, 10 years", f"median {lat.get('median', 0):.1f} ms, "
         f"p95 {lat.get('p95', 0):.1f} ms", f"{lat.get('invoices', 0):.0f} invoices; target < 50 ms"),
        ("4", "4. rebuild peak RSS", ", ".join(f"{k}: {v:.0f} MB" for k, v in rss),
         f"growth {growth:+.1f}%; target within 20%"),
        *_bill_run_rows(f.bill_run),
        *_worker_rows(f.workers),
        ("", "machine", f.machine, ""),
    ]
    shown = [row[1:] for row in rows
             if not row[0] or measured is None or set(row[0]) & measured]
    width = max(len(r[0]) for r in shown)
    return "\n".join(f"{a.ljust(width)}  {b}{'   (' + c + ')' if c else ''}" for a, b, c in shown)


def _bill_run_rows(b: BillRunFigures | None) -> list[tuple[str, str, str, str]]:
    if b is None:
        return []
    return [
        ("5", "5. bill run, ms per account-month", f"year 1: {b.first_year_ms:.2f}, year "
         f"{b.years}: {b.last_year_ms:.2f}", f"{b.accounts} accounts x 3 monthly subscriptions, "
         f"{b.events:,} events; year 1 of a new book billed beside year {b.years}; the aging "
         f"book's own year 1, years earlier: {b.own_first_year_ms:.2f}"),
        ("5", "   year-last / year-1", f"{b.aging_ratio:.2f}", "target <= 1.2"),
        ("5", "   bill run account-months/s", f"{b.bill_rate:,.1f}", ""),
        ("5", "   bare reads+writes account-months/s", f"{b.bare_rate:,.1f}", ""),
        ("5", "   ratio", f"{b.bare_ratio:.2f}", "target >= 0.5"),
    ]


def _worker_rows(w: WorkerFigures | None) -> list[tuple[str, str, str, str]]:
    if w is None:
        return []
    rows = [("6", f"6. bill run, {workers} worker(s), account-months/s", f"{rate:,.1f}",
             f"{w.accounts} accounts x 3 monthly subscriptions, {w.months} months, cuts only")
            for workers, rate in sorted(w.rates.items())]
    return [*rows, *(("6", f"   {workers} workers / 1", f"{w.speedup(workers):.2f}x",
                      "target >= 1.5x" if workers == 2 else "")
                     for workers in sorted(w.rates) if workers > 1),
            ("6", "   one process: writes, ms holding the log's lock per account-month",
             f"{w.writes:,} writes, {w.locked_ms:.2f} ms",
             f"ceiling for any number of workers ~{w.ceiling:,.0f} account-months/s")]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="size of the book")
    parser.add_argument("--years", type=int, default=5, help="years of history in the book")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg", help="PostgreSQL URL without schema (default: local test db)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--commands", type=int, default=5000)
    parser.add_argument("--json", help="also write the figures as JSON to this file")
    parser.add_argument("--data", default=str(DATA), help="folder for the SQLite books")
    parser.add_argument("--figures", default=None,
                        help="which figures to take, e.g. 1 or 2,4 (default: all; "
                             "figure 6 on PostgreSQL only)")
    parser.add_argument("--bill-accounts", type=int, default=10,
                        help="figure 5: accounts in the aging book")
    parser.add_argument("--bill-years", type=int, default=10, help="figure 5: years it ages")
    parser.add_argument("--worker-accounts", type=int, default=600,
                        help="figure 6: accounts in the book the workers bill")
    parser.add_argument("--worker-months", type=int, default=6,
                        help="figure 6: months they bill")
    parser.add_argument("--workers", default="1,2", help="figure 6: worker counts to compare")
    args = parser.parse_args(argv)
    everything = "1,2,3,4,5" + (",6" if args.backend == "postgres" else "")
    measured = set((args.figures or everything).replace(" ", "").split(","))
    if not measured <= {"1", "2", "3", "4", "5", "6"}:
        parser.error(f"--figures takes numbers from 1 to 6, got {args.figures!r}")
    if "6" in measured and args.backend != "postgres":
        parser.error("figure 6 (workers) needs --backend postgres")

    figures = Figures(backend=args.backend, machine=machine())
    location = location_for(args, args.events)
    if measured & {"1", "2", "3", "4"}:  # figures 5 and 6 make books of their own
        log(f"book of ~{args.events:,} events at {location}")
        figures.events, figures.accounts, figures.generation_seconds = build_book(
            location, args.events, args.seed, args.years)

    if "2" in measured:
        log("2. rebuild")
        figures.rebuild_events, figures.rebuild_rate, figures.raw_read_rate = measure_rebuild(
            location)

    if "3" in measured:
        log("3. invoice latency")
        decade = location_for(args, 0, "-decade")
        long_history(decade)
        figures.invoice_latency_ms = measure_invoice_latency(decade)

    if "4" in measured:
        small = location_for(args, args.events // 10, "-tenth")
        log(f"4. rebuild memory (and a book a tenth the size at {small})")
        build_book(small, args.events // 10, args.seed, args.years)
        figures.rebuild_peak_rss_mb = {
            f"{args.events // 10:,} events": peak_rss_of_rebuild(small),
            f"{args.events:,} events": peak_rss_of_rebuild(location),
        }

    if "5" in measured:
        log("5. bill run as the book ages")
        aging = location_for(args, 0, f"-aging-{uuid.uuid4().hex[:8]}")
        aging_raw = location_for(args, 0, f"-aging-raw-{uuid.uuid4().hex[:8]}")
        young = location_for(args, 0, f"-aging-young-{uuid.uuid4().hex[:8]}")
        try:
            figures.bill_run = measure_bill_run(aging, aging_raw, young, args.bill_accounts,
                                                args.bill_years, log)
        finally:
            drop_store(aging)
            drop_store(aging_raw)
            drop_store(young)

    if "6" in measured:
        counts = sorted({1, *(int(n) for n in args.workers.split(","))})
        log(f"6. bill run with {', '.join(map(str, counts))} worker(s)")
        stores = {n: location_for(args, 0, f"-workers{n}-{uuid.uuid4().hex[:8]}") for n in counts}
        try:
            figures.workers = measure_workers(stores, args.worker_accounts, args.worker_months,
                                              log=log)
        finally:
            for store in stores.values():
                drop_store(store)

    if "1" in measured:  # last, because it appends license changes to the book
        log("1. commands")
        raw = location_for(args, args.events, f"-raw-{uuid.uuid4().hex[:8]}")
        copy_store(location, raw)
        figures.commands = args.commands
        book_end = generate(1, years=args.years, seed=args.seed).end
        figures.command_rate, figures.raw_append_rate, figures.cold_command_rate = (
            measure_commands(location, raw, args.commands, book_end))
        drop_store(raw)
    text = report(figures, measured)
    print(text)
    if args.json:
        payload: dict[str, Any] = asdict(figures)
        payload.update(command_ratio=figures.command_ratio, rebuild_ratio=figures.rebuild_ratio)
        if figures.bill_run is not None:
            payload["bill_run"].update(aging_ratio=figures.bill_run.aging_ratio,
                                       bare_ratio=figures.bill_run.bare_ratio)
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
