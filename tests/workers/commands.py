"""A command-issuing worker process for the concurrency tests.

    python -m tests.workers.commands LOCATION SEED COUNT START_AT

issues COUNT random commands (license changes, suspensions, reactivations) against the 20
shared subscriptions of accounts ``shared-a``/``shared-b`` on the ledger at LOCATION, brings
the views up to date every 25 commands, and prints a JSON object: for each subscription,
how many of its commands this worker saw accepted, plus the refusals by error type.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from datetime import date

from billing_ledger.api import Ledger
from ledger.clock import TestClock
from ledger.errors import LedgerError

DAY = date(2020, 3, 2)
SUBSCRIPTIONS = [(f"shared-{'ab'[n % 2]}", f"S{n:02d}") for n in range(20)]


def main(location: str, seed: int, count: int, start_at: float) -> None:
    rng = random.Random(seed)
    accepted: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    with Ledger(location, clock=TestClock(DAY)) as ledger:
        ledger.app.subscription(*SUBSCRIPTIONS[0])  # connected and warm
        time.sleep(max(0.0, start_at - time.time()))  # every worker starts at the same moment
        for number in range(1, count + 1):
            account, key = rng.choice(SUBSCRIPTIONS)
            kind = rng.choice(["change", "change", "suspend", "reactivate"])
            try:
                if kind == "change":
                    ledger.change_quantity(account, key, rng.randint(1, 60))
                else:
                    getattr(ledger, kind)(account, key)
                accepted[f"{account}/{key}"] += 1
            except LedgerError as error:
                refused[type(error).__name__] += 1
            if number % 25 == 0:
                ledger.catch_up()
        retries = ledger.app.retries
    print(json.dumps({"accepted": accepted, "refused": refused, "retries": retries}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
