"""The locales an account's invoices can be rendered in."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from ledger.bounds import shown
from ledger.errors import InvalidInput

#: The languages of the seed documents, and English.
LOCALES: tuple[str, ...] = ("en_US", "it_IT", "nl_NL", "nb_NO")
DEFAULT_LOCALE = "en_US"


def normalise(locale: str | None) -> str:
    """``it-IT``, ``it_it``, ``it`` -> ``it_IT``; refuses a locale invoices are not in."""
    if locale is None:
        return DEFAULT_LOCALE
    unknown = InvalidInput(f"unknown locale {shown(locale)}; one of {', '.join(LOCALES)}")
    if not isinstance(locale, str) or len(locale) > 35 or not locale.isprintable():
        raise unknown  # (35: the longest locale tag Babel knows is shorter)
    try:
        parsed = Locale.parse(locale.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        raise unknown from None
    for supported in LOCALES:
        if Locale.parse(supported).language == parsed.language:
            return supported
    raise InvalidInput(f"invoices are not translated into {shown(locale)}; one of {', '.join(LOCALES)}")
