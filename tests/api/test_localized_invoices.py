"""The same invoice in en-US, it-IT, nl-NL and nb-NO: decimal separators, date order and
currency placement as a reader of each language expects; reconciliation files unchanged."""

from __future__ import annotations

from datetime import date

import pytest

from billing_ledger.api import Ledger
from ledger import errors
from ledger.clock import TestClock
from ledger.offers import OfferTerms
from tests.conftest import NewStore

BILLED = date(2018, 2, 15)

# locale -> lines the plain-text invoice must hold (white space between columns aside)
EXPECTED = {
    "en_US": ["INVOICE contoso-20180215", "Billing date: February 15, 2018",
              "Feb 1, 2018 – Jan 12, 2019 Cycle Instance Prorate $44.98 2 $89.96",
              "Credits -$48.00", "Balance brought forward $48.00", "Amount due $92.43"],
    "it_IT": ["FATTURA contoso-20180215", "Data di fatturazione: 15 febbraio 2018",
              "1 feb 2018 – 12 gen 2019 Rettifica proporzionale del periodo 44,98 USD 2 89,96 USD",
              "Accrediti -48,00 USD", "Saldo precedente 48,00 USD", "Importo dovuto 92,43 USD"],
    "nl_NL": ["FACTUUR contoso-20180215", "Factuurdatum: 15 februari 2018",
              "1 feb 2018 – 12 jan 2019 Naar rato aanpassing US$ 44,98 2 US$ 89,96",
              "Tegoeden US$ -48,00", "Vorig saldo US$ 48,00", "Te betalen bedrag US$ 92,43"],
    "nb_NO": ["FAKTURA contoso-20180215", "Fakturadato: 15. februar 2018",
              "1. feb. 2018 – 12. jan. 2019 Forholdsmessig justering 44,98 USD 2 89,96 USD",
              "Kreditter -48,00 USD", "Saldo fra forrige faktura 48,00 USD", "Å betale 92,43 USD"],
}

AMOUNT_DUE = {"en_US": "$92.43", "it_IT": "92,43 USD", "nl_NL": "US$ 92,43", "nb_NO": "92,43 USD"}


def squeeze(text: str) -> list[str]:
    """Lines with runs of white space (including no-break spaces) made one space."""
    return [" ".join(line.replace("\u00a0", " ").replace("\u202f", " ").split())
            for line in text.splitlines()]


@pytest.fixture
def ledger(new_store: NewStore) -> Ledger:
    led = Ledger(new_store(), clock=TestClock(date(2018, 1, 13)))
    led.define_offer(OfferTerms.create("e1", name="Office 365 E1", price="48.00", currency="USD",
                                       term="P1Y", billing="annual", convention="daily-rate"))
    led.open_account("contoso", billing_day=15, name="Contoso Ltd", locale="nl-NL")
    led.purchase("contoso", "S1", "e1", 1)
    led.advance_to(date(2018, 2, 1))
    led.change_quantity("contoso", "S1", 2)
    led.advance_to(date(2018, 2, 16))
    return led


@pytest.mark.parametrize("locale", sorted(EXPECTED))
def test_the_invoice_reads_right_in_each_language(ledger: Ledger, locale: str) -> None:
    lines = squeeze(ledger.invoice_text("contoso", BILLED, locale))
    for wanted in EXPECTED[locale]:
        assert any(line.endswith(wanted) or line == wanted for line in lines), (wanted, lines)
    html = " ".join(squeeze(ledger.invoice_html("contoso", BILLED, locale)))
    assert f'<html lang="{locale.replace("_", "-")}">' in html
    assert f'<td class="n">{AMOUNT_DUE[locale]}</td>' in html
    ledger.close()


def test_decimal_separators_date_order_and_currency_placement(ledger: Ledger) -> None:
    en = " ".join(squeeze(ledger.invoice_text("contoso", BILLED, "en_US")))
    it = " ".join(squeeze(ledger.invoice_text("contoso", BILLED, "it_IT")))
    nl = " ".join(squeeze(ledger.invoice_text("contoso", BILLED, "nl_NL")))
    nb = " ".join(squeeze(ledger.invoice_text("contoso", BILLED, "nb_NO")))
    assert "$92.43" in en and "92,43" not in en  # point, symbol before
    assert "92,43 USD" in it and "92,43 USD" in nb  # comma, code after
    assert "US$ 92,43" in nl  # comma, symbol before
    assert "February 15, 2018" in en  # month first
    assert "15 febbraio 2018" in it and "15 februari 2018" in nl and "15. februar 2018" in nb
    ledger.close()


def test_the_account_locale_is_the_default_and_csv_stays_neutral(ledger: Ledger) -> None:
    assert squeeze(ledger.invoice_text("contoso", BILLED))[0] == "FACTUUR contoso-20180215"
    assert ledger.accounts()[0]["locale"] == "nl_NL"
    csv = ledger.reconciliation("contoso", BILLED).decode()
    assert "44.98,2,89.96" in csv and "US$" not in csv
    ledger.close()


def test_an_unknown_locale_is_refused(ledger: Ledger) -> None:
    with pytest.raises(errors.InvalidInput, match="not translated into 'fr_FR'"):
        ledger.invoice_text("contoso", BILLED, "fr_FR")
    with pytest.raises(errors.InvalidInput):
        ledger.open_account("other", billing_day=1, locale="xx-nope")
    ledger.close()
