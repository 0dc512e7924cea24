"""`verify` and `anchor` through the command line: findings are one line each on stderr,
exit 1, never a traceback; an anchor taken before an alteration catches it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli_ledger import cli, ok
from tests.tamper import Store


def test_verify_reports_each_alteration_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite"
    ok(db, "init")
    ok(db, "define-offer", "e1", "--price", "48.00", "--currency", "USD", "--term", "P1Y",
       "--billing", "annual", "--convention", "daily-rate")
    ok(db, "open-account", "contoso", "--billing-day", "15", "--date", "2018-01-13")
    ok(db, "purchase", "contoso", "S1", "--offer", "e1", "--quantity", "3", "--date", "2018-01-13")
    ok(db, "change-quantity", "contoso", "S1", "5", "--date", "2018-02-01")
    ok(db, "bill", "--until", "2018-03-31")
    assert "invoices match" in ok(db, "verify")
    head = tmp_path / "head.json"
    head.write_text(ok(db, "anchor"))
    assert set(json.loads(head.read_text())) == {"position", "head"}
    assert "invoices match" in ok(db, "verify", "--anchor", str(head))

    store = Store(str(db))
    position = store.position_of("Subscription.QuantityChanged")
    store.edit_event(position, lambda state: state.update(quantity=50))
    store.rechain()
    store.execute("UPDATE {p}subscriptions SET quantity = 7")
    done = cli(db, "verify", "--anchor", str(head))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert all(line.startswith(("finding: ", "error: ")) for line in lines), lines
    text = done.stderr
    assert "is not the one this invoice recorded" in text
    assert f"anchor {head}: the log's head at position" in text
    assert "view subscriptions" in text and "quantity is '7'" in text
    assert lines[-1].startswith("error: ") and "finding(s)" in lines[-1]

    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    refused = cli(db, "verify", "--anchor", str(garbage))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "not JSON" in refused.stderr
