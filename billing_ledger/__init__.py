"""The billing ledger's entry points: the ``Ledger`` facade an application embeds, the
``billing-ledger`` command line, and the scenario player. This package is the only code that
imports both sides: the write side (:mod:`ledger`) and the read side (:mod:`projections`).

    from billing_ledger import Ledger
"""

from billing_ledger.api import Ledger

__all__ = ["Ledger"]
