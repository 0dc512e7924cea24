"""``billing-ledger simulate`` and ``demo`` through the installed entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NewStore
from tests.support import SCENARIOS

SEED = sorted((SCENARIOS / "seed").glob("*.yaml"))
CLI = [sys.executable, "-m", "billing_ledger"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, check=False)


@pytest.mark.parametrize("path", SEED, ids=lambda p: p.stem)
def test_simulate_writes_one_file_per_billing_date_and_exits_0(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run("simulate", str(path), "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files and all(name.startswith("reconciliation-20") for name in files)
    header = (out / files[0]).read_text(encoding="utf-8").splitlines()[0]
    for column in ("SubscriptionId", "ChargeStartDate", "ChargeEndDate", "ChargeType",
                   "UnitPrice", "Quantity", "Amount"):
        assert column in header.split(",")


def test_simulate_keeps_the_ledger_in_the_given_database(tmp_path: Path, new_store: NewStore) -> None:
    db = new_store("kept")
    done = run("simulate", str(SEED[2]), "--out", str(tmp_path / "o"), "--db", db, "-q")
    assert done.returncode == 0, done.stderr
    listed = run("--db", db, "invoices")
    assert listed.returncode == 0 and "seed-change-quantity-20180215" in listed.stdout


SCENARIO = """format: 1
account: {{id: acme, billing_day: 15}}
offers:
  o: {{price: "48.00", currency: USD, term: P1Y, billing: annual, convention: daily-rate}}
actions:
  - {{date: 2018-01-13, action: purchase, subscription: S1, offer: o, quantity: 1}}
  - {second}
until: 2018-03-31
"""


@pytest.mark.parametrize(
    ("second", "words"),
    [
        ("{date: 2018-02-01, action: upgrade, subscription: S1}", ["action 2", "field 'action'", "upgrade"]),
        ("{date: 2018-02-01, action: change_quantity, subscription: S1, quantity: 0}",
         ["action 2", "field 'quantity'", "at least 1"]),
        ("{date: 2018-01-01, action: suspend, subscription: S1}", ["action 2", "field 'date'"]),
        ("{date: 2018-02-01, action: change_quantity, subscription: S1}",
         ["action 2", "field 'quantity'", "missing"]),
        ("{date: 2018-02-01, action: suspend, subscription: S1, quantity: 3}",
         ["action 2", "field 'quantity'", "not a field of suspend"]),
        ("{date: 2018-02-01, action: reactivate, subscription: S1}",
         ["action 2", "reactivate S1 on 2018-02-01", "not suspended"]),
        ("{date: 2018-02-01, action: suspend, subscription: S2}",
         ["action 2", "field 'subscription'", "S2"]),
        ("{date: 2018-02-30, action: suspend, subscription: S1}", ["action 2", "field 'date'"]),
        ("{date: 2018-02-01, action: purchase, subscription: S2, offer: o, quantity: 25}\n"
         "  - {date: 2018-02-02, action: cancel, subscription: S2, channel: online}",
         ["action 3", "field 'channel'", "below 25", "assisted"]),
        ("{date: 2018-02-01, action: purchase, subscription: T, offer: o, quantity: 1, trial: true}\n"
         "  - {date: 2018-02-02, action: cancel, subscription: T}",
         ["action 3", "nothing to cancel"]),
        ("{date: 2018-02-01, action: cancel, subscription: S1}\n"
         "  - {date: 2018-02-02, action: change_quantity, subscription: S1, quantity: 2}",
         ["action 3", "change_quantity S1 on 2018-02-02", "cancelled"]),
    ],
)
def test_an_invalid_scenario_exits_2_names_action_and_field_and_writes_nothing(
    tmp_path: Path, second: str, words: list[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(SCENARIO.format(second=second))
    out = tmp_path / "out"
    done = run("simulate", str(path), "--out", str(out))
    assert done.returncode == 2
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in done.stderr
    for word in words:
        assert word in message
    assert not out.exists()


def test_invalid_yaml_and_missing_file_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("format: 1\naccount: [unclosed\n")
    assert run("simulate", str(path), "--out", str(tmp_path / "o")).returncode == 2
    missing = run("simulate", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_lines_that_differ_from_expect_exit_1_with_a_diff(tmp_path: Path) -> None:
    text = SEED[4].read_text().replace('"-41.34", quantity: 1, amount: "-41.34"',
                                       '"-41.34", quantity: 1, amount: "-41.00"')
    path = tmp_path / "differs.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    done = run("simulate", str(path), "--out", str(out), "-q")
    assert done.returncode == 1
    assert "expected, not produced" in done.stderr and "-41.00" in done.stderr
    assert "produced, not expected" in done.stderr and "-41.34" in done.stderr
    assert (out / "reconciliation-2018-03-15.csv").exists()


def test_demo_runs_the_six_seed_scenarios_on_one_sqlite_file(tmp_path: Path) -> None:
    done = run("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "demo.sqlite").exists()
    folders = sorted(p.name for p in (tmp_path / "demo-output").iterdir())
    assert folders == [p.stem for p in SEED]
    assert done.stdout.count("matches the article") == 6
    assert "346 days" not in done.stdout  # tables, not formulas
    assert "89.96" in done.stdout
