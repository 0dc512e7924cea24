"""``python -m ledger``: the ``billing-ledger`` command line."""

from ledger.cli import main

main(prog_name="billing-ledger")
