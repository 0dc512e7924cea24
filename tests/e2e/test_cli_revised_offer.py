"""A revised offer through the command line: a currency change is refused with one line and
records nothing; a term change renews running subscriptions into the new term."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.e2e.test_cli_ledger import cli, ok

OFFER = ["--term", "P1Y", "--billing", "annual", "--convention", "daily-rate"]


def test_revising_an_offer_through_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite"
    ok(db, "init")
    ok(db, "define-offer", "e1", "--price", "48.00", "--currency", "USD", *OFFER)
    ok(db, "open-account", "contoso", "--billing-day", "15", "--date", "2018-01-13")
    ok(db, "purchase", "contoso", "S1", "--offer", "e1", "--quantity", "10", "--date", "2018-01-13")
    ok(db, "bill", "--until", "2018-06-30")
    size = db.stat().st_size

    refused = cli(db, "define-offer", "e1", "--price", "5000", "--currency", "JPY", *OFFER)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "cannot change its currency to JPY" in refused.stderr and "Traceback" not in refused.stderr
    assert db.stat().st_size == size

    ok(db, "define-offer", "e1", "--price", "4.00", "--currency", "USD", "--term", "P1M",
       "--billing", "monthly", "--convention", "daily-rate")
    ok(db, "bill", "--until", "2019-03-31")
    january = json.loads(ok(db, "invoice", "--date", "2019-01-15", "--format", "json"))
    (line,) = [line for group in january["subscriptions"] for line in group["lines"]]
    assert (line["start"], line["end"], line["charge_type"], line["amount"]) == (
        "2019-01-13", "2019-02-12", "Cycle fee", "40.00")
    assert re.search(r"all \d+ invoices match", ok(db, "verify"))
