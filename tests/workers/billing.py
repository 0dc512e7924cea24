"""A billing process for the rebuild race tests.

    python -m tests.workers.billing LOCATION ACCOUNTS YEARS SEED

plays a synthetic book (benchmarks.book) through the application, commands and billing
runs in date order, and exits 0 when it is done.
"""

from __future__ import annotations

import sys

from benchmarks.book import generate, play
from ledger.application import BillingApplication
from ledger.clock import TestClock
from ledger.eventstore import store_env


def main(location: str, accounts: int, years: int, seed: int) -> None:
    plan = generate(accounts, years=years, seed=seed)
    app = BillingApplication(store_env(location), clock=TestClock(plan.start))
    try:
        play(plan, app)
    finally:
        app.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
