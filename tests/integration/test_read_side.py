"""The read side: views as projections of the log, rebuilds, verification, explain,
time travel, preview, backdated corrections."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing_ledger import scenario as scenarios
from billing_ledger.api import Ledger
from billing_ledger.simulation import simulate
from ledger import errors, invoicing
from ledger.clock import TestClock
from ledger.eventstore import store_env
from projections import invoices as render
from projections import queries
from projections.runner import Projector, ViewStore
from tests.conftest import NewStore
from tests.support import SCENARIOS, seed_ledger
from tests.tamper import Store

SEED = sorted((SCENARIOS / "seed").glob("*.yaml"))


def snapshot(ledger: Ledger) -> dict[str, object]:
    """Every reconciliation file and invoice digest the views hold."""
    out: dict[str, object] = {}
    for row in ledger.invoices():
        day = date.fromisoformat(row["billing_date"])
        out[f"{row['account']}/{day}.csv"] = ledger.reconciliation(row["account"], day)
        out[f"{row['account']}/{day}.digest"] = row["digest"]
        out[f"{row['account']}/{day}.json"] = ledger.invoice_json(row["account"], day)
    return out


def test_rebuild_after_simulating_the_seed_gives_identical_files_and_digests(new_store: NewStore) -> None:
    db = new_store("seed")
    written: dict[str, bytes] = {}
    for path in SEED:
        result = simulate(scenarios.load(path), db)
        written.update({f"{result.scenario.account}/{name}": content
                        for name, content in result.files.items()})
    with Ledger(db) as ledger:
        before = snapshot(ledger)
        assert ledger.rebuild() > 0
        after = snapshot(ledger)
        assert after == before
        for name, content in written.items():
            account, file_name = name.split("/")
            assert ledger.reconciliation(account, date.fromisoformat(file_name[15:25])) == content
        # The digests are the SHA-256 of each issued document's canonical bytes.
        for row in ledger.invoices():
            day = date.fromisoformat(row["billing_date"])
            assert row["digest"] == invoicing.digest(ledger.invoice(row["account"], day))
        result = ledger.verify()
        assert result.ok and all(check.rerated for check in result.checks)


def test_a_second_view_store_built_from_the_same_log_is_identical(new_store: NewStore) -> None:
    db = new_store("a")
    simulate(scenarios.load(SEED[1]), db)
    with Ledger(db) as incremental:
        elsewhere = ViewStore(store_env(new_store("b")))  # an empty view store, same event log
        try:
            assert Projector(incremental.app, elsewhere, batch_size=2).catch_up() > 0
            for row in incremental.invoices():
                day = date.fromisoformat(row["billing_date"])
                assert queries.recon_csv(elsewhere.views, row["account"], day) == \
                    incremental.reconciliation(row["account"], day)
                assert queries.invoice_row(elsewhere.views, row["account"], day) == row
        finally:
            elsewhere.close()


def test_verify_catches_a_row_edited_by_hand(new_store: NewStore) -> None:
    db = new_store("x")
    simulate(scenarios.load(SEED[2]), db)
    store = Store(db)
    with Ledger(db) as ledger:
        assert ledger.verify().ok
        store.execute('UPDATE {p}invoice_lines SET amount = %s WHERE line_no = %s AND billing_date = %s',
                      "89.97", 3, "2018-02-15")
        result = ledger.verify()
        checks = {check.invoice_number: check for check in result.checks}
        bad = checks["seed-change-quantity-20180215"]
        assert not bad.ok and not result.ok
        assert any("amount is '89.97'" in problem for problem in bad.problems)
        assert checks["seed-change-quantity-20180115"].ok
        store.execute("UPDATE {p}invoices SET amount_due = '0.00'")
        result = ledger.verify()
        assert not any(check.ok for check in result.checks)
        assert all(any("amount_due" in problem for problem in check.problems) for check in result.checks)
        ledger.rebuild()
        assert ledger.verify().ok


def test_explain_names_the_events_and_prints_the_arithmetic(new_store: NewStore) -> None:
    db = new_store("x")
    simulate(scenarios.load(SEED[2]), db)  # change license quantity
    with Ledger(db) as ledger:
        lines = [ledger.explain("seed-change-quantity-20180215", number) for number in (1, 2, 3)]
        for found in lines:
            kinds = [event.type for event in found.events]
            assert "Subscription.Purchased" in kinds and "Subscription.QuantityChanged" in kinds
            purchased = next(e for e in found.events if e.type == "Subscription.Purchased")
            changed = next(e for e in found.events if e.type == "Subscription.QuantityChanged")
            assert (purchased.effective_date, purchased.version) == ("2018-01-13", 1)
            assert changed.effective_date == "2018-02-01"
            assert changed.version > purchased.version
            assert datetime.fromisoformat(changed.recorded_at).tzinfo is not None
        assert lines[0].reversed_line is not None
        assert lines[0].reversed_in == "seed-change-quantity-20180115"
        assert lines[0].reversed_line["amount"] == "48.00"
        assert lines[1].arithmetic.startswith("19 days x 0.13 x 1 = 2.47")
        assert lines[2].arithmetic.startswith("346 days x 0.13 x 2 = 89.96")
    db2 = new_store("y")
    simulate(scenarios.load(SEED[1]), db2)  # the exact convention
    with Ledger(db2) as ledger:
        assert ledger.explain("seed-add-license-20170314", 3).arithmetic == "211.20 x 27 / 365 x 2 = 31.25"
        with pytest.raises(errors.UnknownLine):
            ledger.explain("seed-add-license-20170314", 9)
        with pytest.raises(errors.UnknownInvoice):
            ledger.explain("nope-20170314", 1)


def test_a_backdated_correction_never_alters_an_issued_invoice(new_store: NewStore) -> None:
    late = seed_ledger(new_store("late"), date(2018, 1, 13))
    late.purchase("acme", "S1", "o1", 1)
    late.advance_to(date(2018, 3, 1))
    issued = {row["billing_date"]: (row["digest"],
                                    late.reconciliation("acme", date.fromisoformat(row["billing_date"])))
              for row in late.invoices("acme")}
    assert list(issued) == ["2018-01-15"]
    # On 1 March somebody records that the second license was added on 1 February.
    late.change_quantity("acme", "S1", 2, effective_date=date(2018, 2, 1))
    late.advance_to(date(2018, 4, 1))
    rows = {row["billing_date"]: row for row in late.invoices("acme")}
    assert rows["2018-01-15"]["digest"] == issued["2018-01-15"][0]
    assert late.reconciliation("acme", date(2018, 1, 15)) == issued["2018-01-15"][1]
    assert "2018-02-15" not in rows  # the 15 February date had been cut with nothing on it
    adjustment = late.invoice("acme", date(2018, 3, 15))
    amounts = [line["amount"] for line in invoicing.invoice_lines(adjustment)]
    assert amounts == ["-48.00", "2.47", "89.96"]
    assert late.verify().ok

    # What the rating model says is owed: the same history recorded on time.
    on_time = seed_ledger(new_store("on-time"), date(2018, 1, 13))
    on_time.purchase("acme", "S1", "o1", 1)
    on_time.advance_to(date(2018, 2, 1))
    on_time.change_quantity("acme", "S1", 2)
    on_time.advance_to(date(2018, 4, 1))
    owed = sum(Decimal(row["total"]) for row in on_time.invoices("acme"))
    billed = sum(Decimal(row["total"]) for row in late.invoices("acme"))
    assert billed == owed == Decimal("92.43")
    assert Decimal(late.invoice("acme", date(2018, 3, 15))["amount_due"]) == owed
    late.close()
    on_time.close()


def test_time_travel_on_both_axes(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("t"), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 1)
    ledger.advance_to(date(2018, 3, 1))
    known_before_correction = ledger.clock.now()
    ledger.clock.set(datetime(2018, 3, 1, 9, tzinfo=UTC))
    ledger.change_quantity("acme", "S1", 3, effective_date=date(2018, 2, 1))
    ledger.advance_to(date(2018, 3, 10))
    ledger.suspend("acme", "S1")

    def quantity(**kwargs: object) -> object:
        return ledger.history("acme", "S1", **kwargs).state["quantity"]  # type: ignore[arg-type]

    assert quantity(as_of=date(2018, 1, 31)) == 1
    assert quantity(as_of=date(2018, 2, 1)) == 3
    # As known before the correction was recorded, February had one license.
    assert quantity(as_of=date(2018, 2, 20), known_at=known_before_correction) == 1
    assert ledger.history("acme", "S1", as_of=date(2018, 3, 9)).state["status"] == "active"
    assert ledger.history("acme", "S1").state["status"] == "suspended"
    posted = ledger.history("acme", "S1", as_of=date(2018, 1, 31)).posted
    assert [line["amount"] for line in posted] == ["48.00"]
    with pytest.raises(errors.UnknownSubscription):
        ledger.history("acme", "S1", as_of=date(2017, 12, 31))
    ledger.close()


def test_preview_shows_the_next_billing_date_and_issues_nothing(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("p"), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 1)
    ledger.advance_to(date(2018, 2, 1))
    ledger.change_quantity("acme", "S1", 2)
    before = ledger.app.recorder.max_notification_id()
    preview = ledger.preview("acme")
    assert [f"{line.amount}" for line in preview] == ["-48.00", "2.47", "89.96"]
    assert ledger.preview("acme", date(2018, 2, 15)) == preview
    with pytest.raises(errors.InvalidInput, match="next billing date to cut is 2018-02-15"):
        ledger.preview("acme", date(2018, 3, 15))  # would merge 15 February's lines into it
    assert ledger.app.recorder.max_notification_id() == before
    ledger.advance_to(date(2018, 2, 16))
    issued = ledger.invoice("acme", date(2018, 2, 15))
    assert [line["amount"] for line in invoicing.invoice_lines(issued)] == ["-48.00", "2.47", "89.96"]
    ledger.close()


def test_invoices_render_as_json_text_and_html(new_store: NewStore) -> None:
    ledger = seed_ledger(new_store("r"), date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 1)
    ledger.advance_to(date(2018, 3, 1))
    ledger.suspend("acme", "S1")
    ledger.advance_to(date(2018, 3, 16))
    document = ledger.invoice("acme", date(2018, 3, 15))
    assert document["invoice_number"] == "acme-20180315"
    assert document["balance_brought_forward"] == "48.00"
    assert document["credits"] == "-41.34" and document["amount_due"] == "6.66"
    assert json.loads(ledger.invoice_json("acme", date(2018, 3, 15))) == document
    text = ledger.invoice_text("acme", date(2018, 3, 15))
    assert "INVOICE acme-20180315" in text and "Cancel Fee" in text
    assert "Balance brought forward   $48.00" in text
    html = render.render_html(document)
    assert html.startswith("<!DOCTYPE html>") and "<td>Cancel Fee</td>" in html
    assert "Acme Corp" in html
    ledger.close()


def test_the_partner_id_is_part_of_what_was_issued(new_store: NewStore) -> None:
    db = new_store("partner")
    with seed_ledger(db, date(2018, 1, 13)) as ledger:
        ledger.purchase("acme", "S1", "o1", quantity=1)
        ledger.advance_to(date(2018, 1, 20))  # cuts 15 January with no partner id
    with Ledger(db, clock=TestClock(date(2018, 1, 20)), partner_id="P-42") as ledger:
        ledger.change_quantity("acme", "S1", 2)
        ledger.advance_to(date(2018, 2, 20))  # cuts 15 February as partner P-42
    with Ledger(db, partner_id="someone-else") as ledger:
        assert ledger.rebuild() > 0
        def partner_ids(day: date) -> set[str]:
            text = ledger.reconciliation("acme", day).decode()
            return {row["PartnerId"] for row in csv.DictReader(io.StringIO(text))}
        assert partner_ids(date(2018, 1, 15)) == {""}
        assert partner_ids(date(2018, 2, 15)) == {"P-42"}
        assert ledger.invoice("acme", date(2018, 2, 15))["partner_id"] == "P-42"
        assert "partner_id" not in ledger.invoice("acme", date(2018, 1, 15))
        result = ledger.verify()  # whoever verifies, the issued documents decide
        assert result.ok and len(result.checks) == 2 and all(check.rerated for check in result.checks)


def test_views_made_to_another_shape_are_rebuilt_from_the_log(new_store: NewStore) -> None:
    db = new_store("shape")
    with seed_ledger(db, date(2018, 1, 13)) as ledger:
        ledger.purchase("acme", "S1", "o1", quantity=2)
        ledger.advance_to(date(2018, 2, 20))
        before = snapshot(ledger)
        accounts = ledger.accounts()
        # Views as an older version left them: no fingerprint, a column missing, rows stale.
        store = Store(db)
        store.execute("DROP TABLE IF EXISTS {p}schema")
        store.execute("DROP TABLE {p}accounts")
        store.execute("CREATE TABLE {p}accounts (account_id TEXT PRIMARY KEY, account TEXT)")
        store.execute("UPDATE {p}invoice_lines SET amount = '0.00'")
    with Ledger(db) as reopened:
        assert snapshot(reopened) == before
        assert reopened.accounts() == accounts
        assert reopened.verify().ok
