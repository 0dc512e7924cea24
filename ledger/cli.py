"""``billing-ledger``: the command line, on a persistent ledger (``--db``, the
``BILLING_LEDGER_DB`` environment variable, or ``./ledger.sqlite``).

Every command goes through :class:`ledger.api.Ledger`. Errors the ledger raises on purpose
(and bad arguments) print one line and exit non-zero without a traceback: 2 for invalid
input (a bad date, an unknown account or invoice, a missing database, an invalid scenario),
1 when a check fails (a scenario's ``expect``, ``verify``), 3 when the database itself fails.
Commands other than ``init``, ``simulate`` and ``demo`` never create a database.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledger import scenario as scenarios
from ledger.api import STORE_FAILURES, Ledger, default_location
from ledger.charges import ChargeLine
from ledger.clock import Clock, SystemClock, TestClock
from ledger.errors import LedgerError, StoreError, UnknownInvoice
from ledger.money import format_money
from ledger.offers import OfferTerms
from ledger.simulation import Simulation, simulate, write_files
from projections import verification

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


class Failure(click.ClickException):
    """Invalid input: a one-line error and exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        errors.print(f"error: {self.message}", markup=False)


class CheckFailed(Failure):
    """A check did not hold (an expect section, a verification): exit status 1."""

    exit_code = 1


class StoreFailed(Failure):
    """The database itself failed: exit status 3."""

    exit_code = 3


# ---------------------------------------------------------------------------- arguments
class DateType(click.ParamType[date]):
    name = "DATE"

    def convert(self, value: Any, param: Any, ctx: Any) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date in ISO 8601 (YYYY-MM-DD)", param, ctx)


class InstantType(click.ParamType[datetime]):
    name = "INSTANT"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date-time (2018-03-15T12:00:00Z)", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class DecimalType(click.ParamType[Decimal]):
    name = "DECIMAL"

    def convert(self, value: Any, param: Any, ctx: Any) -> Decimal:
        try:
            return Decimal(str(value))
        except InvalidOperation:
            self.fail(f"{value!r} is not a decimal number", param, ctx)


DATE, INSTANT, DECIMAL = DateType(), InstantType(), DecimalType()


class Context:
    def __init__(self, db: str | None, today: date | None, partner_id: str) -> None:
        self.db = db or default_location()  # None: the eventsourcing variables say where
        self.today = today
        self.partner_id = partner_id

    def clock(self) -> Clock:
        return TestClock(self.today) if self.today is not None else SystemClock()

    @contextmanager
    def ledger(self, *, create: bool = False) -> Iterator[Ledger]:
        try:
            ledger = Ledger(self.db, clock=self.clock(), create=create, partner_id=self.partner_id)
        except LedgerError as error:
            raise Failure(str(error)) from None
        try:
            yield ledger
        finally:
            ledger.close()


pass_context = click.make_pass_decorator(Context)

idempotency_option = click.option(
    "--idempotency-key", "key", metavar="KEY",
    help="Repeat-safe: the same key and arguments again return the first result and record "
         "nothing; the same key with other arguments is refused.")


@contextmanager
def reported() -> Iterator[None]:
    """Turn the ledger's own errors into one-line failures."""
    try:
        yield
    except StoreError as error:
        raise StoreFailed(str(error)) from None
    except LedgerError as error:
        raise Failure(str(error)) from None
    except STORE_FAILURES as error:
        raise StoreFailed(f"database error: {error}") from None


def fail(message: str) -> NoReturn:
    raise Failure(message)


# ---------------------------------------------------------------------------- rendering
def billing_table(title: str, document: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("#", "Subscription", "Start", "End", "Charge type"):
        table.add_column(column)
    for column in ("Unit price", "Qty", "Amount"):
        table.add_column(column, justify="right")
    for group in document["subscriptions"]:
        for line in group["lines"]:
            table.add_row(str(line["number"]), line["subscription"], line["start"], line["end"],
                          line["charge_type"], line["unit_price"], str(line["quantity"]),
                          line["amount"])
    table.add_section()
    table.add_row("", "", "", "", "Total", "", "", document["total"])
    return table


def lines_table(title: str, lines: Sequence[ChargeLine]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("Subscription", "Start", "End", "Charge type"):
        table.add_column(column)
    for column in ("Unit price", "Qty", "Amount"):
        table.add_column(column, justify="right")
    table.add_column("Arithmetic")
    for line in lines:
        table.add_row(line.subscription, line.start.isoformat(), line.end.isoformat(),
                      line.charge_type, format_money(line.unit_price, line.currency),
                      str(line.quantity), format_money(line.amount, line.currency), line.basis)
    return table


def show_simulation(result: Simulation) -> None:
    for day, document in sorted(result.documents.items()):
        title = f"{result.scenario.account} - billing date {day.isoformat()} - {document['invoice_number']}"
        console.print(billing_table(title, document))


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=errors, transient=not errors.is_terminal) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def seed_scenarios() -> list[Path]:
    """The six scenarios of Partner Center's annual-billing article, shipped with the package."""
    folder = resources.files("ledger") / "scenarios" / "seed"
    return sorted(Path(str(item)) for item in folder.iterdir() if item.name.endswith(".yaml"))


# ---------------------------------------------------------------------------- the group
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="billing-ledger")
@click.option("--db", envvar="BILLING_LEDGER_DB", metavar="PATH|URL",
              help="Ledger database: a SQLite file or postgresql:// URL [default: ./ledger.sqlite].")
@click.option("--today", type=DATE, help="Pin the clock to this business date (a test clock).")
@click.option("--partner-id", default="",
              help="PartnerId of the invoices this run issues (and their reconciliation files).")
@click.pass_context
def main(ctx: click.Context, db: str | None, today: date | None, partner_id: str) -> None:
    """An event-sourced billing ledger for license-based subscriptions."""
    if not console.is_terminal:  # files and pipes get whole table rows, not 80-column wraps
        console.width = 160
    ctx.obj = Context(db, today, partner_id)


# ---------------------------------------------------------------------------- scenarios
def _load(path: str) -> scenarios.Scenario:
    try:
        scenario = scenarios.load(path)
    except scenarios.ScenarioError as error:
        raise Failure(str(error)) from None
    scenarios.warn(scenario)
    return scenario


def _simulate(scenario: scenarios.Scenario, db: str | None, partner_id: str = "") -> Simulation:
    with reported():
        return simulate(scenario, db, partner_id)


@main.command("simulate")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder for reconciliation-YYYY-MM-DD.csv files.")
@click.option("--db", "scenario_db", type=click.Path(dir_okay=False),
              help="SQLite file to keep the ledger in (default: a temporary file).")
@click.option("--quiet", "-q", is_flag=True, help="Print no tables.")
@pass_context
def simulate_command(ctx: Context, scenario_file: str, out: str, scenario_db: str | None,
                     quiet: bool) -> None:
    """Play a scenario file and write each billing date's reconciliation file.

    Exit 0 when it ran (and matched its expect section), 1 when lines differ from expect,
    2 when the scenario is invalid (nothing is written then).
    """
    result = _simulate(_load(scenario_file), scenario_db, ctx.partner_id)
    for path in write_files(result, out):
        if not quiet:
            console.print(f"wrote {path}")
    if not quiet:
        show_simulation(result)
    if not result.matches:
        errors.print("lines differ from expect:", markup=False)
        for line in result.diff:
            errors.print(line, markup=False)
        sys.exit(1)


@main.command("demo")
@click.option("--db", "demo_db", default="demo.sqlite", show_default=True,
              type=click.Path(dir_okay=False), help="SQLite file for the demo (replaced each run).")
@click.option("--out", default="demo-output", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the reconciliation files, one sub-folder per scenario.")
def demo_command(demo_db: str, out: str) -> None:
    """Run the six scenarios of Partner Center's annual-billing article on one SQLite file,
    write their reconciliation files, and print each billing date."""
    database = Path(demo_db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    failures: list[str] = []
    for path in seed_scenarios():
        result = _simulate(_load(str(path)), str(database))
        folder = Path(out) / path.stem
        written = write_files(result, folder)
        console.rule(path.stem)
        show_simulation(result)
        console.print(f"{len(written)} reconciliation file(s) in {folder}; "
                      f"{'matches the article' if result.matches else 'DIFFERS from the article'}")
        if not result.matches:
            failures.append(path.stem)
    console.print(f"\nledger: {database.resolve()}")
    if failures:
        raise CheckFailed(f"scenarios differ from the article: {', '.join(failures)}")


# ---------------------------------------------------------------------------- recording
@main.command("init")
@pass_context
def init_command(ctx: Context) -> None:
    """Create an empty ledger (tables for events and views)."""
    with ctx.ledger(create=True), reported():
        pass
    console.print(f"ledger ready at {ctx.db or 'the store the environment names'}")


@main.command("define-offer")
@click.argument("offer_id")
@click.option("--price", required=True, type=DECIMAL, help="Per license per term.")
@click.option("--currency", required=True)
@click.option("--term", required=True, type=click.Choice(["P1Y", "P1M"]))
@click.option("--billing", required=True, type=click.Choice(["annual", "monthly"]))
@click.option("--convention", required=True, type=click.Choice(["daily-rate", "exact"]))
@click.option("--name")
@click.option("--daily-rate-places", type=int)
@click.option("--refund-window-days", type=int)
@click.option("--rounding", type=click.Choice(["half-up", "half-even"]), default="half-up")
@idempotency_option
@pass_context
def define_offer_command(ctx: Context, offer_id: str, price: Decimal, currency: str, term: str,
                         billing: str, convention: str, name: str | None,
                         daily_rate_places: int | None, refund_window_days: int | None,
                         rounding: str, key: str | None) -> None:
    """Add an offer to the catalog, or revise its terms for new purchases and renewals."""
    with ctx.ledger() as ledger, reported():
        ledger.define_offer(OfferTerms.create(
            offer_id, price=price, currency=currency, term=term, billing=billing,
            convention=convention, name=name, daily_rate_places=daily_rate_places,
            refund_window_days=refund_window_days, rounding=rounding), idempotency_key=key)
    console.print(f"offer {offer_id} defined")


@main.command("open-account")
@click.argument("account")
@click.option("--billing-day", required=True, type=int, help="Day of the month invoices are cut (1-31).")
@click.option("--name")
@click.option("--currency")
@click.option("--locale", help="Language of its invoices: en_US (default), it_IT, nl_NL, nb_NO.")
@click.option("--date", "day", type=DATE, help="Effective date [default: today].")
@idempotency_option
@pass_context
def open_account_command(ctx: Context, account: str, billing_day: int, name: str | None,
                         currency: str | None, locale: str | None, day: date | None,
                         key: str | None) -> None:
    """Open a billing account."""
    with ctx.ledger() as ledger, reported():
        ledger.open_account(account, billing_day=billing_day, name=name, currency=currency,
                            locale=locale, effective_date=day, idempotency_key=key)
    console.print(f"account {account} opened")


def subscription_command(name: str, help_text: str) -> Callable[[Callable[..., None]], Any]:
    """A command on one subscription: ACCOUNT SUBSCRIPTION [...] [--date DATE]."""

    def register(function: Callable[..., None]) -> Any:
        function = idempotency_option(function)
        function = click.option("--date", "day", type=DATE,
                                help="Effective date [default: today].")(function)
        function = click.argument("subscription")(function)
        function = click.argument("account")(function)
        return main.command(name, help=help_text)(pass_context(function))

    return register


@subscription_command("purchase", "Buy licenses of an offer as a new subscription.")
@click.option("--offer", required=True)
@click.option("--quantity", required=True, type=int)
@click.option("--trial", is_flag=True, help="Start as a trial.")
@click.option("--trial-days", type=int, default=30, show_default=True)
@click.option("--auto-renew/--no-auto-renew", default=True, show_default=True)
def purchase_command(ctx: Context, account: str, subscription: str, day: date | None, offer: str,
                     quantity: int, trial: bool, trial_days: int, auto_renew: bool,
                     key: str | None) -> None:
    with ctx.ledger() as ledger, reported():
        ledger.purchase(account, subscription, offer, quantity, effective_date=day, trial=trial,
                        trial_days=trial_days, auto_renew=auto_renew, idempotency_key=key)
    console.print(f"{account}/{subscription}: purchased {quantity} x {offer}")


@subscription_command("change-quantity", "Set a subscription's number of licenses (the new total).")
@click.argument("quantity", type=int)
def change_quantity_command(ctx: Context, account: str, subscription: str, day: date | None,
                            quantity: int, key: str | None) -> None:
    with ctx.ledger() as ledger, reported():
        ledger.change_quantity(account, subscription, quantity, effective_date=day,
                               idempotency_key=key)
    console.print(f"{account}/{subscription}: {quantity} licenses")


@subscription_command("suspend", "Suspend a subscription.")
def suspend_command(ctx: Context, account: str, subscription: str, day: date | None,
                    key: str | None) -> None:
    with ctx.ledger() as ledger, reported():
        ledger.suspend(account, subscription, effective_date=day, idempotency_key=key)
    console.print(f"{account}/{subscription}: suspended")


@subscription_command("reactivate", "Reactivate a suspended subscription.")
def reactivate_command(ctx: Context, account: str, subscription: str, day: date | None,
                       key: str | None) -> None:
    with ctx.ledger() as ledger, reported():
        ledger.reactivate(account, subscription, effective_date=day, idempotency_key=key)
    console.print(f"{account}/{subscription}: reactivated")


@subscription_command("cancel", "Cancel a subscription (online needs fewer than 25 licenses).")
@click.option("--channel", type=click.Choice(["online", "assisted"]), default="online",
              show_default=True)
def cancel_command(ctx: Context, account: str, subscription: str, day: date | None,
                   channel: str, key: str | None) -> None:
    with ctx.ledger() as ledger, reported():
        ledger.cancel(account, subscription, channel=channel, effective_date=day,
                      idempotency_key=key)
    console.print(f"{account}/{subscription}: cancelled ({channel})")


@subscription_command("add-payment-method", "Add a payment method (a trial then converts at its end).")
def add_payment_method_command(ctx: Context, account: str, subscription: str,
                               day: date | None, key: str | None) -> None:
    with ctx.ledger() as ledger, reported():
        ledger.add_payment_method(account, subscription, effective_date=day, idempotency_key=key)
    console.print(f"{account}/{subscription}: payment method added")


@subscription_command("set-auto-renew", "Turn auto-renew on or off.")
@click.argument("setting", type=click.Choice(["on", "off"]))
def set_auto_renew_command(ctx: Context, account: str, subscription: str, day: date | None,
                           setting: str, key: str | None) -> None:
    with ctx.ledger() as ledger, reported():
        ledger.set_auto_renew(account, subscription, setting == "on", effective_date=day,
                              idempotency_key=key)
    console.print(f"{account}/{subscription}: auto-renew {setting}")


@main.command("record-payment")
@click.argument("account")
@click.argument("amount", type=DECIMAL)
@click.option("--date", "day", type=DATE)
@click.option("--reference", default="")
@idempotency_option
@pass_context
def record_payment_command(ctx: Context, account: str, amount: Decimal, day: date | None,
                           reference: str, key: str | None) -> None:
    """Record a payment received from an account."""
    with ctx.ledger() as ledger, reported():
        ledger.record_payment(account, amount, effective_date=day, reference=reference,
                              idempotency_key=key)
    console.print(f"{account}: payment of {amount} recorded")


# ---------------------------------------------------------------------------- billing
@main.command("bill")
@click.option("--until", "until", required=True, type=DATE,
              help="Cut every billing date up to and including this one.")
@pass_context
def bill_command(ctx: Context, until: date) -> None:
    """Advance through UNTIL: trial ends, renewals and billing dates, in date order."""
    with ctx.ledger() as ledger, reported():
        issued = ledger.bill(until)  # a pinned (--today) clock moves forward with the run
        rows = {row["invoice_number"]: row for row in ledger.invoices()}
    table = Table(title=f"Invoices issued through {until.isoformat()}", title_justify="left")
    for column in ("Invoice", "Account", "Billing date"):
        table.add_column(column)
    table.add_column("Amount due", justify="right")
    for number in issued:
        row = rows[number]
        table.add_row(number, row["account"], row["billing_date"], row["amount_due"])
    console.print(table if issued else f"nothing new to invoice through {until.isoformat()}")


def _invoice_account(ledger: Ledger, account: str | None, day: date) -> str:
    if account is not None:
        return account
    owners: list[str] = [row["account"] for row in ledger.invoices()
                         if row["billing_date"] == day.isoformat()]
    if len(owners) == 1:
        return owners[0]
    if not owners:
        raise UnknownInvoice(f"no invoice is dated {day.isoformat()}")
    fail(f"several accounts have invoices dated {day.isoformat()} ({', '.join(owners)}); "
         "name one with --account")


@main.command("recon")
@click.option("--date", "day", required=True, type=DATE, help="The billing date.")
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--account", help="Only this account [default: every account billed that date].")
@pass_context
def recon_command(ctx: Context, day: date, out: str, account: str | None) -> None:
    """Write a billing date's reconciliation file(s)."""
    with ctx.ledger() as ledger, reported():
        if account is not None:
            paths = [ledger.write_reconciliation(account, day, out)]
        else:
            owners = [row["account"] for row in ledger.invoices()
                      if row["billing_date"] == day.isoformat()]
            if not owners:
                raise UnknownInvoice(f"no invoice is dated {day.isoformat()}")
            folder = Path(out)
            paths = [ledger.write_reconciliation(owner, day, folder / owner if len(owners) > 1 else folder)
                     for owner in owners]
    for path in paths:
        console.print(f"wrote {path}")


@main.command("invoice")
@click.option("--date", "day", required=True, type=DATE, help="The billing date.")
@click.option("--account", help="The account [default: the one billed that date].")
@click.option("--format", "fmt", type=click.Choice(["table", "text", "json", "html"]), default="table",
              show_default=True)
@click.option("--locale", help="en_US, it_IT, nl_NL or nb_NO [default: the account's].")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead.")
@pass_context
def invoice_command(ctx: Context, day: date, account: str | None, fmt: str, locale: str | None,
                    out: str | None) -> None:
    """Show an issued invoice."""
    with ctx.ledger() as ledger, reported():
        key = _invoice_account(ledger, account, day)
        document = ledger.invoice(key, day)
        if fmt == "table" and out is not None:
            fmt = "text"  # a file gets the plain-text invoice
        text = {
            "text": lambda: ledger.invoice_text(key, day, locale),
            "html": lambda: ledger.invoice_html(key, day, locale),
            "json": lambda: ledger.invoice_json(key, day),
        }[fmt]() if fmt != "table" else None
    if out is not None and text is not None:
        Path(out).write_text(text, "utf-8")
        console.print(f"wrote {out}")
    elif text is not None:
        sys.stdout.write(text)
    else:
        console.print(billing_table(f"{document['invoice_number']} - {document['account_name']} - "
                                    f"{document['billing_date']}", document))
        console.print(f"balance brought forward {document['balance_brought_forward']}, payments "
                      f"{document['payments_received']}, amount due {document['amount_due']} "
                      f"{document['currency']}")


@main.command("invoices")
@click.option("--account")
@pass_context
def invoices_command(ctx: Context, account: str | None) -> None:
    """List issued invoices."""
    with ctx.ledger() as ledger, reported():
        rows = ledger.invoices(account)
    table = Table(title="Issued invoices", title_justify="left")
    for column in ("Invoice", "Account", "Billing date", "Digest (SHA-256)"):
        table.add_column(column)
    table.add_column("Amount due", justify="right")
    for row in rows:
        table.add_row(row["invoice_number"], row["account"], row["billing_date"], row["digest"][:16],
                      row["amount_due"])
    console.print(table)


@main.command("preview")
@click.option("--account", required=True)
@click.option("--date", "day", type=DATE, help="The next billing date to cut (a check; it is the default).")
@pass_context
def preview_command(ctx: Context, account: str, day: date | None) -> None:
    """The lines the next billing date would hold, issuing nothing."""
    with ctx.ledger() as ledger, reported():
        lines = ledger.preview(account, day)
        when = day or ledger.next_billing_date(account)
    console.print(lines_table(f"{account} - preview of {when.isoformat()} (nothing issued)", lines)
                  if lines else f"{account}: nothing to post on {when.isoformat()}")


# ---------------------------------------------------------------------------- audit
@main.command("rebuild")
@pass_context
def rebuild_command(ctx: Context) -> None:
    """Empty every view and rebuild it from the log."""
    with ctx.ledger() as ledger, reported(), progress_bar("rebuilding views") as update:
        count = ledger.rebuild(update)
    console.print(f"rebuilt the views from {count} events")


@main.command("project")
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--verbose", is_flag=True, help="Print the tracked position after every batch.")
@click.option("--follow", is_flag=True, help="Keep following the log (a projection worker).")
@click.option("--interval", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="With --follow: seconds between polls when the log is quiet.")
@click.option("--pause", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Seconds to rest between batches, to spare a busy database.")
@pass_context
def project_command(ctx: Context, batch_size: int, verbose: bool, follow: bool,
                    interval: float, pause: float) -> None:
    """Bring the views up to date with the log (every read does this first). Several of these
    may run at once, on any machine: each batch's rows and position commit together, and a
    batch another worker committed first is skipped."""
    with ctx.ledger() as ledger, reported(), progress_bar("projecting") as update:

        def report(done: int, total: int) -> None:
            update(done, total)
            if verbose:
                print(f"at {done}", flush=True)

        count = ledger.catch_up(report, batch_size=batch_size, pause=pause)
        while follow:
            time.sleep(interval)
            count += ledger.catch_up(report)
    console.print(f"projected {count} events")


@main.command("verify")
@click.option("--account")
@click.option("--anchor", "anchor_files", multiple=True, type=click.Path(dir_okay=False),
              help="A head kept outside the database (from `anchor`) or a customer's invoice "
                   "JSON; may be given more than once.")
@pass_context
def verify_command(ctx: Context, account: str | None, anchor_files: tuple[str, ...]) -> None:
    """Check the log's seals, every issued invoice, the snapshots and the views against the
    events; exit 1 with one line per finding when anything differs."""
    anchors = []
    for path in anchor_files:
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise Failure(f"{path}: cannot read it: {error}") from None
        with reported():
            anchors.append(verification.parse_anchor(text, path))
    with ctx.ledger() as ledger, reported(), progress_bar("verifying") as update:
        result = ledger.verify(account, anchors=anchors, progress=update)
    table = Table(title="Verification of issued invoices", title_justify="left")
    for column in ("Invoice", "Account", "Billing date", "Result"):
        table.add_column(column)
    for check in result.checks:
        outcome = ("matches" + ("" if check.rerated else " (recorded facts; issued under older rules)")
                   if check.ok else "DIFFERS")
        table.add_row(check.invoice_number, check.account, check.billing_date.isoformat(), outcome)
    console.print(table)
    for note in result.notes:
        console.print(f"note: {note}")
    for finding in result.findings:
        errors.print(f"finding: {finding}", markup=False)
    if not result.ok:
        raise CheckFailed(f"{len(result.findings)} finding(s) in {result.positions} log positions "
                          f"and {len(result.checks)} invoices")
    console.print(f"all {len(result.checks)} invoices match; the log's {result.positions} "
                  f"positions{', anchors' if anchors else ''} and the views agree")


@main.command("anchor")
@pass_context
def anchor_command(ctx: Context) -> None:
    """Print the log's position and head as JSON: keep it outside the database, and check the
    log against it later with `verify --anchor FILE`."""
    with ctx.ledger() as ledger, reported():
        point = ledger.anchor()
    sys.stdout.write(json.dumps(point, sort_keys=True) + "\n")


@main.command("explain")
@click.argument("invoice_number")
@click.argument("line", type=int)
@pass_context
def explain_command(ctx: Context, invoice_number: str, line: int) -> None:
    """The events and the arithmetic behind LINE (1-based) of an issued invoice."""
    with ctx.ledger() as ledger, reported():
        found = ledger.explain(invoice_number, line)
    item = found.line
    console.print(f"{found.invoice_number} line {line}: {item['subscription']} "
                  f"{item['start']}..{item['end']} {item['charge_type']} "
                  f"{item['unit_price']} x {item['quantity']} = {item['amount']}")
    console.print(f"arithmetic: {found.arithmetic}")
    if found.reversed_line is not None:
        rev = found.reversed_line
        console.print(f"reverses line {rev['number']} of {found.reversed_in}: {rev['charge_type']} "
                      f"{rev['amount']} ({rev['basis']})")
    table = Table(title="Events behind this line", title_justify="left")
    for column in ("Event", "Version", "Effective", "Recorded (UTC)", "Details"):
        table.add_column(column)
    for ev in found.events:
        table.add_row(ev.type, str(ev.version), ev.effective_date or "", ev.recorded_at, ev.details)
    console.print(table)


@main.command("history")
@click.argument("account")
@click.argument("subscription")
@click.option("--as-of", type=DATE, help="State as effective on this business date.")
@click.option("--known-at", type=INSTANT, help="Counting only what was recorded by this instant.")
@pass_context
def history_command(ctx: Context, account: str, subscription: str, as_of: date | None,
                    known_at: datetime | None) -> None:
    """A subscription's state on any date, as known at any instant."""
    with ctx.ledger() as ledger, reported():
        found = ledger.history(account, subscription, as_of=as_of, known_at=known_at)
    title = f"{account}/{subscription}"
    title += f" as effective on {as_of.isoformat()}" if as_of else ""
    title += f", as known at {known_at.isoformat()}" if known_at else ""
    state = Table(title=title, title_justify="left", show_header=False)
    for key, value in found.state.items():
        state.add_row(key, "" if value is None else str(value))
    console.print(state)
    events = Table(title="Events", title_justify="left")
    for column in ("Event", "Version", "Effective", "Recorded (UTC)", "Details"):
        events.add_column(column)
    for ev in found.events:
        events.add_row(ev.type, str(ev.version), ev.effective_date or "", ev.recorded_at, ev.details)
    console.print(events)


@main.command("feed")
@click.option("--after", type=click.IntRange(min=0), default=0, show_default=True,
              help="The position of the last record already handled.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many records.")
@pass_context
def feed_command(ctx: Context, after: int, limit: int | None) -> None:
    """The event feed as JSON lines (one record per line), from a position on."""
    with ctx.ledger() as ledger, reported():
        for record in ledger.feed(after, limit):
            sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")


@main.command("accounts")
@pass_context
def accounts_command(ctx: Context) -> None:
    """List billing accounts."""
    with ctx.ledger() as ledger, reported():
        rows = ledger.accounts()
    table = Table(title="Accounts", title_justify="left")
    for column in ("Account", "Name", "Billing day", "Currency", "Last billing date", "Last amount due"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["account"], row["name"], str(row["billing_day"]), row["currency"] or "",
                      row["last_billing_date"] or "", row["last_amount_due"] or "")
    console.print(table)


# ---------------------------------------------------------------------------- entry points
def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status. Usage errors print one line, like every other
    error."""
    try:
        main.main(args=list(argv) if argv is not None else None, prog_name="billing-ledger",
                  standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        errors.print("error: aborted")
        return 130
    except click.ClickException as failure:
        if isinstance(failure, Failure):
            failure.show()
        else:
            errors.print(f"error: {failure.format_message()}", markup=False)
        return failure.exit_code
    except SystemExit as done:
        return int(done.code or 0) if not isinstance(done.code, str) else 1
    except OSError as failure:  # a file that cannot be read or written (an output path)
        where = f"{failure.filename}: " if failure.filename else ""
        errors.print(f"error: {where}{failure.strerror or failure}", markup=False)
        return 2
    return 0


def entry() -> None:
    sys.exit(run())
