from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from ledger.application import BillingLedger
from tests.support import sqlite_ledger


@pytest.fixture
def make_ledger(tmp_path: Path) -> Iterator[object]:
    """A factory for ledgers on a fresh SQLite file, each with a test clock."""
    made: list[BillingLedger] = []

    def factory(start: date, name: str = "ledger.sqlite") -> BillingLedger:
        ledger = sqlite_ledger(tmp_path / name, start)
        made.append(ledger)
        return ledger

    yield factory
    for ledger in made:
        ledger.close()
