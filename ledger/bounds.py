"""The bounds on every value that enters an event, in one place.

The log is immutable: a value recorded once is read by every later command, read, rebuild
and audit, forever. So each value is checked here, at the door (the aggregates' public
methods and factories, :meth:`ledger.offers.OfferTerms.create`, the application's
plumbing), before anything is recorded; a value out of bounds raises the
:mod:`ledger.errors` class of its field, naming the field, the value and the bound.

The bounds (documented in ``docs/reference/bounds.md``):

* ids (account, subscription, offer): 1-64 characters from ``A-Z a-z 0-9 . _ -``, not
  starting with ``.`` or ``-``: safe as a file name on every system, never markup;
* names (account, offer): 1-200 printable characters (no control characters);
* payment references: 0-200 printable characters; idempotency keys and the partner id:
  1-200 and 0-200 printable characters;
* quantities: whole numbers 1 to 1,000,000 (stored by every backend as an integer);
* trial days 1-365; an offer's daily-rate places 0-10 and refund window 0-366 days;
* prices: 0 to 1,000,000,000 in currency units; payments: above 0, at most
  1,000,000,000,000; both with at most the currency's minor-unit places;
* business dates (effective dates, billing runs, the clock's date for a command):
  1970-01-01 to 2999-12-31;
* feed positions: 0 to 2**63 - 1.

Nothing here reads a clock or a store: these are pure functions.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

from ledger.errors import InvalidInput, InvalidPayment, InvalidQuantity
from ledger.money import currency_places

ID_MAX = 64
ID_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
ID_RULE = "1-64 characters from A-Z a-z 0-9 . _ - (not starting with . or -)"
NAME_MAX = 200
TEXT_MAX = 200
QUANTITY_MAX = 1_000_000
TRIAL_DAYS_MAX = 365
DAILY_RATE_PLACES_MAX = 10
REFUND_WINDOW_DAYS_MAX = 366
PRICE_MAX = Decimal(1_000_000_000)
PAYMENT_MAX = Decimal(1_000_000_000_000)
FIRST_DATE = date(1970, 1, 1)
LAST_DATE = date(2999, 12, 31)
POSITION_MAX = 2**63 - 1
BATCH_MAX = 100_000
#: The longest file name most file systems accept, in bytes.
FILE_NAME_MAX_BYTES = 255

_SHOWN_MAX = 60


def shown(value: object) -> str:
    """``value`` for an error message: its ``repr`` (so control characters are escaped),
    shortened when long."""
    if isinstance(value, str) and len(value) > _SHOWN_MAX:
        return f"{value[:40]!r}... ({len(value)} characters)"
    text = repr(value)
    if len(text) > _SHOWN_MAX:
        return f"{text[:40]}... ({type(value).__name__}, {len(text)} characters)"
    return text


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def identifier(value: object, field: str, error: type[InvalidInput] = InvalidInput) -> str:
    """An account, subscription or offer id."""
    if not isinstance(value, str) or len(value) > ID_MAX or not ID_PATTERN.fullmatch(value):
        raise error(f"{field} must be {ID_RULE}, got {shown(value)}")
    return value


def lookup(value: object, field: str) -> str:
    """A key to look something up by: any printable string (one outside the bounds above
    simply names nothing); anything else (another type, control characters, text that is
    not valid Unicode) is refused before it reaches a store."""
    if not isinstance(value, str) or not value.isprintable():
        raise InvalidInput(f"{field} must be printable text, got {shown(value)}")
    return value


def is_identifier(value: object) -> bool:
    return isinstance(value, str) and len(value) <= ID_MAX and bool(ID_PATTERN.fullmatch(value))


def text(value: object, field: str, *, least: int = 0, most: int = TEXT_MAX,
         error: type[InvalidInput] = InvalidInput) -> str:
    """A printable string of ``least`` to ``most`` characters (no control characters)."""
    if not isinstance(value, str):
        raise error(f"{field} must be a string, got {shown(value)}")
    if not least <= len(value) <= most:
        raise error(f"{field} must be {least}-{most} characters long, got {len(value)}: "
                    f"{shown(value)}")
    if not value.isprintable():
        raise error(f"{field} must not contain control or other non-printable characters, "
                    f"got {shown(value)}")
    return value


def name(value: object, field: str, error: type[InvalidInput] = InvalidInput) -> str:
    """An account's or offer's name: 1-200 printable characters, not only spaces."""
    checked = text(value, field, least=1, most=NAME_MAX, error=error)
    if not checked.strip():
        raise error(f"{field} must not be blank, got {shown(value)}")
    return checked


def whole(value: object, field: str, least: int, most: int,
          error: type[InvalidInput] = InvalidInput) -> int:
    """A whole number from ``least`` to ``most``."""
    if not _is_int(value):
        raise error(f"{field} must be a whole number from {least:,} to {most:,}, got {shown(value)}")
    assert isinstance(value, int)
    if value < least:
        raise error(f"{field} must be at least {least:,}, got {shown(value)}")
    if value > most:
        raise error(f"{field} must be at most {most:,}, got {shown(value)}")
    return value


def quantity(value: object, field: str = "quantity") -> int:
    """A number of licenses: 1 to 1,000,000."""
    if not _is_int(value):
        raise InvalidQuantity(f"{field} must be a whole number of licenses, got {shown(value)}")
    return whole(value, field, 1, QUANTITY_MAX, InvalidQuantity)


def trial_days(value: object) -> int:
    return whole(value, "trial_days", 1, TRIAL_DAYS_MAX)


def _places(amount: Decimal, places: int, field: str, currency: str,
            error: type[InvalidInput]) -> Decimal:
    """``amount`` if it has no digit beyond the currency's places (trailing zeros and a
    positive exponent are normalised away: ``48.000`` -> ``48.00``, ``1E+3`` -> ``1000``)."""
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent > 0:
        return amount.quantize(Decimal(1))
    if -exponent <= places:
        return amount
    unit = Decimal(1).scaleb(-places)
    if amount % unit != 0:
        raise error(f"{field} {amount} has more decimal places than {currency} has ({places})")
    return amount.quantize(unit)


def price(value: Decimal, currency: str, field: str = "price",
          error: type[InvalidInput] = InvalidInput) -> Decimal:
    """A price per license per term: 0 to 1,000,000,000, in the currency's places."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise error(f"{field} must be a finite decimal number, got {shown(value)}")
    if value < 0:
        raise error(f"{field} must not be negative, got {value}")
    if value > PRICE_MAX:
        raise error(f"{field} must be at most {PRICE_MAX:,}, got {shown(value)}")
    if value == 0:
        value = value.copy_abs()  # -0 is 0
    return _places(value, currency_places(currency), field, currency, error)


def payment(value: object, currency: str | None) -> Decimal:
    """A payment received: above 0, at most 1,000,000,000,000, in the account's currency's
    places (so the account's currency must be known)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidPayment(f"a payment must be a decimal amount, got {shown(value)}")
    if value <= 0:
        raise InvalidPayment(f"a payment must be positive, got {value}")
    if value > PAYMENT_MAX:
        raise InvalidPayment(f"a payment must be at most {PAYMENT_MAX:,}, got {shown(value)}")
    if currency is None:
        raise InvalidPayment(
            "the account's currency is not known yet: open the account with a currency "
            "(--currency) or record the payment after its first purchase")
    return _places(value, currency_places(currency), "payment", currency, InvalidPayment)


def business_date(value: object, field: str, error: type[InvalidInput] = InvalidInput) -> date:
    """A business date (not a datetime) from 1970-01-01 to 2999-12-31."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise error(f"{field} must be a date, got {shown(value)}")
    if not FIRST_DATE <= value <= LAST_DATE:
        raise error(f"{field} must be from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}, "
                    f"got {value.isoformat()}")
    return value


def instant(value: object, field: str, error: type[InvalidInput] = InvalidInput) -> datetime:
    """A timezone-aware instant, as UTC, on a business date within the bounds."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise error(f"{field} must be a timezone-aware date-time, got {shown(value)}")
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise error(f"{field} is out of range: {value.isoformat()}") from None
    business_date(moment.date(), f"{field}'s date (UTC)", error)
    return moment


def seconds(value: object, field: str, least: float = 0.0, most: float = 3600.0) -> float:
    """A finite number of seconds (a pause, a polling interval)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not least <= value <= most:
        raise InvalidInput(f"{field} must be a number of seconds from {least:g} to {most:g}, "
                           f"got {shown(value)}")  # (NaN is refused too: it is not >= least)
    return float(value)


def position(value: object, field: str = "position") -> int:
    """A position in the ledger's log (the feed's ``after``)."""
    return whole(value, field, 0, POSITION_MAX)

