"""The ledger's command line on a persistent SQLite file, end to end."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import IN_CI, PG_ADMIN, drop_schema, make_schema, postgres_problem

CLI = [sys.executable, "-m", "billing_ledger"]


def cli(db: Path | str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "--db", str(db), *args], capture_output=True, text=True, cwd=cwd,
                          check=False)


def ok(db: Path | str, *args: str) -> str:
    done = cli(db, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def fingerprint(db: Path | str) -> object:
    """What a command could have changed: the SQLite file (or the PostgreSQL tables)."""
    if isinstance(db, Path):
        return db.stat().st_size, sorted(p.name for p in db.parent.iterdir())
    schema = db.rpartition("schema=")[2]
    with psycopg.connect(PG_ADMIN) as conn:
        return [conn.execute(f'SELECT count(*) FROM "{schema}".{table}').fetchone()
                for table in ("billingledger_events", "billing_invoices", "billing_invoice_lines")]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def ledger_db(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | str]:
    db: Path | str
    if request.param == "postgres":
        if request.config.getoption("--backend") == "sqlite":
            pytest.skip("--backend sqlite")
        problem = postgres_problem()
        if problem is not None:
            if IN_CI:
                pytest.fail(f"CI=true needs PostgreSQL: {problem}")
            pytest.skip(problem)
        schema = make_schema()
        db = f"{PG_ADMIN}?schema={schema}"
    else:
        if request.config.getoption("--backend") == "postgres":
            pytest.skip("--backend postgres")
        db = tmp_path_factory.mktemp("cli") / "ledger.sqlite"
    yield from _populated(db)
    if request.param == "postgres":
        drop_schema(schema)


def _populated(db: Path | str) -> Iterator[Path | str]:
    ok(db, "init")
    ok(db, "define-offer", "e1", "--price", "48.00", "--currency", "USD", "--term", "P1Y",
       "--billing", "annual", "--convention", "daily-rate", "--name", "Office 365 E1")
    ok(db, "open-account", "contoso", "--billing-day", "15", "--date", "2018-01-13",
       "--name", "Contoso Ltd")
    ok(db, "purchase", "contoso", "S1", "--offer", "e1", "--quantity", "1", "--date", "2018-01-13")
    ok(db, "bill", "--until", "2018-01-31")
    ok(db, "change-quantity", "contoso", "S1", "2", "--date", "2018-02-01")
    ok(db, "bill", "--until", "2018-02-28")
    yield db


def test_recon_writes_the_billing_dates_file(ledger_db: Path | str, tmp_path: Path) -> None:
    ok(ledger_db, "recon", "--date", "2018-02-15", "--out", str(tmp_path))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "reconciliation-2018-02-15.csv").read_text())))
    assert [(r["ChargeType"], r["UnitPrice"], r["Quantity"], r["Amount"]) for r in rows] == [
        ("Cycle Instance Prorate", "-48.00", "1", "-48.00"),
        ("Cycle Instance Prorate", "2.47", "1", "2.47"),
        ("Cycle Instance Prorate", "44.98", "2", "89.96"),
    ]
    assert {r["InvoiceNumber"] for r in rows} == {"contoso-20180215"}


def test_invoice_in_every_format(ledger_db: Path | str, tmp_path: Path) -> None:
    document = json.loads(ok(ledger_db, "invoice", "--date", "2018-02-15", "--format", "json"))
    assert document["amount_due"] == "92.43" and document["balance_brought_forward"] == "48.00"
    assert "Amount due                $92.43" in ok(ledger_db, "invoice", "--date", "2018-02-15",
                                                      "--format", "text")
    ok(ledger_db, "invoice", "--date", "2018-02-15", "--format", "html", "--out", str(tmp_path / "i.html"))
    assert "<h1>Invoice contoso-20180215</h1>" in (tmp_path / "i.html").read_text()
    assert "89.96" in ok(ledger_db, "invoice", "--date", "2018-02-15")


def test_explain_each_line_of_the_change_license_quantity_case(ledger_db: Path | str) -> None:
    for line, arithmetic in ((1, "reverses line 2018-01-15#1"), (2, "19 days x 0.13 x 1 = 2.47"),
                             (3, "346 days x 0.13 x 2 = 89.96")):
        out = ok(ledger_db, "explain", "contoso-20180215", str(line))
        assert "Subscription.Purchased" in out and "Subscription.QuantityChanged" in out
        assert arithmetic in out
        assert "2018-01-13" in out and "2018-02-01" in out


def test_verify_preview_history_rebuild(ledger_db: Path | str) -> None:
    assert "all 2 invoices match" in ok(ledger_db, "verify")
    assert "nothing to post on 2018-03-15" in ok(ledger_db, "preview", "--account", "contoso")
    history = ok(ledger_db, "history", "contoso", "S1", "--as-of", "2018-01-31")
    assert "quantity" in history and "│ 1 " in history
    assert "rebuilt the views from" in ok(ledger_db, "rebuild")
    assert "all 2 invoices match" in ok(ledger_db, "verify")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["invoice", "--date", "2018-02-30"], "no such day: 2018-02-30"),
        (["recon", "--date", "15/02/2018", "--out", "OUT"], "not a date"),
        (["invoice", "--date", "2018-03-15"], "no invoice is dated 2018-03-15"),
        (["invoice", "--date", "2018-02-15", "--account", "nobody"], "unknown account 'nobody'"),
        (["explain", "contoso-20990101", "1"], "unknown invoice"),
        (["explain", "contoso-20180215", "7"], "lines 1 to 3"),
        (["history", "contoso", "S9"], "unknown subscription 'S9'"),
        (["purchase", "nobody", "S1", "--offer", "e1", "--quantity", "1"], "unknown account"),
        (["suspend", "contoso", "S1", "--date", "2018-01-01"], "before 2018-02-01"),
        (["bill", "--until", "2999-01-01"], "cannot run 2999-01-01 yet"),
        (["preview", "--account", "contoso", "--date", "2018-04-15"],
         "next billing date to cut is 2018-03-15"),
        (["invoice", "--date", "2018-02-15", "--format", "text", "--out", "/no/such/dir/i.txt"],
         "error: /no/such/dir/i.txt: No such file or directory"),
        (["recon", "--date", "2018-02-15", "--out", "/proc/no-such-dir"], "error: /proc/no-such-dir"),
    ],
)
def test_errors_are_one_line_non_zero_and_write_nothing(ledger_db: Path | str, tmp_path: Path,
                                                        args: list[str], words: str) -> None:
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    before = fingerprint(ledger_db)
    done = cli(ledger_db, *args)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert words in done.stderr
    assert not (tmp_path / "out").exists()
    assert fingerprint(ledger_db) == before


def test_a_missing_database_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite"
    for args in (["invoices"], ["verify"], ["recon", "--date", "2018-01-15", "--out", str(tmp_path / "o")],
                 ["purchase", "a", "S1", "--offer", "e1", "--quantity", "1"]):
        done = cli(missing, *args)
        assert done.returncode == 2
        assert done.stderr.strip() == f"error: no ledger database at {missing}"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_database_can_come_from_the_environment(ledger_db: Path | str) -> None:
    done = subprocess.run([*CLI, "invoices"], capture_output=True, text=True, check=False,
                          env={"BILLING_LEDGER_DB": str(ledger_db), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "contoso-20180215" in done.stdout


def test_the_librarys_own_environment_variables_select_postgresql(tmp_path: Path) -> None:
    problem = postgres_problem()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"CI=true needs PostgreSQL: {problem}")
        pytest.skip(problem)
    schema = make_schema()
    url = PG_ADMIN.removeprefix("postgresql://")
    user, _, rest = url.partition("@")
    hostport, _, dbname = rest.partition("/")
    host, _, port = hostport.partition(":")
    env = {"PATH": "/usr/bin:/bin", "PERSISTENCE_MODULE": "eventsourcing.postgres",
           "POSTGRES_DBNAME": dbname, "POSTGRES_HOST": host, "POSTGRES_PORT": port or "5432",
           "POSTGRES_USER": user, "POSTGRES_PASSWORD": "", "POSTGRES_SCHEMA": schema}
    try:
        for args in (["init"], ["open-account", "envco", "--billing-day", "3"], ["accounts"]):
            done = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env,
                                  cwd=tmp_path, check=False)
            assert done.returncode == 0, done.stderr
        assert "envco" in done.stdout
        assert list(tmp_path.iterdir()) == []  # no SQLite file appeared
        with psycopg.connect(PG_ADMIN) as conn:
            row = conn.execute(f'SELECT account FROM "{schema}".billing_accounts').fetchone()
        assert row == ("envco",)
    finally:
        drop_schema(schema)


def test_an_idempotency_key_makes_a_cli_command_repeat_safe(ledger_db: Path | str) -> None:
    ok(ledger_db, "purchase", "contoso", "S7", "--offer", "e1", "--quantity", "3",
       "--date", "2018-03-01", "--idempotency-key", "po-77")
    before = fingerprint(ledger_db)
    ok(ledger_db, "purchase", "contoso", "S7", "--offer", "e1", "--quantity", "3",
       "--date", "2018-03-01", "--idempotency-key", "po-77")
    assert fingerprint(ledger_db) == before
    clash = cli(ledger_db, "purchase", "contoso", "S7", "--offer", "e1", "--quantity", "4",
                "--date", "2018-03-01", "--idempotency-key", "po-77")
    assert clash.returncode == 2 and "already used for purchase" in clash.stderr


def test_every_command_that_records_an_action_takes_an_idempotency_key() -> None:
    from billing_ledger.cli import main

    # Commands that only read, or whose effect is idempotent by nature (bill --until D cuts
    # each billing date once; init, rebuild and project converge; simulate and demo play
    # a file into a fresh store; serve takes an Idempotency-Key on each request instead).
    not_actions = {"accounts", "anchor", "bill", "demo", "explain", "feed", "history", "init", "invoice",
                   "invoices", "preview", "project", "rebuild", "recon", "serve", "simulate", "verify",
                   "journal", "trial-balance", "revenue"}
    for name, command in main.commands.items():
        takes_key = any(param.name == "key" for param in command.params)
        assert takes_key == (name not in not_actions), name
