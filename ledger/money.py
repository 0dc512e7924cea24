"""Money: ``Decimal`` amounts, a currency's minor units, and explicit rounding rules.

Nothing here ever touches ``float``. Every amount the ledger records has been rounded once,
by :func:`round_money`, to the currency's places and the offer's rounding rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum

# ISO 4217 minor units where they are not 2. Anything not listed has 2 places.
_MINOR_UNITS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}


class Rounding(Enum):
    """How an amount is brought to the currency's places."""

    HALF_UP = "half-up"
    HALF_EVEN = "half-even"

    @property
    def decimal_mode(self) -> str:
        return ROUND_HALF_UP if self is Rounding.HALF_UP else ROUND_HALF_EVEN


def currency_places(currency: str) -> int:
    """Places of the currency's minor unit (``USD`` -> 2, ``JPY`` -> 0)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def is_currency_code(code: object) -> bool:
    return isinstance(code, str) and len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()


def quantize(amount: Decimal, places: int, rounding: Rounding = Rounding.HALF_UP) -> Decimal:
    """Round ``amount`` to ``places`` decimal places with ``rounding``."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=rounding.decimal_mode)


def round_money(amount: Decimal, currency: str, rounding: Rounding = Rounding.HALF_UP) -> Decimal:
    """Round ``amount`` to the currency's places."""
    return quantize(amount, currency_places(currency), rounding)


def format_money(amount: Decimal, currency: str) -> str:
    """A plain decimal with the currency's places, credits negative: ``-48.00``."""
    text = f"{round_money(amount, currency):f}"
    return "0" + text[2:] if text.startswith("-0") and Decimal(text) == 0 else text


@dataclass(frozen=True)
class Money:
    """An amount in a currency, always rounded to the currency's places (half-up unless
    made with another rule). Adding or subtracting two amounts of different currencies is
    refused; ``str()`` is the plain decimal documents and files show (``-48.00``)."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: Decimal, currency: str, rounding: Rounding = Rounding.HALF_UP) -> Money:
        return cls(round_money(amount, currency, rounding), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls.of(Decimal(0), currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """An amount as a document shows it."""
        return cls.of(Decimal(text), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


def parse_decimal(value: object, what: str) -> Decimal:
    """A ``Decimal`` from a string or int (never a float), or ``ValueError`` naming ``what``."""
    if isinstance(value, (bool, float)):
        raise ValueError(f"{what} must be a decimal string such as \"48.00\", not {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{what} is not a decimal number: {value!r}") from None
    else:
        raise ValueError(f"{what} must be a decimal string, not {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{what} is not a finite number: {value!r}")
    return result
