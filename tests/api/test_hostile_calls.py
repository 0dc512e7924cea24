"""Hostile and careless calls of the ``Ledger`` API: random sequences of commands and reads
with huge, tiny, NaN, markup, path-separator, control-character, very long and wrongly typed
values, on SQLite and PostgreSQL.

After every call: nothing but a ``LedgerError`` is raised, a refused call leaves every
table exactly as it was, and the reads (accounts, invoices, verify, feed, every invoice
rendered), a billing run and a rebuild still work on the ledger.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from billing_ledger.api import Ledger
from ledger.clock import TestClock
from ledger.errors import LedgerError
from ledger.money import Rounding
from ledger.offers import BillingFrequency, Convention, OfferTerms
from tests import strategies as s
from tests.conftest import HOSTILE_PROFILE, temporary_store
from tests.support import seed_hostile, table_state

START = date(2018, 1, 13)


def offer_terms(spec: dict[str, Any]) -> Any:
    term, billing = spec["term_billing"]
    if spec["raw"]:  # built without OfferTerms.create: define_offer checks it all the same
        return OfferTerms(offer_id=spec["offer_id"], name=spec["name"] or "x", price=spec["price"],
                          currency=spec["currency"], term=term, billing=BillingFrequency.ANNUAL,
                          convention=Convention.EXACT,
                          daily_rate_places=spec["daily_rate_places"] or 2,
                          refund_window_days=spec["refund_window_days"] or 0,
                          rounding=Rounding.HALF_UP)
    return OfferTerms.create(spec["offer_id"], price=spec["price"], currency=spec["currency"],
                             term=term, billing=billing, convention=spec["convention"],
                             name=spec["name"], daily_rate_places=spec["daily_rate_places"],
                             refund_window_days=spec["refund_window_days"])


def call(ledger: Ledger, step: s.Call) -> None:
    if step.method == "define_offer":
        ledger.define_offer(offer_terms(step.args[0]), idempotency_key=None)
        return
    getattr(ledger, step.method)(*step.args, **step.kwargs)


def check_reads(ledger: Ledger, location: str) -> None:
    ledger.catch_up()
    before = table_state(location)
    assert isinstance(ledger.accounts(), list)
    rows = ledger.invoices()
    result = ledger.verify()
    assert result.ok, [str(finding) for finding in result.findings]
    for row in rows[-3:]:
        day = date.fromisoformat(row["billing_date"])
        assert ledger.invoice_text(row["account"], day)
        assert ledger.invoice_html(row["account"], day)
        assert ledger.reconciliation(row["account"], day)
    assert isinstance(ledger.feed(), list)
    assert sum(b.amount for b in ledger.trial_balance(date(2020, 3, 1))) == 0
    assert ledger.journal_csv(date(2020, 3, 1))
    assert table_state(location) == before, "a read changed the database"
    ledger.bill(ledger.today())
    ledger.rebuild()


@pytest.mark.slow
@settings(settings.get_profile(HOSTILE_PROFILE))
@given(calls=s.st.lists(s.api_calls, min_size=4, max_size=10))
def test_no_call_breaks_the_ledger(backend: str, tmp_path: Path, calls: list[s.Call]) -> None:
    with temporary_store(backend, tmp_path) as location, \
            Ledger(location, clock=TestClock(START)) as ledger:
        seed_hostile(ledger)
        for step in calls:
            ledger.catch_up()
            before = table_state(location)
            try:
                call(ledger, step)
            except LedgerError:
                assert table_state(location) == before, f"refused, but the tables changed: {step}"
            check_reads(ledger, location)


def test_a_payment_before_the_account_has_a_currency_is_refused(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite", clock=TestClock(START)) as ledger:
        ledger.open_account("nocur", billing_day=15)
        with pytest.raises(LedgerError, match="currency is not known yet"):
            ledger.record_payment("nocur", Decimal("0.015"))
        assert ledger.feed()[-1]["type"] == "account.opened"
