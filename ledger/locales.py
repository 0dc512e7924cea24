"""The locales an account's invoices can be rendered in."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from ledger.errors import InvalidInput

#: The languages of the seed documents, and English.
LOCALES: tuple[str, ...] = ("en_US", "it_IT", "nl_NL", "nb_NO")
DEFAULT_LOCALE = "en_US"


def normalise(locale: str | None) -> str:
    """``it-IT``, ``it_it``, ``it`` -> ``it_IT``; refuses a locale invoices are not in."""
    if locale is None:
        return DEFAULT_LOCALE
    try:
        parsed = Locale.parse(str(locale).replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        raise InvalidInput(f"unknown locale {locale!r}; one of {', '.join(LOCALES)}") from None
    for supported in LOCALES:
        if Locale.parse(supported).language == parsed.language:
            return supported
    raise InvalidInput(f"invoices are not translated into {locale!r}; one of {', '.join(LOCALES)}")
