"""A billing run split among worker processes, on PostgreSQL.

The parent lists the accounts once and hands them out one at a time to ``workers`` child
processes (``python -m ledger.workers``, talking JSON lines over their stdin and stdout), so
they stay busy until the list is done whatever each account costs: no static partition to
fall out of balance. Each worker has its own
:class:`~ledger.application.BillingApplication` and connections, so the rating runs in
parallel (no GIL between them). The children are started afresh, not forked, so nothing of
the parent (connections, locks, its ``__main__``) is shared or re-imported.

**No account is cut by two workers.** A worker runs an account only while it holds a
PostgreSQL session-level advisory lock on it (keyed by schema and account). The workers of
one run never meet each other's locks (each account is handed out once), but one can meet
a lock held by another run of ``bill`` (on another machine, say): it hands the account back,
and the parent hands it out again at the end with ``wait``, so the run still completes every
account. The lock is the fast path, not the safety net: a cut is guarded by its account's
version, so a date another process cut first is found done
(:class:`~ledger.errors.DateAlreadyCut`), never cut twice.

**A worker that dies** (killed, out of memory, the machine gone) loses its session, so its
lock is released; every date it cut stands (each cut is one atomic write). The account it
was on is left where it stopped, the other workers go on to the end of the list, and the
run ends with :class:`~ledger.errors.BillingRunIncomplete` naming that account (the cause:
:class:`~ledger.errors.WorkerDied`); the next run picks it up from its first date not cut.

SQLite allows one writer at a time, so ``workers > 1`` is refused there
(docs/performance.md says what that limit allows).
"""

from __future__ import annotations

import hashlib
import json
import os
import selectors
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import IO, Any

from ledger import bounds
from ledger.errors import (
    BillingRunIncomplete,
    InvalidInput,
    LedgerError,
    StoreError,
    WorkerDied,
)
from ledger.scheduler import BillRun, Progress

MAX_WORKERS = 64


def check_workers(workers: object, env: Mapping[str, str]) -> int:
    """``workers`` as a count this store can use, or a typed refusal."""
    count = bounds.whole(workers, "workers", 1, MAX_WORKERS)
    if count > 1 and env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        raise InvalidInput(
            f"workers={count} needs PostgreSQL: SQLite allows one writer at a time, so a "
            "second worker would only wait for the first (bill with one worker, or move the "
            "ledger to PostgreSQL)")
    return count


def lock_key(schema: str, account: str) -> tuple[int, int]:
    """The advisory lock of ``account`` in ``schema``: two signed 32-bit keys from SHA-256
    (stable across processes and machines, unlike ``hash()``)."""
    high = hashlib.sha256(f"billing-ledger/{schema}".encode()).digest()
    low = hashlib.sha256(account.encode()).digest()
    return struct.unpack(">i", high[:4])[0], struct.unpack(">i", low[:4])[0]


class AccountLocks:
    """Session-level advisory locks on accounts, on a connection of their own (so they are
    held across the application's transactions, and released when the process dies)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        from ledger.eventstore import _connect

        self.schema = env.get("POSTGRES_SCHEMA", "public")
        self.conn = _connect(env)

    @contextmanager
    def holding(self, account: str, *, wait: bool) -> Iterator[bool]:
        """Yields whether the lock was taken (always, with ``wait``); releases it after."""
        key = lock_key(self.schema, account)
        if wait:
            self.conn.execute("SELECT pg_advisory_lock(%s, %s)", key)
            taken = True
        else:
            row = self.conn.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()
            taken = bool(row[0])
        try:
            yield taken
        finally:
            if taken:
                self.conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------------------- the worker
def _send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _kind(error: BaseException) -> str:
    import psycopg
    from eventsourcing.persistence import PersistenceError

    if isinstance(error, StoreError | PersistenceError | psycopg.Error):
        return "store"
    return "ledger" if isinstance(error, LedgerError) else "internal"


def worker_main() -> None:
    """A worker: its settings on the first line of stdin, then one account per line (an
    empty line: stop). It answers each with one JSON line on stdout."""
    from ledger.application import BillingApplication
    from ledger.clock import Clock, SystemClock, TestClock

    key = ""
    try:
        settings = json.loads(sys.stdin.readline())
        env: dict[str, str] = settings["env"]
        now = settings["now"]
        clock: Clock = TestClock(datetime.fromisoformat(now)) if now else SystemClock()
        through = date.fromisoformat(settings["through"])
        app = BillingApplication(env, clock=clock, partner_id=settings["partner_id"])
    except Exception as error:
        _send({"failed": key, "kind": _kind(error), "run": BillRun().as_dict(),
               "error": f"{type(error).__name__}: {error}"})
        return
    try:
        locks = AccountLocks(env)
        _send({"ready": True})
        for line in sys.stdin:
            order = json.loads(line)
            if not order:
                break
            key, delta = order["account"], BillRun()
            try:
                with locks.holding(key, wait=order["wait"]) as mine:
                    if not mine:
                        _send({"held": key})  # another run of bill has it: later, waiting
                        continue
                    app.scheduler.run_account_due(key, through, delta)
            except Exception as error:
                _send({"failed": key, "kind": _kind(error), "run": delta.as_dict(),
                       "error": f"{type(error).__name__}: {error}"})
                return
            delta.accounts = 1
            _send({"done": key, "run": delta.as_dict()})
        locks.close()
    except Exception as error:  # the lock connection failed
        _send({"failed": key, "kind": _kind(error), "run": BillRun().as_dict(),
               "error": f"{type(error).__name__}: {error}"})
    finally:
        app.close()


# ---------------------------------------------------------------------------- the parent
class _Worker:
    def __init__(self, number: int, settings: dict[str, Any]) -> None:
        self.number = number
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ledger.workers"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, bufsize=1, env={**os.environ})
        self.account: str | None = None  # the account it is on
        self.give(settings)

    @property
    def output(self) -> IO[str]:
        assert self.process.stdout is not None
        return self.process.stdout

    def give(self, order: dict[str, Any] | None) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(order or {}) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # it died; its stdout says so


def bill_in_parallel(env: Mapping[str, str], accounts: list[str], through: date, workers: int,
                     *, now: datetime | None = None, partner_id: str = "",
                     progress: Progress | None = None) -> BillRun:
    """Everything due through ``through`` for ``accounts``, split among ``workers``
    processes. ``now``: the instant of a test clock to bill under (None: the system clock).
    Raises :class:`BillingRunIncomplete` if a worker failed or died, after the others
    finished the list."""
    settings = {"env": dict(env), "now": now.isoformat() if now else None,
                "through": through.isoformat(), "partner_id": partner_id}
    queue: deque[tuple[str, bool]] = deque((key, False) for key in accounts)
    held: list[str] = []  # accounts another run of bill holds: handed out again, waiting
    run, done = BillRun(), 0
    failure: tuple[str, BaseException] | None = None
    pool = [_Worker(number, settings) for number in range(min(workers, max(len(accounts), 1)))]
    selector = selectors.DefaultSelector()
    for each in pool:
        selector.register(each.output, selectors.EVENT_READ, each)

    def next_order() -> dict[str, Any] | None:
        if not queue and held:
            queue.extend((key, True) for key in held)
            held.clear()
        if not queue:
            return None
        key, wait = queue.popleft()
        return {"account": key, "wait": wait}

    try:
        while selector.get_map():
            for selected, _ in selector.select():
                worker: _Worker = selected.data
                line = worker.output.readline()
                if not line:  # its end of the pipe closed: it exited
                    selector.unregister(worker.output)
                    code = worker.process.wait()
                    if worker.account is not None and failure is None:
                        failure = (worker.account, _death(worker.number, code))
                    continue
                message = json.loads(line)
                if "failed" in message:
                    run.add(BillRun.from_dict(message["run"]))
                    failure = failure or (message["failed"], _rebuilt(message))
                    worker.account = None
                    continue
                if "done" in message:
                    run.add(BillRun.from_dict(message["run"]))
                    done += 1
                    if progress is not None:
                        progress(done, len(accounts))
                elif "held" in message:
                    held.append(message["held"])
                order = next_order()
                worker.account = order["account"] if order else None
                worker.give(order)
    finally:
        for each in pool:
            if each.process.poll() is None:
                each.give(None)
        for each in pool:
            each.process.wait()
        selector.close()
    if failure is None and (queue or held):
        failure = (queue[0][0] if queue else held[0],
                   WorkerDied("every worker stopped before the list was done"))
    if failure is not None:
        account, cause = failure
        raise BillingRunIncomplete(account or "(before its first account)", cause, run.issued)
    return run


def _rebuilt(message: dict[str, Any]) -> BaseException:
    """A worker's failure as an error of the same kind (the exit status follows it)."""
    kind, text = message["kind"], message["error"]
    if kind == "store":
        return StoreError(text)
    return LedgerError(text) if kind == "ledger" else RuntimeError(text)


def _death(number: int, exitcode: int | None) -> WorkerDied:
    how = (f"killed by signal {-exitcode}" if exitcode is not None and exitcode < 0
           else f"exit status {exitcode}")
    return WorkerDied(f"worker {number + 1} died ({how})")


if __name__ == "__main__":
    worker_main()
