"""``python -m billing_ledger``: the ``billing-ledger`` command line."""

from billing_ledger.cli import entry

entry()
