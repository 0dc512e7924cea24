"""The ledger's command line on a persistent SQLite file, end to end."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "ledger"]


def cli(db: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "--db", str(db), *args], capture_output=True, text=True, cwd=cwd,
                          check=False)


def ok(db: Path, *args: str) -> str:
    done = cli(db, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def ledger_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "ledger.sqlite"
    ok(db, "init")
    ok(db, "define-offer", "e1", "--price", "48.00", "--currency", "USD", "--term", "P1Y",
       "--billing", "annual", "--convention", "daily-rate", "--name", "Office 365 E1")
    ok(db, "open-account", "contoso", "--billing-day", "15", "--date", "2018-01-13",
       "--name", "Contoso Ltd")
    ok(db, "purchase", "contoso", "S1", "--offer", "e1", "--quantity", "1", "--date", "2018-01-13")
    ok(db, "bill", "--until", "2018-01-31")
    ok(db, "change-quantity", "contoso", "S1", "2", "--date", "2018-02-01")
    ok(db, "bill", "--until", "2018-02-28")
    return db


def test_recon_writes_the_billing_dates_file(ledger_db: Path, tmp_path: Path) -> None:
    ok(ledger_db, "recon", "--date", "2018-02-15", "--out", str(tmp_path))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "reconciliation-2018-02-15.csv").read_text())))
    assert [(r["ChargeType"], r["UnitPrice"], r["Quantity"], r["Amount"]) for r in rows] == [
        ("Cycle Instance Prorate", "-48.00", "1", "-48.00"),
        ("Cycle Instance Prorate", "2.47", "1", "2.47"),
        ("Cycle Instance Prorate", "44.98", "2", "89.96"),
    ]
    assert {r["InvoiceNumber"] for r in rows} == {"contoso-20180215"}


def test_invoice_in_every_format(ledger_db: Path, tmp_path: Path) -> None:
    document = json.loads(ok(ledger_db, "invoice", "--date", "2018-02-15", "--format", "json"))
    assert document["amount_due"] == "92.43" and document["balance_brought_forward"] == "48.00"
    assert "Amount due                92.43 USD" in ok(ledger_db, "invoice", "--date", "2018-02-15",
                                                      "--format", "text")
    ok(ledger_db, "invoice", "--date", "2018-02-15", "--format", "html", "--out", str(tmp_path / "i.html"))
    assert "<h1>Invoice contoso-20180215</h1>" in (tmp_path / "i.html").read_text()
    assert "89.96" in ok(ledger_db, "invoice", "--date", "2018-02-15")


def test_explain_each_line_of_the_change_license_quantity_case(ledger_db: Path) -> None:
    for line, arithmetic in ((1, "reverses line 2018-01-15#1"), (2, "19 days x 0.13 x 1 = 2.47"),
                             (3, "346 days x 0.13 x 2 = 89.96")):
        out = ok(ledger_db, "explain", "contoso-20180215", str(line))
        assert "Subscription.Purchased" in out and "Subscription.QuantityChanged" in out
        assert arithmetic in out
        assert "2018-01-13" in out and "2018-02-01" in out


def test_verify_preview_history_rebuild(ledger_db: Path) -> None:
    assert "all 2 invoices match" in ok(ledger_db, "verify")
    assert "nothing to post on 2018-03-15" in ok(ledger_db, "preview", "--account", "contoso")
    history = ok(ledger_db, "history", "contoso", "S1", "--as-of", "2018-01-31")
    assert "quantity" in history and "│ 1 " in history
    assert "rebuilt the views from" in ok(ledger_db, "rebuild")
    assert "all 2 invoices match" in ok(ledger_db, "verify")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["invoice", "--date", "2018-02-30"], "not a date"),
        (["recon", "--date", "15/02/2018", "--out", "OUT"], "not a date"),
        (["invoice", "--date", "2018-03-15"], "no invoice is dated 2018-03-15"),
        (["invoice", "--date", "2018-02-15", "--account", "nobody"], "unknown account 'nobody'"),
        (["explain", "contoso-20990101", "1"], "unknown invoice"),
        (["explain", "contoso-20180215", "7"], "lines 1 to 3"),
        (["history", "contoso", "S9"], "unknown subscription 'S9'"),
        (["purchase", "nobody", "S1", "--offer", "e1", "--quantity", "1"], "unknown account"),
        (["suspend", "contoso", "S1", "--date", "2018-01-01"], "before 2018-02-01"),
        (["bill", "--until", "2999-01-01"], "cannot run 2999-01-01 yet"),
    ],
)
def test_errors_are_one_line_non_zero_and_write_nothing(ledger_db: Path, tmp_path: Path,
                                                        args: list[str], words: str) -> None:
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    before = ledger_db.stat().st_size, sorted(p.name for p in ledger_db.parent.iterdir())
    done = cli(ledger_db, *args)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert words in done.stderr
    assert not (tmp_path / "out").exists()
    assert (ledger_db.stat().st_size, sorted(p.name for p in ledger_db.parent.iterdir())) == before


def test_a_missing_database_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite"
    for args in (["invoices"], ["verify"], ["recon", "--date", "2018-01-15", "--out", str(tmp_path / "o")],
                 ["purchase", "a", "S1", "--offer", "e1", "--quantity", "1"]):
        done = cli(missing, *args)
        assert done.returncode == 2
        assert done.stderr.strip() == f"error: no ledger database at {missing}"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_database_can_come_from_the_environment(ledger_db: Path) -> None:
    done = subprocess.run([*CLI, "invoices"], capture_output=True, text=True, check=False,
                          env={"BILLING_LEDGER_DB": str(ledger_db), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "contoso-20180215" in done.stdout
