"""Several processes writing the same subscriptions at once, on SQLite and PostgreSQL:
optimistic-concurrency conflicts are retried on fresh state, no event is lost or duplicated,
and the views built incrementally while they ran equal a rebuild."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import date

from billing_ledger.api import Ledger
from ledger.clock import TestClock
from ledger.offers import OfferTerms
from tests.conftest import NewStore
from tests.workers.commands import DAY, SUBSCRIPTIONS

PROCESSES, COMMANDS = 4, 250


def views(ledger: Ledger) -> object:
    subs = {account: ledger.subscriptions(account) for account in ("shared-a", "shared-b")}
    return subs, ledger.accounts(), ledger.invoices()


def test_four_processes_by_250_commands_on_20_shared_subscriptions(new_store: NewStore) -> None:
    location = new_store("shared")
    with Ledger(location, clock=TestClock(date(2020, 3, 1))) as ledger:
        ledger.define_offer(OfferTerms.create("e3", price="240.00", currency="USD", term="P1Y",
                                              billing="monthly", convention="exact"))
        for account in ("shared-a", "shared-b"):
            ledger.open_account(account, billing_day=5)
        for account, key in SUBSCRIPTIONS:
            ledger.purchase(account, key, "e3", 10)
    start_at = time.time() + 4.0  # time for every worker to start and connect first
    workers = [
        subprocess.Popen([sys.executable, "-m", "tests.workers.commands", location, str(seed),
                          str(COMMANDS), str(start_at)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for seed in range(PROCESSES)
    ]
    accepted: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    retries = 0
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err
        report = json.loads(out)
        accepted.update(report["accepted"])
        refused.update(report["refused"])
        retries += report["retries"]
    assert sum(accepted.values()) + sum(refused.values()) == PROCESSES * COMMANDS
    assert sum(accepted.values()) > PROCESSES * COMMANDS // 3
    print(f"accepted {sum(accepted.values())}, refused {dict(refused)}, retried {retries}")

    with Ledger(location, clock=TestClock(DAY)) as ledger:
        for account, key in SUBSCRIPTIONS:
            # Version 1 is the purchase; every accepted command appended exactly one event.
            assert ledger.app.subscription(account, key).version == 1 + accepted[f"{account}/{key}"]
        ledger.catch_up()
        incremental = views(ledger)
        ledger.rebuild()
        assert views(ledger) == incremental


def test_a_stale_cached_aggregate_never_decides_a_refusal(new_store: NewStore) -> None:
    """Two application instances (as two processes) on one store: the second one's cached
    subscription is out of date, yet its commands act on what the store holds now."""
    from ledger.application import BillingApplication
    from ledger.eventstore import store_env

    env = store_env(new_store("two"))
    one = BillingApplication(env, clock=TestClock(date(2020, 1, 1)))
    two = BillingApplication(env, clock=TestClock(date(2020, 1, 1)))
    one.define_offer(OfferTerms.create("o", price="12.00", currency="USD", term="P1Y",
                                       billing="annual", convention="exact"))
    one.open_account("a", billing_day=1)
    one.purchase("a", "S", "o", 1)
    two.change_quantity("a", "S", 2)  # `two` now caches S at version 2
    one.suspend("a", "S")  # behind its back
    two.reactivate("a", "S")  # not refused as "not suspended": it re-checks on fresh state
    one.change_quantity("a", "S", 3)  # `one` is stale now: its save conflicts and is re-run
    assert two.subscription("a", "S").quantity == 3
    assert [type(ev).__name__ for ev in one.history("a", "S")] == [
        "Purchased", "QuantityChanged", "Suspended", "Reactivated", "QuantityChanged"]
    one.close()
    two.close()
