"""``rebuild`` while projection workers follow the log and a billing run writes to it: the
views never lose a row. Each round ends with the views equal to those of a clean,
undisturbed run, row for row, and verify finds nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from benchmarks.book import generate, play
from billing_ledger.api import Ledger
from ledger.application import BillingApplication
from ledger.clock import TestClock
from ledger.eventstore import store_env
from tests import strategies as s
from tests.conftest import NewStore
from tests.integration.test_projection_crash import views_of

ACCOUNTS, YEARS, SEED = 8, 1, 3
ROUNDS = s.examples(2)


def workers(location: str, count: int) -> list[subprocess.Popen[str]]:
    return [subprocess.Popen([sys.executable, "-m", "billing_ledger", "--db", location, "project",
                              "--follow", "--interval", "0.02", "--batch-size", "40"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(count)]


def test_rebuilds_during_live_workers_and_billing_lose_no_row(new_store: NewStore) -> None:
    clean = new_store("clean")
    app = BillingApplication(store_env(clean), clock=TestClock(generate(ACCOUNTS, YEARS, SEED).start))
    play(generate(ACCOUNTS, years=YEARS, seed=SEED), app)
    app.close()
    expected = views_of(clean)
    for round_number in range(ROUNDS):
        log = new_store(f"log{round_number}")
        Ledger(log).close()  # the tables exist before anyone races to make them
        billing = subprocess.Popen([sys.executable, "-m", "tests.workers.billing", log,
                                    str(ACCOUNTS), str(YEARS), str(SEED)],
                                   stderr=subprocess.PIPE, text=True)
        followers = workers(log, 2)
        rebuilds = 0
        with Ledger(log) as ledger:
            while billing.poll() is None or rebuilds < 3:
                ledger.rebuild()
                rebuilds += 1
                time.sleep(0.05)
            assert billing.returncode == 0, billing.stderr.read() if billing.stderr else ""
            time.sleep(0.5)  # the followers catch up with the last events
            ledger.rebuild()  # and one more swap while they run
            for follower in followers:
                assert follower.poll() is None, follower.stderr.read() if follower.stderr else ""
                follower.send_signal(signal.SIGTERM)
                follower.wait(timeout=60)
            ledger.catch_up()
            result = ledger.verify()
            assert result.ok, "\n".join(map(str, result.findings))
        assert rebuilds >= 3
        assert views_of(log) == expected, f"round {round_number}"
