"""The scheduler: what falls due, done in date order, account by account.

For each account: its subscriptions' trial ends and renewals (recorded on the aggregates by
``Subscription.catch_up``), then its next billing date, cut by the application
(``BillingApplication.cut``), and again, until nothing is due on or before the date asked.
Each cut is one atomic write, so a run that stops part-way leaves every date it cut standing
and a rerun carries on. Several processes may run at once: a date another process cut first
is found done, not an error. A :class:`BillRun` says what one run did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from ledger import bounds, ids
from ledger.clock import TestClock, start_of, today
from ledger.errors import (
    BillingRunIncomplete,
    DateAlreadyCut,
    EffectiveDateInFuture,
    InvalidInput,
    StoreError,
)

if TYPE_CHECKING:
    from ledger.application import BillingApplication

Progress = Callable[[int, int], None]


@dataclass
class BillRun:
    """What a run of the scheduler did: the invoices it issued, the billing dates it closed
    with nothing to invoice, the dates it found already cut by another process, and the
    trial ends and renewals it recorded."""

    issued: list[str] = field(default_factory=list)
    closed: list[tuple[str, date]] = field(default_factory=list)
    found_done: list[tuple[str, date]] = field(default_factory=list)
    transitions: int = 0
    accounts: int = 0  # accounts it looked at

    def add(self, other: BillRun) -> None:
        self.issued += other.issued
        self.closed += other.closed
        self.found_done += other.found_done
        self.transitions += other.transitions
        self.accounts += other.accounts

    def summary(self, through: date | None = None) -> str:
        """One line: what was done, and what was found done."""
        until = f" through {through.isoformat()}" if through is not None else ""
        parts = [f"{len(self.issued)} invoice(s) issued", f"{len(self.closed)} billing date(s) "
                 "closed with nothing to invoice", f"{self.transitions} renewal(s) or trial "
                 "end(s) recorded"]
        if self.found_done:
            parts.append(f"{len(self.found_done)} billing date(s) found already cut by another run")
        return f"{self.accounts} account(s){until}: " + ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"issued": list(self.issued),
                "closed": [[account, day.isoformat()] for account, day in self.closed],
                "found_done": [[account, day.isoformat()] for account, day in self.found_done],
                "transitions": self.transitions, "accounts": self.accounts}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BillRun:
        return cls(list(data["issued"]),
                   [(account, date.fromisoformat(day)) for account, day in data["closed"]],
                   [(account, date.fromisoformat(day)) for account, day in data["found_done"]],
                   int(data["transitions"]), int(data["accounts"]))


class Scheduler:
    """Runs what is due for an application's accounts. It remembers, per process, when each
    account next has something due, and skips it until then (a command on the account makes
    it look again)."""

    def __init__(self, app: BillingApplication) -> None:
        self.app = app
        self._wake: dict[str, date] = {}

    def touched(self, account: str) -> None:
        """A command changed ``account``: something may fall due sooner than remembered."""
        self._wake.pop(account, None)

    def advance_to(self, day: date) -> BillRun:
        """Move a test clock to the start of ``day``, doing everything due before it as a
        daily job would: what falls due on a date is done at the start of the next day (the
        clock stepping there), so recorded times read as they would in production and "as
        known at" questions get the answers they would get there."""
        clock = self.app.clock
        if not isinstance(clock, TestClock):
            raise InvalidInput("advance_to needs a TestClock; with a real clock use run_due()")
        bounds.business_date(day, "advance_to's day")
        if start_of(day) < clock.now():
            clock.set(day)  # refused: the clock never goes back
        last = day - timedelta(days=1)
        run = self.run_due(min(last, clock.today() - timedelta(days=1)))  # what was overdue
        keys = self.app.account_keys()
        while True:
            # After a run every account has a wake date: when it next has something due.
            due = min((self._wake.get(key, clock.today()) for key in keys), default=None)
            if due is None or due > last:
                break
            clock.set(max(clock.now(), start_of(due + timedelta(days=1))))
            for key in keys:
                wake = self._wake.get(key)
                if wake is None or wake <= due:
                    self._run_account(key, due, run)
        clock.set(day)
        return run

    def run_due(self, through: date | None = None, *, progress: Progress | None = None,
                accounts: Iterable[str] | None = None,
                claim: Callable[[str], Any] | None = None) -> BillRun:
        """Do everything due on or before ``through`` (default: yesterday), in date order:
        each account's trial ends and renewals, then its billing dates. ``accounts`` limits
        the run to some accounts; ``claim(account)``, when given, is a context manager that
        yields whether this run may take the account now (another worker holds it
        otherwise: it is skipped, and left to that worker)."""
        current = today(self.app.clock)
        last = through if through is not None else current - timedelta(days=1)
        bounds.business_date(last, "the date to run through")
        if last > current:
            raise EffectiveDateInFuture(
                f"cannot run {last.isoformat()} yet: the ledger's clock says {current.isoformat()}"
            )
        keys = list(accounts) if accounts is not None else self.app.account_keys()
        run = BillRun()
        for done, key in enumerate(keys, start=1):
            wake = self._wake.get(key)
            if wake is None or wake <= last:
                if claim is None:
                    self._run_account(key, last, run)
                else:
                    with claim(key) as mine:
                        if mine:
                            self._run_account(key, last, run)
            if progress is not None:
                progress(done, len(keys))
        return run

    def _run_account(self, account: str, through: date, run: BillRun) -> None:
        """:meth:`run_account_due`, a failure named by account. Each cut is one atomic
        write: the dates cut before it stand, and a rerun carries on from the first one
        not cut."""
        try:
            self.run_account_due(account, through, run)
        except Exception as error:
            raise BillingRunIncomplete(account, error, run.issued) from error
        run.accounts += 1

    def run_account_due(self, account: str, through: date, run: BillRun | None = None) -> BillRun:
        """Everything due for one account on or before ``through``, exactly once."""
        run = run if run is not None else BillRun()
        app = self.app
        while True:
            acc = app._account(account)
            subs = [app._subscription(account, key) for key in acc.subscriptions]
            next_cut = acc.next_billing_date()
            upcoming = [when for sub in subs if (when := sub.next_transition()) is not None]
            first = min(upcoming, default=None)
            if first is not None and first <= through and first <= next_cut:
                # the subscriptions with something due that day, in one write
                due = [sub.key for sub in subs if sub.next_transition() == first]
                run.transitions += app._retrying(
                    partial(app.record_transitions, account, due, first))
                continue
            if next_cut > through:
                # Nothing is due for this account before this date; run_due skips it until
                # then (or until a command of this process touches it).
                self._wake[account] = min([next_cut, *upcoming])
                return run
            try:
                number = app._retrying(partial(app.cut, account, next_cut))
            except DateAlreadyCut:
                app._forget_cached(ids.account_id(account))  # another process cut it
                run.found_done.append((account, next_cut))
                continue
            except StoreError:
                raise
            if number is None:
                run.closed.append((account, next_cut))
            else:
                run.issued.append(number)
