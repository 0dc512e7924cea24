"""``simulate``: play a scenario file on a fresh SQLite ledger and collect its files."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ledger.api import Ledger
from ledger.clock import TestClock
from ledger.errors import LedgerError
from ledger.scenario import ExpectedLine, Scenario, ScenarioError, compare, lines_of, play
from projections import reconciliation


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


@contextmanager
def _database(db: str | os.PathLike[str] | None) -> Iterator[str]:
    if db is not None:
        yield os.fspath(db)
        return
    with tempfile.TemporaryDirectory(prefix="billing-ledger-") as folder:
        yield os.path.join(folder, "scenario.sqlite")


def simulate(scenario: Scenario, db: str | os.PathLike[str] | None = None,
             partner_id: str = "") -> Simulation:
    """Play ``scenario`` on the SQLite file ``db`` (a temporary one by default).

    Raises :class:`~ledger.scenario.ScenarioError` when the scenario is invalid, including an
    action the ledger refuses; nothing is written anywhere in that case but the database.
    """
    with _database(db) as location:
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
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in simulation.files.items():
        path = folder / name
        path.write_bytes(content)
        written.append(path)
    return written
