"""Every scenario file under tests/scenarios with an expect section reproduces it, through
simulate (the Python entry of `billing-ledger simulate`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_ledger import scenario as scenarios
from billing_ledger.simulation import simulate
from tests.conftest import NewStore
from tests.support import SCENARIOS

FILES = sorted(SCENARIOS.rglob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_scenario_file_matches_its_expect_section(path: Path, new_store: NewStore) -> None:
    scenario = scenarios.load(path)
    assert scenario.expect, f"{path.name} has no expect section"
    result = simulate(scenario, new_store())
    assert result.diff == [], "\n".join(result.diff)


@pytest.mark.parametrize("path", sorted((SCENARIOS / "monthly").glob("*.yaml")), ids=lambda p: p.stem)
def test_a_monthly_term_and_a_yearly_term_billed_monthly_bill_the_same(path: Path,
                                                                      new_store: NewStore) -> None:
    text = path.read_text()
    yearly = text.replace('price: "4.00", currency: USD, term: P1M',
                          'price: "48.00", currency: USD, term: P1Y')
    assert yearly != text
    one = simulate(scenarios.parse(text), new_store("a"))
    other = simulate(scenarios.parse(yearly), new_store("b"))
    assert one.diff == other.diff == []
    assert one.lines == other.lines
