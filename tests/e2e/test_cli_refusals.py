"""The inputs of issue 12, one by one, on the command line: each is refused with one line
and the documented exit status, nothing is written, and the ledger stays readable."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ledger.application import BillingApplication
from tests.conftest import NewStore
from tests.support import SCENARIOS, invoke, seeded, table_state

SEED = sorted((SCENARIOS / "seed").glob("*.yaml"))
CLI = [sys.executable, "-m", "billing_ledger"]


@pytest.fixture
def db(new_store: NewStore) -> str:
    location = new_store("ledger")
    seeded(location)
    return location


def ok(db: str, *args: str) -> str:
    status, out, err = invoke(["--db", db, *args])
    assert status == 0, err
    assert "error" not in err and "Traceback" not in err
    return out


def refused(db: str, *args: str, status: int = 2) -> str:
    """The command fails with ``status`` and one line, and leaves every table as it was."""
    before = table_state(db)
    code, _, err = invoke(["--db", db, *args])
    assert code == status, (code, err)
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert table_state(db) == before
    return err


def still_readable(db: str) -> None:
    for command in (["accounts"], ["invoices"], ["verify"], ["feed"],
                    ["--today", "2018-01-20", "bill", "--until", "2018-01-20"], ["rebuild"]):
        ok(db, *command)


@pytest.mark.parametrize("value", ["[/x]", "[bold]x[/bold]", "../etc", "a/b", ".hidden", "-x",
                                   "x" * 65, "a b", "a\nb", ""])
def test_an_account_id_out_of_bounds_is_refused(db: str, value: str) -> None:
    err = refused(db, "--today", "2018-01-20", "open-account", "--billing-day", "15", "--", value)
    assert "account id must be 1-64 characters from A-Z a-z 0-9 . _ -" in err
    still_readable(db)


def test_user_data_is_printed_literally(db: str) -> None:
    ok(db, "--today", "2018-01-20", "open-account", "markup", "--billing-day", "20",
       "--name", "[bold]x[/bold] :smile: [/x]", "--currency", "USD")
    ok(db, "--today", "2018-01-20", "define-offer", "m1", "--price", "10", "--currency", "USD",
       "--term", "P1Y", "--billing", "annual", "--convention", "exact", "--name", "[red]E1[/red]")
    ok(db, "--today", "2018-01-20", "purchase", "markup", "S1", "--offer", "m1", "--quantity", "1")
    assert "[bold]x[/bold] :smile: [/x]" in ok(db, "accounts")
    billed = ok(db, "--today", "2018-01-21", "bill", "--until", "2018-01-20", "--table")
    assert "markup-20180120" in billed
    table = ok(db, "invoice", "--date", "2018-01-20", "--account", "markup")
    assert "[bold]x[/bold] :smile: [/x]" in table
    assert "[red]E1[/red]" in ok(db, "invoice", "--date", "2018-01-20", "--account", "markup",
                                 "--format", "text")
    assert "&lt;" not in ok(db, "invoices") and "markup-20180120" in ok(db, "invoices")


@pytest.mark.parametrize("quantity", [str(10**30), str(2**63), str(2**31), "1000001", "0", "-1"])
def test_a_quantity_out_of_bounds_is_refused(db: str, quantity: str) -> None:
    err = refused(db, "--today", "2018-01-20", "change-quantity", "--", "contoso", "S1", quantity)
    assert "quantity must be" in err
    still_readable(db)


def test_the_largest_quantity_is_stored_by_every_backend(db: str) -> None:
    ok(db, "--today", "2018-01-20", "change-quantity", "contoso", "S1", "1000000")
    still_readable(db)
    assert "1,000,000" not in ok(db, "history", "contoso", "S1")  # printed as stored
    assert "1000000" in ok(db, "history", "contoso", "S1")


@pytest.mark.parametrize(("args", "words"), [
    (["define-offer", "big", "--price", "1E+30", "--currency", "USD", "--term", "P1Y",
      "--billing", "annual", "--convention", "daily-rate"], "price must be at most 1,000,000,000"),
    (["define-offer", "big", "--price", "48.001", "--currency", "USD", "--term", "P1Y",
      "--billing", "annual", "--convention", "daily-rate"], "more decimal places than USD has (2)"),
    (["define-offer", "big", "--price", "NaN", "--currency", "USD", "--term", "P1Y",
      "--billing", "annual", "--convention", "daily-rate"], "not a finite number"),
    (["define-offer", "big", "--price", "1.5", "--currency", "JPY", "--term", "P1Y",
      "--billing", "annual", "--convention", "daily-rate"], "more decimal places than JPY has (0)"),
    (["record-payment", "contoso", "1E+30"], "a payment must be at most 1,000,000,000,000"),
    (["record-payment", "contoso", "0.015"], "more decimal places than USD has (2)"),
    (["record-payment", "contoso", "--", "-5"], "a payment must be positive"),
    (["record-payment", "contoso", "5", "--reference", "a\x00b"], "payment reference"),
    (["define-offer", "e2", "--price", "1", "--currency", "USD", "--term", "P1Y", "--billing",
      "annual", "--convention", "exact", "--refund-window-days", "100000"],
     "refund_window_days must be at most 366"),
    (["purchase", "contoso", "S2", "--offer", "e1", "--quantity", "1", "--trial",
      "--trial-days", "100000"], "trial_days must be at most 365"),
    (["open-account", "x1", "--billing-day", "15", "--name", "x" * 201], "account name must be 1-200"),
    (["suspend", "contoso", "S1", "--idempotency-key", "k\tey"], "idempotency key"),
    (["--partner-id", "p\x1b[31m", "suspend", "contoso", "S1"], "partner id"),
])
def test_money_and_text_out_of_bounds_are_refused(db: str, args: list[str], words: str) -> None:
    err = refused(db, "--today", "2018-01-20", *args)
    assert words in err
    still_readable(db)


def test_a_price_of_1e30_in_a_scenario_is_an_invalid_scenario(tmp_path: Path) -> None:
    text = SEED[2].read_text().replace('price: "48.00"', 'price: "1E+30"')
    assert "1E+30" in text
    (tmp_path / "big.yaml").write_text(text)
    status, _, err = invoke(["simulate", str(tmp_path / "big.yaml"), "--out", str(tmp_path / "o")])
    assert status == 2 and "field 'price'" in err and "at most 1,000,000,000" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("price", [".nan", ".NaN", ".inf", "-.inf", "1:30.5"])
def test_an_unquoted_yaml_nan_is_a_scenario_error_naming_the_field(tmp_path: Path, price: str) -> None:
    text = SEED[2].read_text().replace('price: "48.00"', f"price: {price}")
    (tmp_path / "nan.yaml").write_text(text)
    status, _, err = invoke(["simulate", str(tmp_path / "nan.yaml"), "--out", str(tmp_path / "o")])
    assert status == 2, err
    assert "field 'price'" in err and len(err.splitlines()) == 1


def test_a_yaml_syntax_error_is_one_line_with_its_place(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("format: 1\naccount: {id: x\n  offers: [\n")
    status, _, err = invoke(["simulate", str(tmp_path / "bad.yaml"), "--out", str(tmp_path / "o")])
    assert status == 2
    assert len(err.splitlines()) == 1 and "not valid YAML at line " in err and "column" in err


def test_recon_writes_only_under_out_and_checks_every_name_first(db: str, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    ok(db, "recon", "--date", "2018-01-15", "--out", str(out))
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "reconciliation-2018-01-15.csv"]
    (tmp_path / "file").write_text("x")
    err = refused(db, "recon", "--date", "2018-01-15", "--out", str(tmp_path / "file" / "sub"))
    assert "is not a folder" in err


def test_a_read_command_on_another_applications_file_changes_nothing(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
    before = other.read_bytes()
    for command in (["accounts"], ["invoices"], ["verify"], ["feed"], ["rebuild"],
                    ["recon", "--date", "2018-01-15", "--out", str(tmp_path / "o")]):
        status, _, err = invoke(["--db", str(other), *command])
        assert status == 2, err
        assert err.strip() == f"error: not a billing ledger database: {other} (it has no ledger tables)"
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.sqlite"]


def test_a_read_command_where_there_is_no_ledger_creates_nothing(new_store: NewStore) -> None:
    location = new_store("empty")  # a SQLite path with no file, or an empty PostgreSQL schema
    for command in (["accounts"], ["feed"], ["rebuild"]):
        status, _, err = invoke(["--db", location, *command])
        assert status == 2
        assert "no ledger database at" in err or "not a billing ledger database" in err
    assert table_state(location) == {}
    assert not Path(location).exists()


def test_reads_write_nothing_even_when_the_views_are_behind(tmp_path: Path) -> None:
    location = str(tmp_path / "behind.sqlite")
    seeded(location)
    with BillingApplication({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                        "SQLITE_DBNAME": location}) as app:  # records, projects nothing
        app.change_quantity("contoso", "S1", 3)
    before = table_state(location)
    assert "3" in ok(location, "history", "contoso", "S1")
    assert "contoso" in ok(location, "accounts")
    ok(location, "verify")
    assert table_state(location) == before  # the views caught up in memory only


def as_nobody() -> list[str]:
    """A command prefix that runs as an unprivileged user (root ignores file modes)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be made")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_reads_work_in_a_read_only_folder_and_writes_are_database_errors() -> None:
    prefix = as_nobody()
    top = Path(tempfile.mkdtemp(prefix="ledger-ro-"))  # one the unprivileged user can enter
    top.chmod(0o755)
    folder = top / "ro"
    folder.mkdir()
    location = folder / "ledger.sqlite"
    seeded(str(location))
    folder.chmod(0o555)
    location.chmod(0o444)
    try:
        before = location.read_bytes()
        for command in (["accounts"], ["invoices"], ["verify"], ["feed"],
                        ["history", "contoso", "S1"]):
            done = subprocess.run([*prefix, *CLI, "--db", str(location), *command],
                                  capture_output=True, text=True, check=False, cwd="/")
            assert done.returncode == 0, done.stderr
        done = subprocess.run([*prefix, *CLI, "--db", str(location), "--today", "2018-01-20",
                               "suspend", "contoso", "S1"],
                              capture_output=True, text=True, check=False, cwd="/")
        assert done.returncode == 3, done.stderr
        assert done.stderr.startswith("error: database error:") and "readonly" in done.stderr
        assert len(done.stderr.splitlines()) == 1
        assert location.read_bytes() == before
        assert sorted(p.name for p in folder.iterdir()) == ["ledger.sqlite"]
    finally:
        folder.chmod(0o755)
        shutil.rmtree(top)


def test_demo_refuses_a_ledger_that_is_not_a_demo_ledger(tmp_path: Path) -> None:
    prod = tmp_path / "prod.sqlite"
    seeded(str(prod))
    before = table_state(prod)
    status, _, err = invoke(["demo", "--db", str(prod), "--out", str(tmp_path / "o")])
    assert status == 2
    assert "not a demo ledger (account 'contoso')" in err
    assert table_state(prod) == before
    text = tmp_path / "notes.sqlite"
    text.write_text("my notes")
    status, _, err = invoke(["demo", "--db", str(text), "--out", str(tmp_path / "o")])
    assert status == 2 and text.read_text() == "my notes"
    assert not (tmp_path / "o").exists()


def test_demo_replaces_its_own_ledger_and_leaves_none_when_it_cannot_write(tmp_path: Path) -> None:
    demo = tmp_path / "demo.sqlite"
    for _ in range(2):
        status, out, err = invoke(["demo", "--db", str(demo), "--out", str(tmp_path / "files")])
        assert status == 0, err
        assert out.count("matches the article") == 6
    (tmp_path / "blocker").write_text("a file, not a folder")
    other = tmp_path / "other-demo.sqlite"
    status, _, err = invoke(["demo", "--db", str(other), "--out", str(tmp_path / "blocker" / "x")])
    assert status == 2 and "not a folder" in err
    assert not other.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".other-demo")]


def test_a_failed_simulate_leaves_the_database_as_it_was_and_a_rerun_works(tmp_path: Path) -> None:
    keep = tmp_path / "keep.sqlite"
    (tmp_path / "blocker").write_text("a file")
    status, _, err = invoke(["simulate", str(SEED[2]), "--db", str(keep),
                             "--out", str(tmp_path / "blocker" / "out")])
    assert status == 2 and "not a folder" in err
    assert not keep.exists()
    status, _, err = invoke(["simulate", str(SEED[2]), "--db", str(keep), "--out",
                             str(tmp_path / "out"), "-q"])
    assert status == 0, err
    before = table_state(keep)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_LATE)
    status, _, err = invoke(["simulate", str(bad), "--db", str(keep), "--out", str(tmp_path / "o2")])
    assert status == 2 and "not suspended" in err
    assert table_state(keep) == before  # the first scenario's account is all it holds


BAD_LATE = """format: 1
account: {id: late, billing_day: 15}
offers:
  o: {price: "48.00", currency: USD, term: P1Y, billing: annual, convention: daily-rate}
actions:
  - {date: 2018-01-13, action: purchase, subscription: S1, offer: o, quantity: 1}
  - {date: 2018-03-01, action: reactivate, subscription: S1}
until: 2018-03-31
"""


def test_simulate_honours_the_global_db(tmp_path: Path) -> None:
    kept = tmp_path / "global.sqlite"
    status, _, err = invoke(["--db", str(kept), "simulate", str(SEED[2]), "--out",
                             str(tmp_path / "o"), "-q"])
    assert status == 0, err
    assert "seed-change-quantity" in ok(str(kept), "accounts")
    status, _, err = invoke(["--db", str(kept), "simulate", str(SEED[3]), "--db",
                             str(tmp_path / "else.sqlite"), "--out", str(tmp_path / "o"), "-q"])
    assert status == 2 and "two ledger files given" in err


def test_a_pinned_clock_does_not_move_and_recorded_times_never_go_back(db: str) -> None:
    err = refused(db, "--today", "2018-01-25", "bill", "--until", "2019-01-01")
    assert "cannot run 2019-01-01 yet: the ledger's clock says 2018-01-25" in err
    ok(db, "--today", "2018-02-16", "bill", "--until", "2018-02-15")
    err = refused(db, "--today", "2018-02-01", "suspend", "contoso", "S1")
    assert "recorded times never go back" in err


@pytest.mark.parametrize(("args", "words"), [
    (["--today", "2018-02-30", "accounts"], "Invalid value for '--today': no such day: 2018-02-30"),
    (["--today", "15/02/2018", "accounts"], "is not a date in ISO 8601 (YYYY-MM-DD)"),
    (["history", "contoso", "S1", "--as-of", "2019-02-29"], "no such day: 2019-02-29"),
    (["history", "contoso", "S1", "--known-at", "2018-02-30T00:00:00Z"], "no such day: 2018-02-30"),
    (["history", "contoso", "S1", "--known-at", "9999-12-31T23:59:59-14:00"], "out of range"),
    (["history", "contoso", "S1", "--known-at", "0001-01-01T00:00:00+14:00"], "out of range"),
    (["history", "contoso", "S1", "--known-at", "1969-12-31T23:00:00Z"],
     "must be from 1970-01-01 to 2999-12-31"),
    (["feed", "--after", "99999999999999999999999"], "is not in the range"),
    (["feed", "--limit", "0"], "is not in the range"),
    (["project", "--batch-size", str(10**30)], "is not in the range"),
    (["explain", "contoso-20180115", str(10**30)], "lines 1 to"),
])
def test_bad_arguments_are_one_clean_line(db: str, args: list[str], words: str) -> None:
    assert words in refused(db, *args)


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    script = (f"set -o pipefail; {' '.join(CLI)} simulate {SEED[4]} --out {tmp_path / 'o'} "
              "| head -1 > /dev/null")
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 141, done.stderr
    assert done.stderr == ""


def test_database_failures_exit_3_everywhere(tmp_path: Path) -> None:
    unreachable = "postgresql://postgres@127.0.0.1:1/test?connect_timeout=2"
    for command in (["accounts"], ["init"], ["--today", "2018-01-20", "suspend", "contoso", "S1"]):
        status, _, err = invoke(["--db", unreachable, *command])
        assert status == 3, err
        assert err.startswith("error: database error:") and len(err.splitlines()) == 1


def test_an_unexpected_error_is_one_line_and_exits_4(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something nobody expected\nover two lines")

    monkeypatch.setattr("billing_ledger.api.Ledger.accounts", broken)
    status, _, err = invoke(["--db", db, "accounts"])
    assert status == 4
    assert err == ("error: internal error (RuntimeError: something nobody expected over two "
                   "lines); please report it\n")


def test_a_billing_run_that_fails_at_one_account_says_what_it_issued(
        db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ok(db, "--today", "2018-01-20", "open-account", "fabrikam", "--billing-day", "1",
       "--currency", "USD")
    ok(db, "--today", "2018-01-20", "purchase", "fabrikam", "F1", "--offer", "e1", "--quantity", "2")
    ok(db, "--today", "2018-01-20", "change-quantity", "contoso", "S1", "2")  # billed 15 February
    cut = BillingApplication.cut

    def failing(self: BillingApplication, account: str, billing_date: object) -> str | None:
        if account == "fabrikam":
            raise sqlite3.OperationalError("disk I/O error")
        return cut(self, account, billing_date)  # type: ignore[arg-type]

    monkeypatch.setattr(BillingApplication, "cut", failing)
    status, out, err = invoke(["--db", db, "--today", "2018-02-16", "bill", "--until", "2018-02-15"])
    assert status == 3
    assert "contoso-20180215" in out  # what was issued before it stopped
    assert len(err.splitlines()) == 1
    assert "stopped at account 'fabrikam': disk I/O error" in err
    assert "issued before it: contoso-20180215" in err and "run it again" in err
    monkeypatch.setattr(BillingApplication, "cut", cut)
    rerun = ok(db, "--today", "2018-02-16", "bill", "--until", "2018-02-15", "--table")
    assert "fabrikam-20180201" in rerun
    assert "contoso" not in rerun
    assert "all 3 invoices match" in ok(db, "verify")
