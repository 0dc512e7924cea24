"""The six seed scenarios, as scenario files under tests/, through the Python API."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from billing_ledger import scenario as scenarios
from billing_ledger.cli import seed_scenarios
from billing_ledger.simulation import simulate
from projections.reconciliation import COLUMNS
from tests.conftest import NewStore
from tests.support import SCENARIOS

SEED = sorted((SCENARIOS / "seed").glob("*.yaml"))


def test_there_are_six_seed_scenarios_and_the_package_ships_the_same_files() -> None:
    assert len(SEED) == 6
    packaged = {path.name: path.read_bytes() for path in seed_scenarios()}
    assert packaged == {path.name: path.read_bytes() for path in SEED}


@pytest.mark.parametrize("path", SEED, ids=lambda p: p.stem)
def test_seed_scenario_reproduces_every_line_of_the_article(path: Path, new_store: NewStore) -> None:
    scenario = scenarios.load(path)
    assert scenario.expect, "a seed scenario states what the article shows"
    result = simulate(scenario, new_store())
    assert result.diff == []
    for day, wanted in scenario.expect.items():
        name = f"reconciliation-{day.isoformat()}.csv"
        if not wanted:
            assert name not in result.files
            continue
        records = list(csv.DictReader(io.StringIO(result.files[name].decode("utf-8"))))
        assert tuple(records[0]) == COLUMNS
        got = sorted((r["SubscriptionId"], r["ChargeStartDate"], r["ChargeEndDate"],
                      r["ChargeType"].casefold(), r["UnitPrice"], r["Quantity"], r["Amount"])
                     for r in records)
        expected = sorted((line.subscription, line.start.isoformat(), line.end.isoformat(),
                           line.charge_type.casefold(), f"{line.unit_price}", str(line.quantity),
                           f"{line.amount}") for line in wanted)
        assert got == expected


def test_a_scenario_that_differs_from_expect_reports_a_readable_diff(new_store: NewStore) -> None:
    text = (SCENARIOS / "seed" / "03-change-license-quantity.yaml").read_text()
    wrong = scenarios.parse(text.replace('unit_price: "44.98", quantity: 2, amount: "89.96"',
                                         'unit_price: "44.98", quantity: 2, amount: "89.97"'))
    result = simulate(wrong, new_store())
    assert not result.matches
    assert "  - expected, not produced: S1 2018-02-01..2019-01-12 Cycle Instance Prorate " \
           "44.98 x 2 = 89.97" in result.diff
    assert any(line.startswith("  + produced, not expected:") and "89.96" in line
               for line in result.diff)
