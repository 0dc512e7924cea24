"""Two billing runs on one ledger at once (two processes): nothing is cut twice, neither
fails, and between them they issue every invoice once; a run that finds a date already cut
by the other moves on and says so in its summary (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date

from billing_ledger.api import Ledger
from ledger.account import BillingAccount
from ledger.clock import TestClock
from tests.conftest import NewStore
from tests.support import offer

ACCOUNTS, START, UNTIL = 16, date(2019, 1, 3), date(2020, 1, 31)
SUMMARY = re.compile(r"(\d+) account\(s\) through \S+: (\d+) invoice\(s\) issued, (\d+) billing "
                     r"date\(s\) closed with nothing to invoice, (\d+) renewal\(s\)")


def test_two_billing_runs_at_once_cut_every_date_once(new_store: NewStore) -> None:
    location = new_store("twice")
    with Ledger(location, clock=TestClock(START)) as ledger:
        ledger.define_offer(offer(price="4.00", billing="monthly", term="P1M", daily_rate_places=3))
        for number in range(ACCOUNTS):
            ledger.open_account(f"acct{number:02d}", billing_day=1 + number % 28)
            ledger.purchase(f"acct{number:02d}", "S1", "o1", 1 + number)
    command = [sys.executable, "-m", "billing_ledger", "--db", location,
               "--today", UNTIL.isoformat(), "bill", "--until",
               date(2020, 1, 30).isoformat()]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (_, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
        assert "Traceback" not in err
    issued = closed = 0
    for out, _ in outputs:
        found = SUMMARY.search(out)
        assert found is not None, out
        issued += int(found.group(2))
        closed += int(found.group(3))
    with Ledger(location, clock=TestClock(UNTIL)) as ledger:
        events = [ev for key in ledger.app.account_keys()
                  for ev in ledger.app.aggregate_events(ledger.app.account(key).id)]
        invoices = [ev for ev in events if isinstance(ev, BillingAccount.InvoiceIssued)]
        dates = [(ev.originator_id, ev.billing_date) for ev in events
                 if isinstance(ev, (BillingAccount.InvoiceIssued, BillingAccount.BillingDateClosed))]
        assert len(dates) == len(set(dates))  # no billing date cut twice
        assert issued == len(invoices) >= ACCOUNTS * 12  # every invoice issued once, by one run
        assert closed == len(dates) - len(invoices)
        assert ledger.verify().ok
