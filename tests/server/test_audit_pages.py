"""The audit pages in a real browser: headless Chromium (the system's, driven by
Playwright; Playwright never downloads one here) against a running server.

Skipped with the reason where no browser can be had, except under CI=true, where they must
run (scripts/setup installs Debian's chromium there). With BILLING_LEDGER_SCREENSHOTS=DIR
the key pages are saved into DIR (docs/images/ holds the ones the how-to shows).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from billing_ledger.api import Ledger
from ledger.clock import TestClock
from tests.conftest import IN_CI
from tests.server.serving import serving
from tests.support import seed_ledger
from tests.tamper import Store

CHROMIUM = os.environ.get("BILLING_LEDGER_CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("BILLING_LEDGER_SCREENSHOTS")
END = date(2018, 6, 1)


def _browser_problem() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"the playwright package is not installed ({error})"
    if not os.access(CHROMIUM, os.X_OK):
        return (f"no Chromium at {CHROMIUM} (apt-get install chromium, or set "
                "BILLING_LEDGER_CHROMIUM)")
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    problem = _browser_problem()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"CI=true needs the browser tests: {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM,
                                          args=["--no-sandbox", "--disable-gpu"])
        try:
            yield chromium
        finally:
            chromium.close()


def book(location: str) -> None:
    """One account, a subscription of 2 licenses bought 13 January 2018, raised to 3 on
    1 March (recorded that day), billed through May."""
    ledger = seed_ledger(location, date(2018, 1, 13))
    ledger.purchase("acme", "S1", "o1", 2)
    ledger.advance_to(date(2018, 3, 1))
    ledger.change_quantity("acme", "S1", 3)
    ledger.advance_to(END)
    ledger.catch_up()
    ledger.close()


@pytest.fixture
def site(tmp_path: Path, browser: Any) -> Iterator[tuple[Any, Ledger, str]]:
    location = str(tmp_path / "audit.sqlite")
    book(location)
    with Ledger(location, create=False, clock=TestClock(END)) as ledger, serving(ledger) as base:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.set_default_timeout(10_000)
        try:
            yield page, ledger, base
        finally:
            page.close()


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_open_an_invoice_and_follow_a_line_to_its_explanation(site: tuple[Any, Ledger, str]) -> None:
    page, ledger, base = site
    page.goto(base + "/")
    assert page.locator("h2").first.inner_text().startswith("Acme Corp")
    shot(page, "audit-accounts")
    page.get_by_role("link", name="acme-20180315").click()
    assert page.locator("h1").inner_text() == "Invoice acme-20180315"
    assert "Verified" in page.locator("#verdict").inner_text()
    document = ledger.invoice("acme", date(2018, 3, 15))
    lines = [line for group in document["subscriptions"] for line in group["lines"]]
    assert page.locator("table.lines tbody tr").count() == len(lines)
    assert document["amount_due"] in page.locator("table.totals tr.due").inner_text()
    shot(page, "audit-invoice")
    last = len(lines)
    page.locator(f"#line-{last} a.explain").click()
    assert page.locator("h1").inner_text() == f"Line {last} of acme-20180315"
    found = ledger.explain("acme-20180315", last)
    assert page.locator("#arithmetic").inner_text() == found.arithmetic
    rows = page.locator("table.events tbody tr")
    assert rows.count() == len(found.events) > 0
    for index, event in enumerate(found.events):
        cells = rows.nth(index).locator("td").all_inner_texts()
        assert cells[:4] == [event.type.split(".")[-1], str(event.version),
                             event.effective_date or "", event.recorded_at]
    shot(page, "audit-line")


def test_read_the_chart_and_travel_in_recorded_time(site: tuple[Any, Ledger, str]) -> None:
    page, ledger, base = site
    page.goto(base + "/accounts/acme")
    page.get_by_role("link", name="S1").click()
    assert "3 license(s)" in page.locator("#state").inner_text()
    chart = page.locator("svg.timeline")
    history = ledger.history("acme", "S1")
    lifecycle = [e for e in history.events if e.type != "Subscription.ChargesPosted"]
    assert chart.locator("g.event").count() == len(lifecycle) == 2
    billing = sorted({line["billing_date"] for line in history.posted})
    marked = chart.locator("g.billing-date").evaluate_all("els => els.map(e => e.dataset.date)")
    assert marked == billing == ["2018-01-15", "2018-03-15"]
    # The owed line steps from 2 to 3 on 1 March; billed follows once 15 March posted it.
    periods = [row.split("\t") for row in page.locator("table.periods tbody tr").all_inner_texts()]
    assert [p[:4] for p in periods] == [["2018-01-13", "2018-02-28", "2", "2"],
                                        ["2018-03-01", "2019-01-12", "3", "3"]]
    owed = chart.locator("polyline.owed").get_attribute("points")
    assert owed is not None and len(set(re.findall(r",([0-9.]+)", owed))) == 2  # two heights
    shot(page, "audit-timeline")
    # As known on 1 March, before the 15 March billing date: 3 owed, 2 billed, shaded.
    instant = page.locator("#known_at option", has_text="QuantityChanged v").get_attribute("value")
    assert instant is not None and instant.startswith("2018-03-01")
    page.select_option("#known_at", value=instant)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile("known_at="))
    assert "as known at 2018-03-01" in page.locator("#state").inner_text()
    differs = page.locator("table.periods tr.differs")
    assert differs.count() == 1 and differs.locator("td").nth(2).inner_text() == "3"
    assert differs.locator("td").nth(3).inner_text() == "2"
    gap = chart.locator("rect.gap[data-from]")
    assert gap.count() == 1 and gap.get_attribute("data-from") == "2018-03-01"
    shot(page, "audit-timeline-known-at")
    # Further back: before the change was recorded, 2 licenses all the way.
    page.locator("#earlier").click()
    page.locator("#earlier").click()
    assert "2 license(s)" in page.locator("#state").inner_text()
    assert chart.locator("g.event").count() == 1
    page.locator("#later").click()
    assert "as known at 2018-01-16" in page.locator("#state").inner_text()


def test_a_tampered_view_row_is_flagged(site: tuple[Any, Ledger, str]) -> None:
    page, ledger, base = site
    page.goto(base + "/verify")
    assert "Everything matches" in page.locator("#verdict").inner_text()
    Store(ledger.location).execute(
        "UPDATE {p}invoices SET amount_due = '0.00' WHERE invoice_number = 'acme-20180315'")
    page.goto(base + "/verify")
    verdict = page.locator("#verdict")
    assert "1 finding(s)" in verdict.inner_text()
    assert verdict.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    finding = page.locator("li.finding").inner_text()
    assert "view invoices 2018-03-15/acme" in finding and "'0.00', the log says '136.24'" in finding
    shot(page, "audit-verify-tampered")
    page.goto(base + "/invoices/acme-20180315")
    assert "Differs" in page.locator("#verdict").inner_text()
    assert "amount_due is '0.00'" in page.locator("li.finding").inner_text()
    page.goto(base + "/invoices/acme-20180115")  # the other invoice is untouched
    assert "Verified" in page.locator("#verdict").inner_text()


def test_on_a_long_log_an_invoice_is_verified_when_asked(tmp_path: Path, browser: Any) -> None:
    location = str(tmp_path / "long.sqlite")
    book(location)
    with Ledger(location, create=False, clock=TestClock(END)) as ledger, \
            serving(ledger, verify_inline_max=5) as base:
        page = browser.new_page()
        try:
            page.goto(base + "/invoices/acme-20180315")
            assert "Not verified on opening" in page.locator("#verdict").inner_text()
            page.locator("#verify-now").click()
            assert "Verified" in page.locator("#verdict").inner_text()
        finally:
            page.close()
