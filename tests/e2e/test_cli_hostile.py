"""Hostile and careless input on the command line, run in-process (``billing_ledger.cli.run``):
random sequences of commands with huge, tiny, NaN, markup, path-separator, control-character,
very long and wrong-typed values, on SQLite and PostgreSQL.

After every command: an exit status the documentation names (never an uncaught exception, so
never a traceback), errors on one line, a refused command leaves every table exactly as it
was, and the read commands (accounts, invoices, verify, feed) change nothing and, with bill
and rebuild, still work on the ledger.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings

from billing_ledger.api import Ledger
from tests import strategies as s
from tests.conftest import HOSTILE_PROFILE, temporary_store
from tests.support import invoke, seeded, table_state

TODAY = date(2018, 1, 20)  # the command line's first day: after everything seeded()
READS = (["accounts"], ["invoices"], ["verify"], ["feed"])


@contextlib.contextmanager
def ledger_for(backend: str, folder: Path) -> Iterator[str]:
    with temporary_store(backend, folder) as location:
        seeded(location)
        yield location


def check_reads(db: str, today: date, out: Path) -> None:
    before = table_state(db)
    for argv in READS:
        status, stdout, stderr = invoke(["--db", db, *argv])
        assert status == 0, (argv, stderr)
        assert stdout if argv != ["feed"] else True
    assert table_state(db) == before, "a read command changed the database"
    for argv in (["--today", today.isoformat(), "bill", "--until", today.isoformat()], ["rebuild"]):
        status, _, stderr = invoke(["--db", db, *argv])
        assert status == 0, (argv, stderr)
    assert "all" in invoke(["--db", db, "verify"])[1]


@pytest.mark.slow
@settings(settings.get_profile(HOSTILE_PROFILE))
@given(steps=s.st.lists(s.cli_steps, min_size=4, max_size=10))
def test_no_input_breaks_the_ledger_on_the_command_line(backend: str, tmp_path: Path,
                                                         steps: list[s.CliStep]) -> None:
    out = tmp_path / "out"
    with ledger_for(backend, tmp_path) as db:
        today = TODAY
        for step in steps:
            today += timedelta(days=step.gap)
            argv = ["--db", db, "--today", step.today or today.isoformat()]
            if step.partner_id is not None:
                argv += ["--partner-id", step.partner_id]
            argv += [str(out) if word == "OUT" else word for word in step.argv]
            before = table_state(db)
            status, _, stderr = invoke(argv)
            assert status in (0, 2), (argv, status, stderr)
            assert "Traceback" not in stderr
            if status != 0:
                assert len(stderr.strip().splitlines()) == 1, (argv, stderr)
                assert stderr.startswith("error: "), (argv, stderr)
                assert table_state(db) == before, f"refused, but the tables changed: {argv}"
            else:  # a later --today may have recorded on its day: carry on from there
                with Ledger(db, read_only=True) as ledger:
                    last = ledger.last_recorded_at()
                today = max(today, last.date()) if last is not None else today
            check_reads(db, today, out)
