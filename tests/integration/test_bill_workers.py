"""`bill --workers 2` on PostgreSQL, with workers killed (SIGKILL) at random points.

Two ledgers get the same commands. One is billed by a single process; the other month by
month by `billing-ledger bill --workers 2`, and in every month but the last a random worker
is killed after the log has grown by a random number of events. Each killed run must exit 3
naming where it stopped; the next month's run picks the account up. At the end every
invoice and every reconciliation file equals the single-process ledger's, no billing date is
cut twice, and verify passes. (An invoice's seal names its position in the log, which the
workers' interleaving changes; everything else in it must match.)

Kills: 8 by default, 24 under CI=true (``BILLING_LEDGER_KILLS`` sets it).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from dateutil.relativedelta import relativedelta

from billing_ledger.api import Ledger
from ledger.account import BillingAccount
from ledger.clock import TestClock
from ledger.errors import InvalidInput
from ledger.offers import OfferTerms
from tests.conftest import NewStore
from tests.support import offer

KILLS = int(os.environ.get("BILLING_LEDGER_KILLS", "24" if os.environ.get("CI") == "true" else "8"))
ACCOUNTS, START = 12, date(2019, 1, 1)
END = START + relativedelta(months=KILLS + 1)


def _book(location: str) -> None:
    with Ledger(location, clock=TestClock(START)) as ledger:
        ledger.define_offer(offer(price="4.00", billing="monthly", term="P1M", daily_rate_places=3))
        ledger.define_offer(OfferTerms.create("o2", price="120.00", currency="USD", term="P1Y",
                                              billing="monthly", convention="exact"))
        for number in range(ACCOUNTS):
            key = f"acct{number:02d}"
            ledger.open_account(key, billing_day=1 + (number * 5) % 28)
            ledger.purchase(key, "S1", "o1", 1 + number)
            if number % 2:
                ledger.purchase(key, "S2", "o2", 2 + number)


def _log_length(location: str) -> int:
    schema = location.rsplit("schema=", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        row = conn.execute(f'SELECT max(notification_id) FROM "{schema}".billingledger_events')
        return int(row.fetchone()[0] or 0)  # type: ignore[index]


def _workers(parent: int) -> list[int]:
    """The worker processes of a `bill --workers` run (its `python -m ledger.workers`)."""
    found = []
    for task in Path(f"/proc/{parent}/task").glob("*/children"):
        for pid in task.read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"ledger.workers" in cmdline:
                found.append(int(pid))
    return found


def _bill(location: str, until: date, rng: random.Random | None) -> tuple[int, str, bool]:
    """Run `bill --workers 2` through ``until``; with ``rng``, kill a random worker once the
    log has grown by a random number of events. Returns (exit status, stderr, killed)."""
    command = [sys.executable, "-m", "billing_ledger", "--db", location, "--today",
               END.isoformat(), "bill", "--until", until.isoformat(), "--workers", "2"]
    before = _log_length(location)
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = False
    if rng is not None:
        grow = rng.randint(1, 40)
        while run.poll() is None and not killed:
            if _log_length(location) - before >= grow:
                workers = _workers(run.pid)
                if workers:
                    try:
                        os.kill(rng.choice(workers), signal.SIGKILL)
                        killed = True
                    except ProcessLookupError:
                        pass
            time.sleep(0.005)
    _, err = run.communicate(timeout=600)
    return run.returncode, err, killed


def _content(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "log"}


def test_workers_killed_at_random_points_bill_as_one_process(backend: str,
                                                             new_store: NewStore) -> None:
    if backend != "postgres":
        pytest.skip("workers need PostgreSQL (SQLite allows one writer)")
    single, parallel = new_store("single"), new_store("parallel")
    _book(single)
    _book(parallel)
    with Ledger(single, clock=TestClock(END)) as ledger:
        ledger.bill(END - relativedelta(days=1), advance_clock=False)
    rng = random.Random(20261202)
    kills = 0
    for month in range(1, KILLS + 2):
        until = START + relativedelta(months=month) - relativedelta(days=1)
        status, err, killed = _bill(parallel, until, rng if month <= KILLS else None)
        assert "Traceback" not in err
        if killed and status != 0:  # a kill after the workers' last write changes nothing
            assert status == 3, err
            assert "died (killed by signal 9)" in err and "run it again" in err
            kills += 1
        else:
            assert status == 0, err
    status, err, _ = _bill(parallel, END - relativedelta(days=1), None)  # complete the run
    assert status == 0, err
    assert kills >= KILLS * 3 // 4, f"only {kills} of {KILLS} kills landed mid-run"

    with Ledger(single, clock=TestClock(END)) as one, Ledger(parallel, clock=TestClock(END)) as two:
        expected, got = one.invoices(), two.invoices()
        assert [row["invoice_number"] for row in got] == [row["invoice_number"] for row in expected]
        assert len(expected) >= ACCOUNTS * KILLS
        for row in expected:
            day = date.fromisoformat(row["billing_date"])
            assert _content(two.invoice(row["account"], day)) == _content(
                one.invoice(row["account"], day))
            assert two.reconciliation(row["account"], day) == one.reconciliation(row["account"], day)
        events = [ev for key in two.app.account_keys()
                  for ev in two.app.aggregate_events(two.app.account(key).id)]
        cuts = [(ev.originator_id, ev.billing_date) for ev in events
                if isinstance(ev, (BillingAccount.InvoiceIssued, BillingAccount.BillingDateClosed))]
        assert len(cuts) == len(set(cuts))  # no billing date cut twice
        assert two.verify().ok


def test_workers_are_refused_on_sqlite_and_out_of_bounds(backend: str,
                                                         new_store: NewStore) -> None:
    location = new_store("refused")
    with Ledger(location, clock=TestClock(START)) as ledger:
        for workers in (0, -1, 65, True, 2.0, "2"):
            with pytest.raises(InvalidInput, match="workers"):
                ledger.bill(START, advance_clock=False, workers=workers)  # type: ignore[arg-type]
        if backend == "sqlite":
            with pytest.raises(InvalidInput, match="needs PostgreSQL"):
                ledger.bill(START, advance_clock=False, workers=2)
        assert ledger.app.recorder.max_notification_id() in (None, 0)
