"""Helpers shared by the tests: an in-memory subscription driver for the pure domain, and a
ledger on a SQLite file with a test clock."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from billing_ledger.api import Ledger
from ledger import rating
from ledger.application import BillingApplication
from ledger.charges import ChargeLine
from ledger.clock import TestClock
from ledger.dates import billing_dates
from ledger.errors import LedgerError
from ledger.eventstore import store_env
from ledger.offers import OfferTerms
from ledger.subscription import Subscription
from tests.strategies import Lifetime

SCENARIOS = Path(__file__).parent / "scenarios"


def at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def offer(price: str = "48.00", convention: str = "daily-rate", billing: str = "annual",
          term: str = "P1Y", **extra: Any) -> OfferTerms:
    return OfferTerms.create("o1", price=price, currency="USD", term=term, billing=billing,
                             convention=convention, **extra)


class Driver:
    """A subscription in memory: commands append events, ``bill`` posts like a billing run.

    Only the domain and the pure rating rules are involved: no store, no application.
    """

    def __init__(self, terms: OfferTerms, start: date, quantity: int = 1, **kwargs: Any) -> None:
        self.sub = Subscription.purchase(account="acme", key="S1", offer=terms, quantity=quantity,
                                         effective_date=start, recorded_at=at(start), **kwargs)
        self.history: list[Any] = list(self.sub.collect_events())
        self.posted: dict[date, tuple[ChargeLine, ...]] = {}
        #: Every rating made: the billing date, the history it was given, and its result.
        self.ratings: list[tuple[date, list[Any], rating.Rating]] = []

    def do(self, command: str, day: date, *args: Any, effective: date | None = None,
           **kwargs: Any) -> None:
        """Make ``command`` on ``day`` (effective on ``effective``, default that day)."""
        self.catch_up(day)
        getattr(self.sub, command)(*args, effective_date=effective or day, recorded_at=at(day),
                                   **kwargs)
        self.history.extend(self.sub.collect_events())

    def catch_up(self, day: date) -> None:
        """The trial end and term ends due by ``day`` (renewing on the offer as bought)."""
        terms = self.sub.offer
        self.sub.catch_up(day, catalog_terms=lambda offer_id: terms, recorded_at=at(day))
        self.history.extend(self.sub.collect_events())

    def bill(self, billing_date: date) -> tuple[ChargeLine, ...]:
        self.catch_up(billing_date)
        result = rating.rate(self.history, billing_date)
        self.ratings.append((billing_date, list(self.history), result))
        if result.has_anything_to_post:
            self.sub.post_charges(billing_date=billing_date, lines=result.lines,
                                  rated_version=result.rated_version,
                                  checkpoint=result.checkpoint,
                                  rules_version=rating.RULES_VERSION, recorded_at=at(billing_date))
            self.history.extend(self.sub.collect_events())
        if result.lines:
            self.posted[billing_date] = result.lines
        return result.lines

    def bill_through(self, after: date, through: date, billing_day: int) -> None:
        for day in billing_dates(after, through, billing_day):
            self.bill(day)

    @property
    def all_lines(self) -> list[ChargeLine]:
        return [line for day in sorted(self.posted) for line in self.posted[day]]

    def total(self) -> Decimal:
        return sum((line.amount for line in self.all_lines), Decimal(0))


def live(life: Lifetime, billing_day: int) -> Driver:
    """Play ``life`` in memory, cutting every billing date of ``billing_day`` on the way and
    for two months after its final cancellation. Refused acts are skipped."""
    spec = life.offer
    terms = OfferTerms.create("o1", price=spec.price, currency="USD", term=spec.term,
                              billing=spec.billing, convention=spec.convention,
                              daily_rate_places=spec.places, refund_window_days=spec.window)
    trial = {"trial": True, "trial_days": life.trial_days} if life.trial else {}
    driver = Driver(terms, life.start, life.quantity, **trial)
    billed_through = life.start - timedelta(days=1)

    def bill_through(day: date) -> None:
        nonlocal billed_through
        driver.bill_through(billed_through, day, billing_day)
        billed_through = max(billed_through, day)

    commands: dict[str, tuple[str, dict[str, Any]]] = {
        "suspend": ("suspend", {}), "reactivate": ("reactivate", {}),
        "cancel": ("cancel", {}), "cancel_assisted": ("cancel", {"channel": "assisted"}),
        "add_payment_method": ("add_payment_method", {}),
    }
    day = life.start
    for act in life.acts:
        day += timedelta(days=act.gap)
        bill_through(day - timedelta(days=1))
        effective = day - timedelta(days=act.back)
        with contextlib.suppress(LedgerError):
            if act.kind == "change":
                driver.do("change_quantity", day, act.quantity, effective=effective)
            elif act.kind in ("auto_renew_on", "auto_renew_off"):
                driver.do("set_auto_renew", day, act.kind == "auto_renew_on", effective=effective)
            else:
                command, options = commands[act.kind]
                driver.do(command, day, effective=effective, **options)
    trial_end = life.start + timedelta(days=life.trial_days + 1 if life.trial else 0)
    final = max(day, trial_end) + timedelta(days=life.end_gap)
    bill_through(final - timedelta(days=1))
    with contextlib.suppress(LedgerError):
        driver.do("cancel", final, channel="assisted")
    bill_through(final + timedelta(days=62))
    return driver


def row(line: ChargeLine) -> tuple[str, str, str, str, int, str]:
    """A line as the seed article's tables show it."""
    return (line.start.isoformat(), line.end.isoformat(), line.charge_type,
            f"{line.unit_price}", line.quantity, f"{line.amount}")


def rows(lines: Iterable[ChargeLine]) -> list[tuple[str, str, str, str, int, str]]:
    return [row(line) for line in lines]


def write_ledger(location: Path | str, start: date) -> BillingApplication:
    """The write side alone on ``location`` (a SQLite path or a PostgreSQL URL)."""
    return BillingApplication(store_env(location), clock=TestClock(start))


def seed_ledger(path: Path | str, start: date, price: str = "48.00", convention: str = "daily-rate",
                billing_day: int = 15) -> Ledger:
    """A ``Ledger`` (write side and views) with one offer ``o1`` and one account ``acme``."""
    ledger = Ledger(path, clock=TestClock(start))
    ledger.define_offer(offer(price, convention))
    ledger.open_account("acme", billing_day=billing_day, name="Acme Corp")
    return ledger


def seed_hostile(ledger: Ledger) -> None:
    """The book the hostile-input tests start from: two offers (USD yearly, JPY monthly), one
    account with one subscription, billed on 15 January 2018 (the clock on 16 January)."""
    ledger.define_offer(OfferTerms.create("e1", price="48.00", currency="USD", term="P1Y",
                                          billing="annual", convention="daily-rate"))
    ledger.define_offer(OfferTerms.create("jpy", price="5000", currency="JPY", term="P1M",
                                          billing="monthly", convention="exact"))
    ledger.open_account("contoso", billing_day=15, name="Contoso Ltd", currency="USD")
    ledger.purchase("contoso", "S1", "e1", 1)
    ledger.bill(date(2018, 1, 16))
    ledger.catch_up()


def seeded(location: str | Path) -> None:
    """:func:`seed_hostile` on an empty store."""
    with Ledger(location, clock=TestClock(date(2018, 1, 13))) as ledger:
        seed_hostile(ledger)


def invoke(argv: list[str]) -> tuple[int, str, str]:
    """``billing-ledger ARGV`` in this process: its exit status, stdout and stderr."""
    from billing_ledger import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.run(argv)
    return status, out.getvalue(), err.getvalue()


def table_state(location: str | Path) -> dict[str, list[str]]:
    """Every table of a store (a SQLite file or a PostgreSQL URL's schema) and its rows, in a
    comparable form: what a refused command or a read must leave exactly as it was."""
    text = str(location)
    if text.startswith("postgresql://"):
        import psycopg

        base, _, schema = text.rpartition("?schema=")
        state: dict[str, list[str]] = {}
        with psycopg.connect(base) as conn:
            tables = [row[0] for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,))]
            for table in tables:
                rows = conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
                state[table] = sorted(repr(row) for row in rows)
        return state
    path = Path(text)
    if not path.exists():
        return {}
    import sqlite3

    connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
    try:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: sorted(repr(row) for row in connection.execute(f'SELECT * FROM "{table}"'))
                for table in tables}
    finally:
        connection.close()
