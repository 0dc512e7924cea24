"""Several projection workers at once, killed with SIGKILL at random points and restarted:
nothing is posted twice or lost, and the final reconciliation files are byte-identical to a
single clean run's (on SQLite and PostgreSQL)."""

from __future__ import annotations

import queue
import random
import signal
import subprocess
import sys
import threading
import time

from benchmarks.book import generate, play
from billing_ledger.api import Ledger
from ledger.application import BillingApplication
from ledger.clock import TestClock
from ledger.eventstore import store_env
from tests.conftest import NewStore
from tests.integration.test_projection_crash import views_of

WORKERS, KILLS = 3, 20


class Worker:
    """A `billing-ledger project` process whose printed positions arrive on a queue."""

    def __init__(self, location: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "billing_ledger", "--db", location, "project", "--batch-size", "1",
             "--pause", "0.05", "--verbose"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for_batches(self, count: int) -> bool:
        """True once the worker reported ``count`` more batches; False if it ended first."""
        for _ in range(count):
            try:
                if self.lines.get(timeout=30) is None:
                    return False
            except queue.Empty:
                return False
        return True


def test_parallel_workers_killed_at_random_give_the_clean_run_files(new_store: NewStore) -> None:
    plan = generate(12, years=2, seed=5)
    log, clean = new_store("log"), new_store("clean")
    for location in (log, clean):
        app = BillingApplication(store_env(location), clock=TestClock(plan.start))
        play(plan, app)
        app.close()
    expected = views_of(clean)  # one clean, uninterrupted projection

    rng = random.Random(42)
    running = [Worker(log) for _ in range(WORKERS)]
    kills = 0
    while kills < KILLS:
        victim = rng.choice(running)
        if not victim.wait_for_batches(rng.randint(1, 3)):
            break  # the log is fully projected
        time.sleep(rng.random() * 0.003)
        if victim.process.poll() is None:
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait()
            kills += 1
        running.remove(victim)
        running.append(Worker(log))  # a new worker takes over
    for worker in running:
        _, err = worker.process.communicate(timeout=300)
        assert worker.process.returncode == 0, err
    assert kills >= KILLS
    assert views_of(log) == expected
    with Ledger(log) as ledger:
        assert ledger.verify().ok
