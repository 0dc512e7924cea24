"""The ledger embedded in a small application: a frozen clock, a month of activity through
the public API only, and two feed consumers stopped and restarted at random points."""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import sys
import threading
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from freezegun import freeze_time

from billing_ledger.api import Ledger
from ledger import errors
from ledger.offers import OfferTerms
from projections.feed import TYPES, json_schema
from tests.conftest import NewStore

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "reference" / "feed"


class SeatShop:
    """A tiny commerce application that bills through the ledger."""

    def __init__(self, store: str) -> None:
        self.store = store
        self.ledger = Ledger(store)  # the machine's clock: frozen by the test

    def setup(self) -> None:
        self.ledger.define_offer(OfferTerms.create(
            "teams", name="Teams Essentials", price="48.00", currency="EUR", term="P1Y",
            billing="monthly", convention="exact"))
        self.ledger.define_offer(OfferTerms.create(
            "suite", name="Office Suite", price="120.00", currency="EUR", term="P1Y",
            billing="annual", convention="daily-rate"))

    def sign_up(self, customer: str, billing_day: int, locale: str) -> None:
        self.ledger.open_account(customer, billing_day=billing_day, locale=locale,
                                 idempotency_key=f"signup-{customer}")

    def buy(self, customer: str, order: str, offer: str, seats: int) -> None:
        self.ledger.purchase(customer, order, offer, seats, idempotency_key=f"buy-{order}")

    def end_of_day(self) -> None:
        self.ledger.run_due()  # yesterday's billing dates, renewals and trial ends


class Consumer:
    """A downstream system: handles each record once and keeps its position with it."""

    def __init__(self, store: str) -> None:
        self.store = store
        self.position = 0  # persisted with every record it handles
        self.seen: list[dict[str, Any]] = []

    def handle(self, record: dict[str, Any]) -> None:
        assert record["position"] > self.position, "a record came twice or out of order"
        self.seen.append(record)
        self.position = record["position"]


class Crash(Exception):
    pass


def pull_some(consumer: Consumer, rng: random.Random) -> None:
    """A process that starts, reads part of the backlog with `feed`, and stops."""
    with Ledger(consumer.store) as ledger:  # a fresh process each time
        for record in ledger.feed(after=consumer.position, limit=rng.randint(1, 40)):
            consumer.handle(record)


def follow_some(consumer: Consumer, rng: random.Random) -> None:
    """A process following with a callback that dies after a random number of records."""
    budget = rng.randint(0, 30)

    def handle(record: dict[str, Any]) -> None:
        nonlocal budget
        if budget == 0:
            raise Crash
        budget -= 1
        consumer.handle(record)

    with Ledger(consumer.store) as ledger, contextlib.suppress(Crash):
        ledger.follow(handle, after=consumer.position)


def test_a_month_of_activity_seen_by_two_restarting_consumers_exactly_once(
    new_store: NewStore,
) -> None:
    store = new_store("shop")
    rng = random.Random(2024)
    pulling, following = Consumer(store), Consumer(store)
    # The PostgreSQL driver and its pool keep their own real timers (timeouts, pings).
    with freeze_time("2024-03-01 09:00:00", ignore=["psycopg", "psycopg_pool"]) as frozen:
        shop = SeatShop(store)
        shop.setup()
        customers = [("anna", 5, "it_IT"), ("bram", 12, "nl_NL"), ("carl", 20, "nb_NO"),
                     ("dora", 31, "en_US")]
        for customer, day, locale in customers:
            shop.sign_up(customer, day, locale)
            shop.sign_up(customer, day, locale)  # a retried request: the key makes it harmless
        for day in range(31):
            today = date(2024, 3, 1) + timedelta(days=day)
            for customer, _, _ in customers:
                if rng.random() < 0.3:
                    order = f"{customer}-{today:%d}"
                    shop.buy(customer, order, rng.choice(["teams", "suite"]), rng.randint(1, 30))
            for customer, _, _ in customers:
                for sub in shop.ledger.subscriptions(customer):
                    if sub["status"] == "active" and rng.random() < 0.1:
                        with contextlib.suppress(errors.NothingToChange):
                            shop.ledger.change_quantity(customer, sub["subscription"],
                                                        rng.randint(1, 30))
            if day == 10:
                shop.ledger.record_payment("anna", Decimal("50.00"))
            for consumer, run in ((pulling, pull_some), (following, follow_some)):
                if rng.random() < 0.5:
                    run(consumer, rng)
            frozen.tick(timedelta(days=1))
            shop.end_of_day()
        shop.ledger.close()
        for consumer, run in ((pulling, pull_some), (following, follow_some)):
            while True:
                before = consumer.position
                run(consumer, rng)
                if consumer.position == before:
                    with Ledger(store) as ledger:
                        if not ledger.feed(after=consumer.position, limit=1):
                            break

        with Ledger(store) as ledger:
            everything = ledger.feed()
    positions = [record["position"] for record in everything]
    assert positions == sorted(set(positions)) and len(everything) > 100
    assert pulling.seen == everything
    assert following.seen == everything
    kinds = {record["type"] for record in everything}
    assert {"account.opened", "subscription.purchased", "subscription.quantity_changed",
            "charges.posted", "invoice.issued", "payment.recorded"} <= kinds
    assert sum(record["type"] == "account.opened" for record in everything) == 4
    # A consumer that books an invoice has already seen every line it bills.
    issued: set[tuple[str, str]] = set()
    for record in everything:
        cut = (record["account"], record["data"].get("billing_date"))
        if record["type"] == "invoice.issued":
            issued.add(cut)
        elif record["type"] == "charges.posted":
            assert cut not in issued, f"lines of {cut} after its invoice"
    for record in everything:
        jsonschema.validate(record, json.loads((SCHEMAS / f"{record['type']}.schema.json").read_text()))
        json.dumps(record)  # JSON-serialisable as it is


def test_the_committed_schema_files_are_the_code_s() -> None:
    for name in TYPES:
        assert json.loads((SCHEMAS / f"{name}.schema.json").read_text()) == json_schema(name), name
    assert sorted(p.name for p in SCHEMAS.glob("*.schema.json")) == sorted(
        f"{name}.schema.json" for name in TYPES)


def test_one_ledger_is_safe_to_share_between_threads(new_store: NewStore) -> None:
    with Ledger(new_store()) as ledger:
        ledger.define_offer(OfferTerms.create("o", price="12.00", currency="USD", term="P1Y",
                                              billing="monthly", convention="exact"))
        ledger.open_account("t", billing_day=1)
        for n in range(8):
            ledger.purchase("t", f"S{n}", "o", 1)
        failures: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for q in range(2, 12):
                    ledger.change_quantity("t", f"S{n % 8}", q + 100 * (n // 8))
                    ledger.subscriptions("t")  # reads (and projections) interleaved
            except BaseException as error:  # collected and asserted below
                failures.append(error)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert {row["quantity"] for row in ledger.subscriptions("t")} == {11}
        assert ledger.verify().ok


def test_importing_the_api_has_no_side_effects(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c",
                           "import billing_ledger.api, billing_ledger.cli, projections.feed"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_broken_database_is_a_store_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"this is not a database " * 100)
    with pytest.raises(errors.StoreError, match="database error"):
        Ledger(broken)
