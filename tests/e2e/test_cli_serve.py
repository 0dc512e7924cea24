"""``billing-ledger serve``: what it refuses before it listens, and a read-only server run
as a process and stopped with Ctrl-C."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest

from billing_ledger.cli import is_loopback
from tests.server.serving import free_port
from tests.support import invoke, seed_ledger

TOKEN = "BILLING_LEDGER_TOKEN"


@pytest.fixture
def db(tmp_path: Path) -> str:
    location = str(tmp_path / "ledger.sqlite")
    ledger = seed_ledger(location, date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 2)
    ledger.advance_to(date(2018, 1, 16))
    ledger.close()
    return location


def refused(argv: list[str], words: str) -> None:
    status, out, err = invoke(argv)
    assert status == 2, (out, err)
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_what_serve_refuses_before_it_listens(db: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN, raising=False)
    refused(["--db", db, "serve", "--host", "0.0.0.0"],
            "refusing to listen on 0.0.0.0 without a token")
    refused(["--db", db, "serve", "--host", "192.0.2.7"], "set BILLING_LEDGER_TOKEN")
    refused(["--db", str(tmp_path / "none.sqlite"), "serve"], "no ledger database at")
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    refused(["--db", str(other), "serve"], "not a billing ledger database")
    refused(["--db", db, "--today", "2018-01-14", "serve"], "recorded times never go back")
    refused(["--db", db, "serve", "--port", "70000"], "70000")
    monkeypatch.setenv(TOKEN, "short")
    refused(["--db", db, "serve", "--host", "0.0.0.0"], "BILLING_LEDGER_TOKEN must be 16-500")


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("LOCALHOST", True), ("0.0.0.0", False), ("::", False),
    ("10.0.0.1", False), ("example.org", False)])
def test_which_hosts_are_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_read_only_server_answers_reads_refuses_commands_and_stops_on_ctrl_c(db: str) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {TOKEN, "BILLING_LEDGER_DB"}}
    server = subprocess.Popen([sys.executable, "-m", "billing_ledger", "--db", db, "serve",
                               "--port", str(port), "--read-only", "--log-level", "warning"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(300):
            try:
                accounts = httpx.get(base + "/accounts")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            pytest.fail("the server did not start")
        assert [row["account"] for row in accounts.json()] == ["acme"]
        refusal = httpx.post(base + "/commands/suspend", json={"account": "acme", "subscription": "S1"})
        assert refusal.status_code == 422 and "read-only" in refusal.json()["detail"]
        assert httpx.get(base + "/invoices").json()[0]["invoice_number"] == "acme-20180115"
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    assert f"at http://127.0.0.1:{port}/" in out and "(read-only)" in out
