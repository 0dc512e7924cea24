"""Charge lines: what the rating rules produce and a billing date posts.

A line is an immutable record in the shape of a Partner Center license-based reconciliation
row (period, charge type, unit price, quantity, amount), plus what an auditor needs: the
line it reverses, the subscription events behind it, and the arithmetic that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar


class ChargeType(StrEnum):
    """Partner Center's license-based charge types, spelled as the ledger writes them.

    The three the annual-billing seed article shows keep its capitalisation; the rest use
    Partner Center's reference spelling. Comparisons elsewhere ignore case.
    """

    PRORATE_FEES_WHEN_PURCHASE = "Prorate fees when purchase"
    PURCHASE_FEE = "Purchase fee"
    CYCLE_FEE = "Cycle fee"
    CYCLE_INSTANCE_PRORATE = "Cycle Instance Prorate"
    CANCEL_FEE = "Cancel Fee"
    CANCEL_INSTANCE_PRORATE = "Cancel instance prorate"
    PRORATE_FEES_WHEN_CANCEL = "Prorate fees when cancel"
    PRORATE_FEES_WHEN_ACTIVATE = "Prorate fees when activate"
    PRORATE_FEE_WHEN_RENEW = "Prorate fee when renew"
    RENEW_FEE = "Renew fee"
    ACTIVATION_FEE = "Activation fee"


def normalise_charge_type(text: str) -> str:
    """A charge type for comparison: case and runs of white space ignored."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class ChargeLine:
    """One rated line of a subscription.

    ``sign`` is +1 for a charge and -1 for a credit; ``quantity`` is always positive and the
    unit price and amount carry the sign, as in Partner Center's files (``-48.00``).
    A reversal (``reverses`` set) is the exact negation of an earlier line.
    """

    line_id: str
    subscription: str
    term_start: date
    term_end: date
    start: date
    end: date
    charge_type: str
    unit_price: Decimal
    quantity: int
    amount: Decimal
    currency: str
    sign: int
    basis: str
    sources: tuple[int, ...] = ()
    reverses: str | None = None
    #: Stored in events: a change of fields bumps it and adds an upcaster.
    class_version: ClassVar[int] = 1

    @property
    def net_quantity(self) -> int:
        """Licenses this line adds to (or, negative, removes from) each day it covers."""
        return self.sign * self.quantity

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __deepcopy__(self, memo: dict[int, object]) -> ChargeLine:
        return self  # immutable: aggregates cached by the repository share it safely
