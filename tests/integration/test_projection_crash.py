"""The projection killed with SIGKILL at random points and restarted gives exactly the rows
an uninterrupted run gives: view rows and tracking position are written in one transaction."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from benchmarks.book import generate, play
from billing_ledger.api import Ledger
from ledger.application import BillingApplication
from ledger.clock import TestClock
from ledger.eventstore import store_env


def copy_sqlite(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def views_of(db: Path) -> dict[str, object]:
    with Ledger(db) as ledger:
        ledger.catch_up()
        out: dict[str, object] = {"accounts": ledger.accounts()}
        for row in ledger.invoices():
            day = date.fromisoformat(row["billing_date"])
            out[f"{row['account']}/{day}"] = (row, ledger.reconciliation(row["account"], day))
        for account in ledger.accounts():
            out[f"subs/{account['account']}"] = ledger.subscriptions(account["account"])
        return out


def test_sigkill_at_random_points_then_restart_gives_identical_views(tmp_path: Path) -> None:
    plan = generate(12, years=2, seed=11)
    log = tmp_path / "log.sqlite"
    app = BillingApplication(store_env(log), clock=TestClock(plan.start))
    play(plan, app)
    app.close()
    clean = tmp_path / "clean.sqlite"
    copy_sqlite(log, clean)
    expected = views_of(clean)
    assert len(expected) > 100

    rng = random.Random(20181113)
    command = [sys.executable, "-m", "billing_ledger", "--db", str(log), "project", "--batch-size", "3",
               "--verbose"]
    kills = 0
    while kills < 25:
        worker = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True)
        assert worker.stdout is not None
        for _ in range(rng.randint(1, 6)):
            if not worker.stdout.readline():
                break
        time.sleep(rng.random() * 0.004)  # sometimes mid-batch, sometimes between batches
        if worker.poll() is not None:
            break  # it finished first
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
    assert kills >= 20
    finish = subprocess.run(command, capture_output=True, text=True, check=False)
    assert finish.returncode == 0, finish.stderr
    assert views_of(log) == expected


def test_a_process_that_looked_before_another_created_the_views_still_opens(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two processes opening a fresh file at once: the slower one checked for the tracking
    # table before the faster one created it, then finds it created (a race seen in CI).
    from eventsourcing.persistence import OperationalError
    from eventsourcing.sqlite import SQLiteTrackingRecorder

    db = tmp_path / "ledger.sqlite"
    with Ledger(db) as first:
        first.catch_up()
    looked = SQLiteTrackingRecorder.max_tracking_id
    calls: list[str] = []

    def not_there_yet(self: SQLiteTrackingRecorder, application_name: str) -> int | None:
        calls.append(application_name)
        if len(calls) == 1:
            raise OperationalError("no such table: tracking")
        return looked(self, application_name)

    monkeypatch.setattr(SQLiteTrackingRecorder, "max_tracking_id", not_there_yet)
    with Ledger(db) as second:
        second.catch_up()
        assert second.accounts() == []
    assert calls, "the views were not opened"
