"""Every way of altering a ledger's store behind its back that an audit tried, and more:
``verify`` reports each as a finding (one line, no traceback) and goes on checking; the
write side refuses to build on a log whose end was cut off. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from billing_ledger.api import Ledger
from ledger import errors, ids
from ledger.clock import TestClock
from ledger.offers import OfferTerms
from projections.verification import Verification, parse_anchor
from projections.views import ViewsCorrupt
from tests.conftest import NewStore
from tests.support import seed_ledger
from tests.tamper import Store

END = date(2019, 9, 2)


def book(location: str) -> None:
    """Two accounts, annual and monthly subscriptions, changes, a payment, and 20 months of
    billing: enough events for snapshots of the account and of the subscriptions."""
    ledger = seed_ledger(location, date(2018, 1, 13))
    ledger.define_offer(OfferTerms.create("m1", price="4.00", currency="USD", term="P1M",
                                          billing="monthly", convention="daily-rate"))
    ledger.open_account("beta", billing_day=1)
    ledger.purchase("acme", "S1", "o1", 2)
    ledger.purchase("acme", "M1", "m1", 3)
    ledger.purchase("beta", "B1", "m1", 1)
    ledger.advance_to(date(2018, 3, 1))
    ledger.change_quantity("acme", "S1", 3)
    ledger.advance_to(date(2018, 6, 1))
    ledger.change_quantity("acme", "M1", 5)
    ledger.record_payment("acme", Decimal("100.00"))
    ledger.advance_to(END)
    ledger.catch_up()
    ledger.close()


@pytest.fixture
def ledger(new_store: NewStore) -> Iterator[Ledger]:
    location = new_store("t")
    book(location)
    with Ledger(location, create=False, clock=TestClock(END)) as opened:
        yield opened


def findings(result: Verification) -> str:
    return "\n".join(str(finding) for finding in result.findings)


def store_of(ledger: Ledger) -> Store:
    return Store(ledger.location)


def test_an_untouched_book_verifies(ledger: Ledger) -> None:
    result = ledger.verify()
    assert result.ok, findings(result)
    assert len(result.checks) > 30 and result.positions > 100


def test_an_edited_event_does_not_match_its_seal(ledger: Ledger) -> None:
    store = store_of(ledger)
    position = store.position_of("Subscription.QuantityChanged")
    store.edit_event(position, lambda state: state.update(quantity=30))
    result = ledger.verify()
    assert f"log position {position}: " in findings(result)
    assert "does not match its seal" in findings(result)


def test_an_edit_with_every_seal_recomputed_is_caught_by_the_invoices_heads(ledger: Ledger) -> None:
    store = store_of(ledger)
    position = store.position_of("Subscription.QuantityChanged", 0)
    store.edit_event(position, lambda state: state.update(quantity=30))
    store.rechain()
    result = ledger.verify()
    text = findings(result)
    assert "does not match its seal" not in text  # the seals were rewritten to match
    assert "is not the one this invoice recorded" in text


def test_a_customers_invoice_anchors_the_log_before_it(ledger: Ledger, tmp_path: object) -> None:
    first = ledger.invoice("acme", date(2018, 1, 15))
    anchor = parse_anchor(json.dumps(first), "customer copy")
    assert ledger.verify(anchors=[anchor]).ok
    store = store_of(ledger)
    store.edit_event(1, lambda state: state["terms"]["_data_"].update(price="1.00"))
    store.rechain()
    text = findings(ledger.verify(anchors=[anchor]))
    assert "anchor customer copy: the log's head at position" in text


def test_a_deleted_event_is_a_finding_and_the_rest_is_still_checked(ledger: Ledger) -> None:
    store = store_of(ledger)
    position = store.position_of("Subscription.QuantityChanged")
    store.delete_event(position)
    result = ledger.verify()
    text = findings(result)
    assert f"log position {position}: sealed, but its event is gone" in text
    assert "versions" in text and "are missing" in text
    assert any(check.account == "beta" and check.ok for check in result.checks)


def test_the_last_invoice_of_an_account_deleted(ledger: Ledger) -> None:
    store = store_of(ledger)
    last = store.execute("SELECT MAX(originator_version) AS v FROM {events} WHERE originator_id = %s",
                         account_key(store, "acme"))[0]["v"]
    position = next(row["position"] for row in store.events()
                    if row["originator_version"] == last and str(row["originator_id"]).replace("-", "")
                    == ids.account_id("acme").hex)
    assert store.state(position)["invoice_number"] == "acme-20190815"
    store.delete_event(position)
    store.execute("DELETE FROM {snapshots}")
    text = findings(ledger.verify())
    assert f"log position {position}: sealed, but its event is gone" in text
    assert "line(s) for 2019-08-15, a billing date the account never cut" in text
    with pytest.raises(errors.BillingRunIncomplete,
                       match="record of cutting that date is not in the log") as stopped:
        ledger.bill(date(2019, 9, 1))  # refused: it never closes that date with nothing
    assert isinstance(stopped.value.cause, errors.LogAltered)
    with pytest.raises(ViewsCorrupt, match="not that issued invoice"):
        ledger.invoice("acme", date(2019, 8, 15))


def account_key(store: Store, account: str) -> object:
    return ids.account_id(account) if store.postgres else ids.account_id(account).hex


def test_events_moved_to_other_positions(ledger: Ledger) -> None:
    store = store_of(ledger)
    store.swap(20, 21)
    text = findings(ledger.verify())
    assert "log position 20: " in text and "does not match its seal" in text


def test_an_event_inserted_outside_the_ledger(ledger: Ledger) -> None:
    store = store_of(ledger)
    rows = [row for row in store.events() if str(row["topic"]).endswith("BillingAccount.PaymentRecorded")]
    payment = rows[0]
    versions = [row["originator_version"] for row in store.events()
                if row["originator_id"] == payment["originator_id"]]
    state = json.loads(bytes(payment["state"]))
    state["amount"] = {"_type_": "decimal_str", "_data_": "5000.00"}
    store.execute("INSERT INTO {events} (originator_id, originator_version, topic, state) "
                  "VALUES (%s, %s, %s, %s)", payment["originator_id"], max(versions) + 1,
                  payment["topic"], json.dumps(state).encode())
    text = findings(ledger.verify())
    assert "has no seal: it was recorded outside the ledger" in text
    with pytest.raises(errors.BillingRunIncomplete, match="no seal") as stopped:
        ledger.bill(date(2019, 12, 31))
    assert isinstance(stopped.value.cause, errors.LogAltered)


def test_a_forged_invoice_with_a_recomputed_digest(ledger: Ledger) -> None:
    store = store_of(ledger)
    position = store.position_of("BillingAccount.InvoiceIssued", 0)

    def forge(state: dict[str, object]) -> None:
        document = json.loads(str(state["document"]))
        document["rules_version"] = 0
        document["amount_due"] = "1.00"
        from ledger import invoicing

        state["document"] = invoicing.canonical_bytes(document).decode()
        state["digest"] = invoicing.digest(document)

    store.edit_event(position, forge)
    ledger.rebuild()
    result = ledger.verify()
    text = findings(result)
    assert "does not match its seal" in text
    assert "rules version 0 is not one this ledger has had" in text
    assert "not the amount due 1.00" in text


def test_an_edited_snapshot(ledger: Ledger) -> None:
    store = store_of(ledger)
    snapshots = store.execute("SELECT originator_id, originator_version, topic, state FROM {snapshots}")
    account = next(row for row in snapshots if str(row["originator_id"]).replace("-", "")
                   == ids.account_id("acme").hex)
    state = json.loads(bytes(account["state"]))
    held = state["state"]["subscriptions"]
    state["state"]["subscriptions"] = [key for key in held if key != "M1"]
    store.execute("UPDATE {snapshots} SET state = %s WHERE originator_id = %s AND originator_version = %s",
                  json.dumps(state).encode(), account["originator_id"], account["originator_version"])
    assert "is not what its events make (subscriptions differ)" in findings(ledger.verify())
    ledger.advance_to(date(2019, 11, 2))
    text = findings(ledger.verify())
    assert "cut without subscription M1" in text


def test_an_edited_view_row_and_a_forged_invoice_row(ledger: Ledger) -> None:
    store = store_of(ledger)
    store.execute("UPDATE {p}subscriptions SET quantity = 999 WHERE subscription = 'S1'")
    store.execute("INSERT INTO {p}invoices (account, billing_date, invoice_number, account_id, "
                  "event_version, digest, cut_position, total, amount_due, account_name, "
                  "partner_id, currency, notification_id) VALUES ('acme', '2030-01-15', "
                  "'acme-20300115', 'x', 1, 'x', 1, '9.99', '9.99', 'Acme', '', 'USD', 1)")
    text = findings(ledger.verify())
    assert "quantity is '999', the log says '3'" in text
    assert "view invoices 2030-01-15/acme: a row the log does not make" in text


def test_a_deleted_or_lowered_tracking_row_is_reported_not_retried_forever(ledger: Ledger) -> None:
    store = store_of(ledger)
    store.execute("UPDATE {tracking} SET notification_id = 5 WHERE application_name = 'BillingLedger'")
    store.execute("INSERT INTO {events} (originator_id, originator_version, topic, state) "
                  "SELECT originator_id, originator_version, topic, state FROM {events} WHERE 1 = 0")
    with pytest.raises(ViewsCorrupt, match="run `billing-ledger rebuild`"):
        ledger.accounts()
    store.execute("DELETE FROM {tracking} WHERE application_name = 'BillingLedger'")
    with pytest.raises(ViewsCorrupt, match="tracking row is missing"):
        ledger.accounts()
    ledger.rebuild()
    assert ledger.verify().ok


def test_a_deleted_or_edited_seal(ledger: Ledger) -> None:
    store = store_of(ledger)
    store.execute("DELETE FROM {chain} WHERE notification_id = 7")
    store.execute("UPDATE {chain} SET hash = %s WHERE notification_id = 9", "0" * 64)
    text = findings(ledger.verify())
    assert "log position 7: " in text and "has no seal" in text
    assert "log position 10: " in text and "does not match its seal" in text


def test_a_key_added_to_a_stored_value_is_a_finding_not_a_crash(ledger: Ledger) -> None:
    store = store_of(ledger)
    store.edit_event(1, lambda state: state["terms"]["_data_"].update(colour="blue"))
    text = findings(ledger.verify())
    assert "log position 1: " in text and "cannot be read" in text


def test_the_end_of_the_log_cut_off_needs_an_anchor(ledger: Ledger) -> None:
    # The last event is one no view folds (a catalog revision), so nothing in the database
    # witnessed it once it and its seal are gone.
    ledger.define_offer(OfferTerms.create("o1", price="60.00", currency="USD", term="P1Y",
                                          billing="annual", convention="daily-rate"))
    anchor = parse_anchor(json.dumps(ledger.anchor()), "exported head")
    store = store_of(ledger)
    last = store.events()[-1]["position"]
    store.delete_event(last)
    store.execute("DELETE FROM {chain} WHERE notification_id = %s", last)
    result = ledger.verify()
    assert result.ok, findings(result)  # nothing inside the database says so...
    text = findings(ledger.verify(anchors=[anchor]))
    assert f"anchors position {last}, but the log ends at {last - 1}" in text  # ...an anchor does
