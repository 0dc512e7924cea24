"""``python -m ledger``: the ``billing-ledger`` command line."""

from ledger.cli import entry

entry()
