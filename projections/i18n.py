"""Invoices in the reader's language: labels from the gettext catalogs kept in
``projections/locale/<language>/LC_MESSAGES/invoices.po``, dates, numbers and money
formatted by Babel for the locale. Reconciliation files stay locale-neutral.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

from ledger.locales import DEFAULT_LOCALE, LOCALES, normalise

__all__ = ["DEFAULT_LOCALE", "LOCALES", "Formatter", "formatter", "normalise"]


@cache
def _translations(language: str) -> gettext.NullTranslations:
    """The catalog of ``language``, compiled in memory from its .po file (read once)."""
    source = resources.files("projections") / "locale" / language / "LC_MESSAGES" / "invoices.po"
    if not source.is_file():
        return gettext.NullTranslations()
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@dataclass(frozen=True)
class Formatter:
    """Labels, dates, numbers and money for one locale."""

    locale: str

    def text(self, message: str) -> str:
        return _translations(Locale.parse(self.locale).language).gettext(message)

    def day(self, iso: str) -> str:
        return format_date(date.fromisoformat(iso), format="medium", locale=self.locale)

    def long_day(self, iso: str) -> str:
        return format_date(date.fromisoformat(iso), format="long", locale=self.locale)

    def money(self, amount: str, currency: str) -> str:
        return format_currency(Decimal(amount), currency, locale=self.locale)

    def number(self, value: str | int) -> str:
        return format_decimal(Decimal(value), locale=self.locale)


def formatter(locale: str | None) -> Formatter:
    return Formatter(normalise(locale))
