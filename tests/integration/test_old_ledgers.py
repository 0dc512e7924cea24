"""Ledgers written by earlier versions open, verify and go on billing, on both backends; a
value type or aggregate that gains a field still reads every ledger written before.

The fixtures (tests/fixtures/README.md) were written by ``tests/fixtures/make.py``:
``ledger-v1.sqlite`` by the version before seals (rules 1, invoices without the log's head,
subscription snapshots with a ``term_index``), ``ledger-v2.sqlite`` by the version before
rating checkpoints, ``ledger-v3.sqlite`` by the version with commands as values.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent

from billing_ledger.api import Ledger
from ledger import ids, invoicing, rating
from ledger.application import BillingApplication
from ledger.charges import ChargeLine
from ledger.clock import TestClock
from ledger.eventstore import store_env
from ledger.offers import OfferTerms
from ledger.subscription import Subscription
from ledger.transcodings import DataclassAsDict
from projections.views import RETIRED_TABLES
from tests.conftest import NewStore

FIXTURES = Path(__file__).parents[1] / "fixtures"
WRITTEN_UNTIL = date(2020, 3, 2)


def stored(path: Path, table: str) -> list[StoredEvent]:
    conn = sqlite3.connect(path)
    try:
        order = "rowid" if table == "stored_events" else "originator_id, originator_version"
        rows = conn.execute(f"SELECT originator_id, originator_version, topic, state FROM {table} "
                            f"ORDER BY {order}").fetchall()
    finally:
        conn.close()
    from uuid import UUID

    return [StoredEvent(UUID(row[0]), row[1], row[2], bytes(row[3])) for row in rows]


@pytest.fixture(params=["ledger-v1.sqlite", "ledger-v2.sqlite", "ledger-v3.sqlite"])
def fixture_path(request: pytest.FixtureRequest) -> Path:
    return FIXTURES / str(request.param)


@pytest.fixture
def old_ledger(fixture_path: Path, new_store: NewStore, backend: str) -> str:
    """The fixture's store on this test's backend: the SQLite file copied, or its events and
    snapshots recorded into a new PostgreSQL schema as they were stored."""
    location = new_store("old")
    if backend == "sqlite":
        shutil.copy(fixture_path, location)
    else:
        app = BillingApplication(store_env(location))
        try:
            app.recorder.insert_events(stored(fixture_path, "stored_events"))
            assert app.snapshots is not None
            app.snapshots.recorder.insert_events(stored(fixture_path, "stored_snapshots"))
        finally:
            app.close()
    return location


def test_an_old_ledger_opens_verifies_and_goes_on_billing(old_ledger: str, fixture_path: Path,
                                                          backend: str) -> None:
    with Ledger(old_ledger, create=False, clock=TestClock(WRITTEN_UNTIL)) as ledger:
        result = ledger.verify()
        assert result.ok, "\n".join(map(str, result.findings))
        issued = {check.invoice_number for check in result.checks}
        assert len(issued) > 40
        v1 = fixture_path.name == "ledger-v1.sqlite"
        # Invoices issued under the first rules are checked against what they posted; this
        # version's rules re-derive their own.
        assert all(check.rerated != v1 for check in result.checks)
        # Snapshots written before Subscription v2 load, upcast (no term_index).
        sub = ledger.app.subscription("contoso", "E1")
        assert not hasattr(sub, "term_index") and sub.quantity == 3
        ledger.advance_to(date(2020, 6, 2))
        result = ledger.verify()
        assert result.ok, "\n".join(map(str, result.findings))
        new = [check for check in result.checks if check.invoice_number not in issued]
        assert new and all(check.rerated for check in new)
        document = ledger.invoice("tailspin", date(2020, 5, 28))
        assert document["rules_version"] == rating.RULES_VERSION
        assert document["log"]["head"] is not None
        ledger.rebuild()
        assert ledger.verify().ok
    if backend == "sqlite":  # the views of the old shape are gone
        conn = sqlite3.connect(old_ledger)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
        assert "billing_invoice_lines" in tables
        assert not tables & {f"billing_{table}" for table in RETIRED_TABLES}


# --------------------------------------------------------------------------- a field added
@dataclasses.dataclass(frozen=True)
class TaxedOfferTerms(OfferTerms):
    """OfferTerms as a later version might have them: one field more."""

    tax_category: str = "standard"
    class_version: ClassVar[int] = 2

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> None:
        data["tax_category"] = "standard"


@dataclasses.dataclass(frozen=True)
class LabelledChargeLine(ChargeLine):
    label: str = ""
    class_version: ClassVar[int] = 2

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> None:
        data["label"] = data["charge_type"].upper()


class LaterLedger(BillingApplication):
    """The write side as a later version with those value types would read the log."""

    def register_transcodings(self, transcoder: Any) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DataclassAsDict(TaxedOfferTerms, "offer_terms"))
        transcoder.register(DataclassAsDict(LabelledChargeLine, "charge_line"))


def test_a_value_type_with_a_field_added_reads_every_stored_value(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    shutil.copy(FIXTURES / "ledger-v2.sqlite", path)
    app = LaterLedger(store_env(path), clock=TestClock(WRITTEN_UNTIL))
    try:
        history = app.history("contoso", "E1")
        purchased = history[0]
        assert isinstance(purchased.offer, TaxedOfferTerms) and purchased.offer.tax_category == "standard"
        lines = [line for ev in history if isinstance(ev, Subscription.ChargesPosted) for line in ev.lines]
        assert lines and all(isinstance(line, LabelledChargeLine) for line in lines)
        assert lines[0].label == lines[0].charge_type.upper()
        # Values written now carry their version, and read back as written.
        app.define_offer(TaxedOfferTerms.create("t1", price="1.00", currency="USD", term="P1Y",
                                                billing="annual", convention="exact"))
        (defined,) = app.events.get(ids.offer_id("t1"))
        state = json.loads(app.recorder.select_notifications(
            start=app.recorder.max_notification_id(), limit=1)[0].state)
        assert state["terms"]["_data_"]["class_version"] == 2
        assert isinstance(defined.terms, TaxedOfferTerms)
    finally:
        app.close()


def test_a_value_from_a_newer_version_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    shutil.copy(FIXTURES / "ledger-v2.sqlite", path)
    with Ledger(str(path), create=False) as ledger:
        conn = sqlite3.connect(path)
        (state,) = conn.execute("SELECT state FROM stored_events WHERE rowid = 1").fetchone()
        data = json.loads(state)
        data["terms"]["_data_"]["class_version"] = 9
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = 1", (json.dumps(data).encode(),))
        conn.commit()
        conn.close()
        with pytest.raises(MapperDeserialisationError, match="offer_terms is of version 9; this "
                                                             "version of the ledger reads versions 1 to 1"):
            list(ledger.app.events.get(ids.offer_id("e1")))
        text = "\n".join(map(str, ledger.verify().findings))
        assert "log position 1: " in text and "of version 9" in text


def test_every_invoice_of_the_fixtures_adds_up() -> None:
    for name in ("ledger-v1.sqlite", "ledger-v2.sqlite"):
        for event in stored(FIXTURES / name, "stored_events"):
            if event.topic.endswith("InvoiceIssued"):
                document = json.loads(json.loads(event.state)["document"])
                total = sum((invoicing.Decimal(line["amount"]) for line in invoicing.invoice_lines(document)),
                            invoicing.Decimal(0))
                assert invoicing.Decimal(document["total"]) == total


def test_every_issued_document_parses_into_an_invoice_and_back_to_the_same_bytes() -> None:
    from ledger.invoicing import Invoice

    count = 0
    for name in ("ledger-v1.sqlite", "ledger-v2.sqlite"):
        for event in stored(FIXTURES / name, "stored_events"):
            if event.topic.endswith("InvoiceIssued"):
                document = json.loads(event.state)["document"]
                assert Invoice.parse(document).canonical_bytes().decode() == document
                count += 1
    assert count > 80
