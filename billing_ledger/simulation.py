"""``simulate``: play a scenario file on a fresh SQLite ledger and collect its files.

A play either completes or leaves no trace: it runs on a staged copy of the SQLite file it
is given (:func:`staged`), which replaces the file only once everything succeeded, so an
invalid scenario, a failing store or an output folder that cannot be written leaves the
file exactly as it was, and running it again starts from the same place.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from billing_ledger import outputs
from billing_ledger.api import Ledger, sqlite_reader
from billing_ledger.scenario import ExpectedLine, Scenario, ScenarioError, compare, lines_of, play
from ledger.clock import TestClock
from ledger.errors import LedgerError
from ledger.eventstore import sqlite_path
from projections import reconciliation

_SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Simulation:
    scenario: Scenario
    documents: dict[date, dict[str, Any]]
    files: dict[str, bytes]
    diff: list[str]

    @property
    def matches(self) -> bool:
        return not self.diff

    @property
    def lines(self) -> dict[date, list[ExpectedLine]]:
        return {day: lines_of(doc) for day, doc in self.documents.items()}


def _remove(path: Path) -> None:
    for suffix in ("", *_SIDE_FILES):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def staged(path: str | os.PathLike[str], *, fresh: bool = False) -> Iterator[str]:
    """A SQLite file to play into instead of ``path``: a copy of it (or, ``fresh``, an empty
    file), beside it. When the block completes, the copy replaces ``path``; when it raises,
    the copy is removed and ``path`` is left as it was.

    (Writers using ``path`` meanwhile would be overwritten: it is for files a play owns, such
    as ``simulate --db`` and ``demo``.)"""
    target = Path(path)
    if target.exists() and not fresh:
        sqlite_reader(str(target))  # NotALedger: another application's file is not played into
    copy = target.parent / f".{target.name[:40]}.{uuid.uuid4().hex[:12]}.staged"
    try:
        if target.exists() and not fresh:
            # SQLite's backup reads a consistent snapshot, including what is still in the WAL
            # (the file is only read; mode=rw lets SQLite tidy its -wal/-shm files after).
            source = sqlite3.connect(f"file:{quote(str(target.resolve()))}?mode=rw", uri=True)
            destination = sqlite3.connect(copy)
            try:
                source.backup(destination)
            finally:
                destination.close()
                source.close()
        yield str(copy)
    except BaseException:
        _remove(copy)
        raise
    for suffix in _SIDE_FILES:  # the old file's own: they must not be applied to the copy
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(copy, target)
    _remove(copy)


@contextmanager
def _scratch() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="billing-ledger-") as folder:
        yield os.path.join(folder, "scenario.sqlite")


def simulate(scenario: Scenario, db: str | os.PathLike[str] | None = None,
             partner_id: str = "", *,
             before_commit: Callable[[Simulation], None] | None = None,
             atomic: bool = True) -> Simulation:
    """Play ``scenario`` on the SQLite file ``db`` (a temporary one by default), or on
    a PostgreSQL URL.

    Raises :class:`~billing_ledger.scenario.ScenarioError` when the scenario is invalid, including an
    action the ledger refuses. The play is atomic: on a SQLite file it runs on a staged
    copy that replaces the file only after ``before_commit`` (e.g. writing the files) has
    run; on PostgreSQL, where no copy is made, the scenario is played on a scratch file
    first and only then, once it is known to be valid, on the store. ``atomic=False`` plays
    straight into ``db`` (for a caller that staged it already)."""
    if db is None:
        with _scratch() as location:
            result = _play(scenario, location, partner_id)
            if before_commit is not None:
                before_commit(result)
            return result
    if not atomic:
        result = _play(scenario, os.fspath(db), partner_id)
        if before_commit is not None:
            before_commit(result)
        return result
    file = sqlite_path(db)
    if file is not None:
        with staged(file) as location:
            result = _play(scenario, location, partner_id)
            if before_commit is not None:
                before_commit(result)
        return result
    with Ledger(db, partner_id=partner_id) as ledger:  # PostgreSQL: refuse a taken account first
        if scenario.account in ledger.app.account_keys():
            raise ScenarioError(scenario.source, "account", "id",
                                f"account {scenario.account!r} already exists in {db}")
    with _scratch() as location:
        checked = _play(scenario, location, partner_id)
    if before_commit is not None:
        before_commit(checked)
    return _play(scenario, os.fspath(db), partner_id)


def _play(scenario: Scenario, location: str, partner_id: str) -> Simulation:
    ledger = Ledger(location, clock=TestClock(scenario.start), partner_id=partner_id)
    try:
        try:
            play(scenario, ledger)
        except ScenarioError:
            raise
        except LedgerError as error:
            raise ScenarioError(scenario.source, "scenario", None, str(error)) from error
        # The files come from the projection's view rows, exactly as `recon` reads them.
        days = sorted(
            date.fromisoformat(row["billing_date"]) for row in ledger.invoices(scenario.account)
        )
        documents = {day: ledger.invoice(scenario.account, day) for day in days}
        # A file for every billing date that posted at least one line (a final invoice
        # after a cancellation may have none).
        files = {
            reconciliation.file_name(day): ledger.reconciliation(scenario.account, day)
            for day in days if documents[day]["subscriptions"]
        }
    finally:
        ledger.close()
    currency = next(iter(scenario.offers.values())).currency
    produced = {day: lines_of(doc) for day, doc in documents.items()}
    return Simulation(scenario, documents, files, compare(scenario, produced, currency))


def write_files(simulation: Simulation, out: str | os.PathLike[str]) -> list[Path]:
    """Write the simulation's reconciliation files into ``out`` (every name checked first)."""
    paths = outputs.plan(out, list(simulation.files))
    outputs.write(dict(zip(paths, simulation.files.values(), strict=True)))
    if not paths:
        Path(out).mkdir(parents=True, exist_ok=True)
    return paths
