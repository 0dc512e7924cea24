"""``billing-ledger``: the command line, on a persistent ledger (``--db``, the
``BILLING_LEDGER_DB`` environment variable, or ``./ledger.sqlite``).

Every command goes through :class:`billing_ledger.api.Ledger`. Errors the ledger raises on purpose
(and bad arguments) print one line and exit non-zero without a traceback: 2 for invalid
input (a bad date, an unknown account or invoice, a missing database, an invalid scenario),
1 when a check fails (a scenario's ``expect``, ``verify``), 3 when the database itself
fails, 4 for an unexpected internal error (a bug). Output cut short by a closed pipe ends
quietly with 141.

Commands other than ``init``, ``simulate`` and ``demo`` never create a database; the read
commands open it read-only and write nothing. Everything printed from user data is printed
literally: the consoles interpret no markup, emoji codes or highlighting.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, fields
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from billing_ledger import outputs
from billing_ledger import scenario as scenarios
from billing_ledger.api import STORE_FAILURES, Ledger, default_location, sqlite_reader
from billing_ledger.simulation import Simulation, simulate, staged, write_files
from ledger import bounds
from ledger.charges import ChargeLine
from ledger.clock import Clock, SystemClock, TestClock, start_of
from ledger.commands import (
    AddPaymentMethod,
    Cancel,
    ChangeQuantity,
    Command,
    DefineOffer,
    OpenAccount,
    Purchase,
    Reactivate,
    RecordPayment,
    SetAutoRenew,
    Suspend,
)
from ledger.errors import (
    BillingRunIncomplete,
    LedgerError,
    NotALedger,
    StoreError,
    UnknownInvoice,
    WorkerDied,
)
from ledger.eventstore import is_postgres, sqlite_path
from ledger.money import format_money
from ledger.offers import OfferTerms
from ledger.scheduler import BillRun
from ledger.workers import MAX_WORKERS
from projections import journal, verification
from projections.reconciliation import file_name as reconciliation_file_name


class PipeClosed(BaseException):
    """Whoever read the output stopped (``| head``): :func:`run` ends quietly. (Not an
    OSError, which click would turn into exit status 1 itself.)"""


class _Console(Console):
    """A console that prints text as it is (no markup, emoji codes or highlighting) and
    reports a closed pipe to :func:`run` instead of exiting by itself."""

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, soft_wrap=True, **options)

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise PipeClosed


def write_out(text: str) -> None:
    """Text to stdout as it is (a document, JSON lines)."""
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        raise PipeClosed from None


console = _Console()
errors = _Console(stderr=True)
EXIT_CHECK, EXIT_INPUT, EXIT_STORE, EXIT_INTERNAL, EXIT_PIPE = 1, 2, 3, 4, 141


def one_line(message: str) -> str:
    """A message on one line (a driver's error may span several)."""
    return " ".join(line.strip() for line in str(message).splitlines() if line.strip())


class Failure(click.ClickException):
    """Invalid input: a one-line error and exit status 2."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))

    def show(self, file: Any = None) -> None:
        errors.print(f"error: {self.message}")


class CheckFailed(Failure):
    """A check did not hold (an expect section, a verification): exit status 1."""

    exit_code = EXIT_CHECK


class StoreFailed(Failure):
    """The database itself failed: exit status 3."""

    exit_code = EXIT_STORE


class InternalFailure(Failure):
    """Something the ledger did not expect (a bug): exit status 4."""

    exit_code = EXIT_INTERNAL


def failure(error: BaseException) -> Failure:
    """The one-line failure (and exit status) for an error."""
    if isinstance(error, BillingRunIncomplete):
        kind = type(failure(error.cause))
        return kind(str(error))
    if isinstance(error, (StoreError, WorkerDied)):
        return StoreFailed(str(error))
    if isinstance(error, LedgerError):
        return Failure(str(error))
    if isinstance(error, STORE_FAILURES):
        return StoreFailed(f"database error: {error}")
    if isinstance(error, OSError):  # a file that cannot be read or written (an output path)
        where = f"{error.filename}: " if error.filename else ""
        return Failure(f"{where}{error.strerror or error}")
    return InternalFailure(f"internal error ({type(error).__name__}: {error}); please report it")


# ---------------------------------------------------------------------------- arguments
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str) -> date:
    """A YYYY-MM-DD date; ValueError saying whether the form or the day is wrong."""
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"{bounds.shown(text)} is not a date in ISO 8601 (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"no such day: {text}") from None


class DateType(click.ParamType[date]):
    name = "DATE"

    def convert(self, value: Any, param: Any, ctx: Any) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_date(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class InstantType(click.ParamType[datetime]):
    name = "INSTANT"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        text = str(value)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            day = text[:10]
            if _ISO_DATE.fullmatch(day):
                try:
                    date.fromisoformat(day)
                except ValueError:
                    self.fail(f"no such day: {day}", param, ctx)
            self.fail(f"{bounds.shown(text)} is not an ISO 8601 date-time (2018-03-15T12:00:00Z)",
                      param, ctx)
        try:
            return bounds.instant(moment if moment.tzinfo else moment.replace(tzinfo=UTC),
                                  "the date-time")
        except LedgerError as error:
            self.fail(str(error), param, ctx)


class DecimalType(click.ParamType[Decimal]):
    name = "DECIMAL"

    def convert(self, value: Any, param: Any, ctx: Any) -> Decimal:
        try:
            return Decimal(str(value))
        except InvalidOperation:
            self.fail(f"{bounds.shown(value)} is not a decimal number", param, ctx)


DATE, INSTANT, DECIMAL = DateType(), InstantType(), DecimalType()
#: What a command does to the store: ``create`` it (init), ``write`` to an existing one
#: (commands; they then bring the views up to date), ``maintain`` an existing ledger's
#: views (rebuild, project), or only ``read`` it (read-only: nothing is created or written).
Mode = Literal["create", "write", "maintain", "read"]


class Context:
    def __init__(self, db: str | None, explicit_db: bool, today: date | None,
                 partner_id: str) -> None:
        self.db = db or default_location()  # None: the eventsourcing variables say where
        self.explicit_db = db if explicit_db else None  # given as --db on the command line
        self.today = today
        self.partner_id = partner_id

    def clock(self) -> Clock:
        return TestClock(self.today) if self.today is not None else SystemClock()

    def open(self, mode: Mode) -> Ledger:
        try:
            if mode == "maintain":  # refuse what is not a ledger before touching it
                Ledger(self.db, read_only=True).close()
            return Ledger(self.db, clock=self.clock(), create=mode == "create",
                          read_only=mode == "read", partner_id=self.partner_id)
        except Exception as error:
            raise failure(error) from None

    @contextmanager
    def ledger(self, mode: Mode = "write") -> Iterator[Ledger]:
        ledger = self.open(mode)
        try:
            with reported():
                if mode == "write" and self.today is not None:
                    self._check_clock(ledger)
                yield ledger
            if mode == "write":
                project_quietly(ledger)
        finally:
            ledger.close()

    def _check_clock(self, ledger: Ledger) -> None:
        """A pinned clock may not record before what the log already holds: recorded times
        never go back."""
        last = ledger.last_recorded_at()
        assert self.today is not None
        if last is not None and start_of(self.today) < last:
            raise Failure(f"--today {self.today.isoformat()} is before the ledger's last recorded "
                          f"time ({last.isoformat()}): recorded times never go back")


def project_quietly(ledger: Ledger) -> None:
    """After a command recorded something: bring the views up to date, so that the read
    commands (which write nothing) find them current. The events are recorded already, so a
    failure here is a note, not an error: the next read catches up in memory."""
    try:
        ledger.catch_up()
    except LedgerError as error:
        errors.print(f"note: the views were not brought up to date ({one_line(str(error))}); "
                     "reads still see everything; `billing-ledger project` updates them")


pass_context = click.make_pass_decorator(Context)

idempotency_option = click.option(
    "--idempotency-key", "key", metavar="KEY",
    help="Repeat-safe: the same key and arguments again return the first result and record "
         "nothing; the same key with other arguments is refused.")


@contextmanager
def reported() -> Iterator[None]:
    """Turn errors into one-line failures with the documented exit status."""
    try:
        yield
    except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except Exception as error:
        raise failure(error) from None


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
    """A progress bar (done / total) on stderr when it is a terminal; nothing in a pipe."""
    if not errors.is_terminal:
        yield lambda done, total: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=errors, transient=False) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def seed_scenarios() -> list[Path]:
    """The six scenarios of Partner Center's annual-billing article, shipped with the package."""
    folder = resources.files("billing_ledger") / "scenarios" / "seed"
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
    explicit = ctx.get_parameter_source("db") == click.core.ParameterSource.COMMANDLINE
    ctx.obj = Context(db, explicit, today, partner_id)


# ---------------------------------------------------------------------------- scenarios
def _load(path: str) -> scenarios.Scenario:
    try:
        scenario = scenarios.load(path)
    except scenarios.ScenarioError as error:
        raise Failure(str(error)) from None
    scenarios.warn(scenario)
    return scenario


def _play_file(ctx: Context, option: str | None, default: str | None, *,
               postgres: bool) -> str | None:
    """The store ``simulate`` or ``demo`` plays into: its own ``--db``, or the global
    ``--db`` given on the command line (not ``BILLING_LEDGER_DB``: a scenario is never played
    into the ledger the environment names by accident). An existing SQLite file must hold a
    ledger; ``postgres``: a PostgreSQL URL is accepted."""
    chosen = option
    if ctx.explicit_db is not None:
        if option is not None and option != ctx.explicit_db:
            fail(f"two ledger files given: --db {ctx.explicit_db} before the command and "
                 f"--db {option} after it; give one")
        chosen = ctx.explicit_db
    chosen = chosen if chosen is not None else default
    if chosen is None:
        return None
    if is_postgres(chosen):
        if not postgres:
            fail("demo plays into a SQLite file (the new demo ledger replaces it only when "
                 f"every scenario succeeded); {bounds.shown(chosen)} is a PostgreSQL URL")
        return chosen
    with reported():
        path = sqlite_path(chosen)
        assert path is not None
        if postgres and path.exists():
            sqlite_reader(str(path))  # an existing file must be a ledger (NotALedger)
    return str(path)


@main.command("simulate")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder for reconciliation-YYYY-MM-DD.csv files.")
@click.option("--db", "scenario_db", metavar="PATH|URL",
              help="SQLite file (or PostgreSQL URL) to keep the ledger in, which must not hold "
                   "the scenario's account yet (default: a temporary file; the global --db, "
                   "given before the command, is the same option).")
@click.option("--quiet", "-q", is_flag=True, help="Print no tables.")
@pass_context
def simulate_command(ctx: Context, scenario_file: str, out: str, scenario_db: str | None,
                     quiet: bool) -> None:
    """Play a scenario file and write each billing date's reconciliation file.

    Exit 0 when it ran (and matched its expect section), 1 when lines differ from expect,
    2 when the scenario is invalid (nothing is written then, and --db is left as it was).
    """
    db = _play_file(ctx, scenario_db, None, postgres=True)
    scenario = _load(scenario_file)
    written: list[Path] = []
    with reported():
        outputs.check_writable(out)  # before playing: a play that cannot write leaves nothing
        result = simulate(scenario, db, ctx.partner_id,
                          before_commit=lambda done: written.extend(write_files(done, out)))
    for path in written:
        if not quiet:
            console.print(f"wrote {path}")
    if not quiet:
        show_simulation(result)
    if not result.matches:
        errors.print("lines differ from expect:")
        for line in result.diff:
            errors.print(line)
        sys.exit(EXIT_CHECK)


def _demo_accounts() -> dict[Path, scenarios.Scenario]:
    return {path: _load(str(path)) for path in seed_scenarios()}


def _replaceable(database: Path, accounts: set[str]) -> None:
    """Refuse to replace a file that is not a previous demo ledger."""
    if not database.exists():
        return
    try:
        with Ledger(database, read_only=True) as ledger:
            held = ledger.app.account_keys()
    except NotALedger:
        fail(f"{database} exists and is not a billing ledger; demo replaces only a previous "
             "demo ledger: give another --db")
    except Exception as error:
        raise failure(error) from None
    others = [key for key in held if key not in accounts]
    if others or not held:
        what = f"account {others[0]!r}" if others else "no demo account"
        fail(f"{database} holds a ledger that is not a demo ledger ({what}); demo replaces "
             "only a previous demo ledger: give another --db")


@main.command("demo")
@click.option("--db", "demo_db", default=None, type=click.Path(dir_okay=False),
              help="SQLite file for the demo [default: demo.sqlite] (replaced each run; a file "
                   "holding any other ledger is refused).")
@click.option("--out", default="demo-output", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the reconciliation files, one sub-folder per scenario.")
@pass_context
def demo_command(ctx: Context, demo_db: str | None, out: str) -> None:
    """Run the six scenarios of Partner Center's annual-billing article on one SQLite file,
    write their reconciliation files, and print each billing date."""
    database = Path(_play_file(ctx, demo_db, "demo.sqlite", postgres=False) or "demo.sqlite")
    seeds = _demo_accounts()
    _replaceable(database, {scenario.account for scenario in seeds.values()})
    results: dict[str, Simulation] = {}
    written: dict[str, list[Path]] = {}
    with reported():
        outputs.check_writable(out)
        with staged(database, fresh=True) as location:
            for path, scenario in seeds.items():
                results[path.stem] = simulate(scenario, location, atomic=False)
            # Every file's name is checked before any is written, and the ledger replaces
            # the old one only once they all are.
            plans = {stem: outputs.plan(out, [[stem, name] for name in result.files])
                     for stem, result in results.items()}
            for stem, paths in plans.items():
                outputs.write(dict(zip(paths, results[stem].files.values(), strict=True)))
                written[stem] = paths
    failures: list[str] = []
    for stem, result in results.items():
        console.rule(stem)
        show_simulation(result)
        console.print(f"{len(written[stem])} reconciliation file(s) in {Path(out) / stem}; "
                      f"{'matches the article' if result.matches else 'DIFFERS from the article'}")
        if not result.matches:
            failures.append(stem)
    console.print(f"\nledger: {database.resolve()}")
    if failures:
        raise CheckFailed(f"scenarios differ from the article: {', '.join(failures)}")


# ---------------------------------------------------------------------------- recording
@main.command("init")
@pass_context
def init_command(ctx: Context) -> None:
    """Create an empty ledger (tables for events and views)."""
    with ctx.ledger("create"):
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
    command = DefineOffer(OfferTerms.create(
        offer_id, price=price, currency=currency, term=term, billing=billing,
        convention=convention, name=name, daily_rate_places=daily_rate_places,
        refund_window_days=refund_window_days, rounding=rounding), idempotency_key=key)
    with ctx.ledger() as ledger:
        ledger.handle(command)
    console.print(f"offer {offer_id} defined")


@dataclass(frozen=True)
class Param:
    """How a command's field is given on the command line: a positional argument (no
    ``flags``) or an option; ``convert`` maps what was typed to the field's value."""

    flags: tuple[str, ...] = ()
    type: Any = None
    required: bool = False
    help: str | None = None
    is_flag: bool = False
    show_default: bool = False
    metavar: str | None = None
    convert: Callable[[Any], Any] | None = None

    def decorate(self, name: str, default: Any, function: Any) -> Any:
        if not self.flags:
            return click.argument(name, type=self.type, metavar=self.metavar)(function)
        extra: dict[str, Any] = {"is_flag": True} if self.is_flag else {"type": self.type}
        return click.option(*self.flags, name, required=self.required, help=self.help,
                            default=None if self.required else default,
                            show_default=self.show_default, **extra)(function)


EFFECTIVE = Param(("--date",), type=DATE, help="Effective date [default: today].")


def recording(command: type[Command[Any]], name: str, done: Callable[[Any], str],
              **params: Param) -> None:
    """Register ``billing-ledger NAME``: it builds ``command`` from what is typed (each
    field an argument, or an option as ``params`` say), handles it on the ledger, and prints
    ``done(command)``. Its help is the command's own documentation. ``account`` and
    ``subscription`` are arguments and ``effective_date`` is ``--date`` unless said
    otherwise; every recording command takes ``--idempotency-key``."""
    defaults = {"account": Param(), "subscription": Param(), "effective_date": EFFECTIVE}
    given = [f for f in fields(command) if f.name not in {"idempotency_key", "_"}]

    def callback(ctx: Context, key: str | None, **typed: Any) -> None:
        values = {}
        for f in given:
            param = params.get(f.name) or defaults.get(f.name) or Param()
            value = typed[f.name]
            values[f.name] = param.convert(value) if param.convert is not None else value
        value = command(**values, idempotency_key=key)
        with ctx.ledger() as ledger:
            ledger.handle(value)
        console.print(done(value))

    function: Any = pass_context(callback)
    for f in reversed(given):  # click applies decorators bottom-up: arguments keep their order
        param = params.get(f.name) or defaults.get(f.name) or Param(
            (f"--{f.name.replace('_', '-')}",))
        default = None if f.default is MISSING else f.default
        function = param.decorate(f.name, default, function)
    function = idempotency_option(function)
    main.command(name, help=(command.__doc__ or "").replace("``", ""))(function)


recording(OpenAccount, "open-account", lambda c: f"account {c.account} opened",
          billing_day=Param(("--billing-day",), type=int, required=True,
                            help="Day of the month invoices are cut (1-31)."),
          locale=Param(("--locale",), help="Language of its invoices: en_US (default), it_IT, "
                                            "nl_NL, nb_NO."))
recording(Purchase, "purchase", lambda c: f"{c.account}/{c.subscription}: purchased "
                                          f"{c.quantity} x {c.offer}",
          offer=Param(("--offer",), required=True),
          quantity=Param(("--quantity",), type=int, required=True),
          trial=Param(("--trial",), is_flag=True, help="Start as a trial."),
          trial_days=Param(("--trial-days",), type=int, show_default=True),
          auto_renew=Param(("--auto-renew/--no-auto-renew",), is_flag=True, show_default=True))
recording(ChangeQuantity, "change-quantity",
          lambda c: f"{c.account}/{c.subscription}: {c.quantity} licenses",
          quantity=Param(type=int))
recording(Suspend, "suspend", lambda c: f"{c.account}/{c.subscription}: suspended")
recording(Reactivate, "reactivate", lambda c: f"{c.account}/{c.subscription}: reactivated")
recording(Cancel, "cancel", lambda c: f"{c.account}/{c.subscription}: cancelled ({c.channel})",
          channel=Param(("--channel",), type=click.Choice(["online", "assisted"]),
                        show_default=True))
recording(AddPaymentMethod, "add-payment-method",
          lambda c: f"{c.account}/{c.subscription}: payment method added")
recording(SetAutoRenew, "set-auto-renew", lambda c: f"{c.account}/{c.subscription}: auto-renew "
                                                    f"{'on' if c.enabled else 'off'}",
          enabled=Param(type=click.Choice(["on", "off"]), metavar="on|off",
                        convert=lambda setting: setting == "on"))
recording(RecordPayment, "record-payment", lambda c: f"{c.account}: payment of {c.amount} recorded",
          amount=Param(type=DECIMAL), effective_date=Param(("--date",), type=DATE),
          reference=Param(("--reference",)))


# ---------------------------------------------------------------------------- billing
@main.command("bill")
@click.option("--until", "until", required=True, type=DATE,
              help="Cut every billing date up to and including this one (not after today).")
@click.option("--table", "show_table", is_flag=True,
              help="Also print a table of the invoices the run issued.")
@click.option("--workers", type=click.IntRange(1, MAX_WORKERS), default=1, show_default=True,
              help="Worker processes to split the accounts among (PostgreSQL only).")
@pass_context
def bill_command(ctx: Context, until: date, show_table: bool, workers: int) -> None:
    """Do everything due through UNTIL: trial ends, renewals and billing dates, in date
    order. UNTIL may not be after today (with --today too: the pinned clock does not move).
    A progress bar shows the accounts done (on a terminal); the run ends with one summary
    line. Dates another run cut first are counted as found done, not errors. With
    --workers N (PostgreSQL) N processes share the accounts; no account is cut by two.

    If the run stops at one account (a database failure), what it issued is printed, one
    line names the account and the cause, and running it again completes it."""
    stopped: BillingRunIncomplete | None = None
    run = BillRun()
    with ctx.ledger() as ledger, progress_bar("billing accounts") as update:
        try:
            run = ledger.bill(until, advance_clock=False, progress=update, workers=workers)
        except BillingRunIncomplete as error:
            stopped, run = error, BillRun(issued=list(error.issued))
        rows: dict[str, dict[str, Any]] = {}
        if show_table and run.issued:
            try:
                rows = {row["invoice_number"]: row for row in ledger.invoices()}
            except Exception:
                if stopped is None:
                    raise
    if show_table and run.issued:
        table = Table(title=f"Invoices issued through {until.isoformat()}", title_justify="left")
        for column in ("Invoice", "Account", "Billing date"):
            table.add_column(column)
        table.add_column("Amount due", justify="right")
        for number in run.issued:
            row = rows.get(number, {})
            table.add_row(number, row.get("account", ""), row.get("billing_date", ""),
                          row.get("amount_due", ""))
        console.print(table)
    if stopped is not None:
        if run.issued:
            console.print(f"issued before it stopped: {', '.join(run.issued)}")
        raise failure(stopped)
    console.print(run.summary(until))


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
    """Write a billing date's reconciliation file(s): OUT/reconciliation-DATE.csv, or with
    several accounts OUT/ACCOUNT/reconciliation-DATE.csv. Every file is read and every name
    checked before any is written."""
    name = reconciliation_file_name(day)
    with ctx.ledger("read") as ledger:
        if account is not None:
            owners = [account]
        else:
            owners = [row["account"] for row in ledger.invoices()
                      if row["billing_date"] == day.isoformat()]
            if not owners:
                raise UnknownInvoice(f"no invoice is dated {day.isoformat()}")
        contents = [ledger.reconciliation(owner, day) for owner in owners]
        names: list[list[str]] = [[owner, name] for owner in owners] if len(owners) > 1 else [[name]]
        paths = outputs.plan(out, names)
        outputs.write(dict(zip(paths, contents, strict=True)))
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
    with ctx.ledger("read") as ledger:
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
        with reported():
            Path(out).write_text(text, "utf-8")  # the file given, as it is (a device too)
        console.print(f"wrote {out}")
    elif text is not None:
        write_out(text)
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
    with ctx.ledger("read") as ledger:
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
    with ctx.ledger("read") as ledger:
        lines = ledger.preview(account, day)
        when = day or ledger.next_billing_date(account)
    console.print(lines_table(f"{account} - preview of {when.isoformat()} (nothing issued)", lines)
                  if lines else f"{account}: nothing to post on {when.isoformat()}")


# ---------------------------------------------------------------------------- audit
@main.command("rebuild")
@pass_context
def rebuild_command(ctx: Context) -> None:
    """Empty every view and rebuild it from the log."""
    with ctx.ledger("maintain") as ledger, progress_bar("rebuilding views") as update:
        count = ledger.rebuild(update)
    console.print(f"rebuilt the views from {count} events")


@main.command("project")
@click.option("--batch-size", type=click.IntRange(min=1, max=bounds.BATCH_MAX), default=500,
              show_default=True)
@click.option("--verbose", is_flag=True, help="Print the tracked position after every batch.")
@click.option("--follow", is_flag=True, help="Keep following the log (a projection worker).")
@click.option("--interval", type=click.FloatRange(min=0.01, max=3600), default=1.0,
              show_default=True,
              help="With --follow: seconds between polls when the log is quiet.")
@click.option("--pause", type=click.FloatRange(min=0, max=3600), default=0.0, show_default=True,
              help="Seconds to rest between batches, to spare a busy database.")
@pass_context
def project_command(ctx: Context, batch_size: int, verbose: bool, follow: bool,
                    interval: float, pause: float) -> None:
    """Bring the views up to date with the log (every read does this first). Several of these
    may run at once, on any machine: each batch's rows and position commit together, and a
    batch another worker committed first is skipped."""
    with ctx.ledger("maintain") as ledger, progress_bar("projecting") as update:

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
    with ctx.ledger("read") as ledger, progress_bar("verifying") as update:
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
        errors.print(f"finding: {finding}")
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
    with ctx.ledger("read") as ledger:
        point = ledger.anchor()
    write_out(json.dumps(point, sort_keys=True) + "\n")


@main.command("explain")
@click.argument("invoice_number")
@click.argument("line", type=int, required=False)
@pass_context
def explain_command(ctx: Context, invoice_number: str, line: int | None) -> None:
    """The events and the arithmetic behind LINE (1-based) of an issued invoice; given one
    journal entry instead (INVOICE:LINE, INVOICE:LINE:FIRST..LAST or
    ACCOUNT:payment:VERSION, as `journal` shows them), its postings and the events behind it."""
    if line is None:
        _explain_entry(ctx, invoice_number)
        return
    with ctx.ledger("read") as ledger:
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


def _explain_entry(ctx: Context, entry_id: str) -> None:
    with ctx.ledger("read") as ledger:
        found = ledger.explain_entry(entry_id)
    entry = found.entry
    console.print(f"{entry.entry_id} ({entry.kind}, {entry.day.isoformat()}, {entry.account}): "
                  f"{entry.narration}")
    postings = Table(title="Postings", title_justify="left")
    for column in ("Role", "Currency"):
        postings.add_column(column)
    for column in ("Debit", "Credit"):
        postings.add_column(column, justify="right")
    for posting in entry.postings:
        amount = format_money(abs(posting.amount), entry.currency)
        postings.add_row(posting.role.value, entry.currency,
                         amount if posting.amount > 0 else "", amount if posting.amount < 0 else "")
    console.print(postings)
    if entry.arithmetic:
        console.print(f"arithmetic: {entry.arithmetic}")
    if found.line is not None:
        item = found.line.line
        console.print(f"from {found.line.invoice_number} line {item['number']}: "
                      f"{item['subscription']} {item['start']}..{item['end']} {item['charge_type']} "
                      f"{item['amount']} ({found.line.arithmetic})")
    table = Table(title="Events behind this entry", title_justify="left")
    for column in ("Event", "Version", "Effective", "Recorded (UTC)", "Details"):
        table.add_column(column)
    for ev in found.events:
        table.add_row(ev.type, str(ev.version), ev.effective_date or "", ev.recorded_at, ev.details)
    console.print(table)


# ---------------------------------------------------------------------------- the books
NAME_OPTION = click.option(
    "--name", "names", multiple=True, metavar="ROLE=ACCOUNT",
    help="An account name for a role (receivable, deferred_revenue, revenue, cash); may be "
         "given more than once [defaults: Assets:Receivable, Liabilities:DeferredRevenue, "
         "Income:Revenue, Assets:Cash].")


def _account_names(pairs: Sequence[str]) -> journal.JournalAccounts:
    try:
        return journal.JournalAccounts.parse(pairs)
    except ValueError as error:
        raise Failure(f"--name {error}") from None


def _emit(content: str, out: str | None) -> None:
    if out is None:
        write_out(content)
        return
    with reported():
        Path(out).write_text(content, "utf-8")
    console.print(f"wrote {out}")


@main.command("journal")
@click.option("--format", "fmt", type=click.Choice(["csv", "beancount"]), default="csv",
              show_default=True)
@click.option("--as-of", "as_of", type=DATE,
              help="Entries dated on or before this date [default: today].")
@click.option("--account", help="One account's entries [default: every account's].")
@click.option("--daily", is_flag=True,
              help="Recognise revenue in one entry per line and day, not per line and month.")
@NAME_OPTION
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead.")
@pass_context
def journal_command(ctx: Context, fmt: str, as_of: date | None, account: str | None,
                    daily: bool, names: tuple[str, ...], out: str | None) -> None:
    """The double-entry journal: issued invoices, revenue recognised month by month (or day
    by day), and payments, as CSV (one row per posting) or beancount's plain-text format."""
    accounts = _account_names(names)
    with ctx.ledger("read") as ledger:
        content = (ledger.journal_csv(as_of, account=account, names=accounts,
                                      daily=daily).decode()
                   if fmt == "csv" else
                   ledger.journal_beancount(as_of, account=account, names=accounts,
                                            daily=daily))
    _emit(content, out)


@main.command("trial-balance")
@click.option("--as-of", "as_of", type=DATE, help="At the end of this date [default: today].")
@click.option("--account", help="One account's books [default: every account's].")
@click.option("--deferred", is_flag=True,
              help="Also list every invoice line still deferring revenue, and how much.")
@NAME_OPTION
@pass_context
def trial_balance_command(ctx: Context, as_of: date | None, account: str | None,
                          deferred: bool, names: tuple[str, ...]) -> None:
    """Each account's balance at the end of a date, debits and credits, per currency."""
    accounts = _account_names(names)
    with ctx.ledger("read") as ledger:
        day = as_of or ledger.today()
        balances = ledger.trial_balance(day, account=account)
        lines = ledger.deferred_revenue(day, account=account) if deferred else []
    table = Table(title=f"Trial balance at the end of {day.isoformat()}", title_justify="left")
    for column in ("Account", "Role", "Currency"):
        table.add_column(column)
    for column in ("Debit", "Credit"):
        table.add_column(column, justify="right")
    for currency in sorted({b.currency for b in balances}):
        rows = [b for b in balances if b.currency == currency]
        for b in rows:
            amount = format_money(abs(b.amount), currency)
            table.add_row(accounts.name(b.role), b.role.value, currency,
                          amount if b.amount > 0 else "", amount if b.amount < 0 else "")
        debits = sum((b.amount for b in rows if b.amount > 0), Decimal(0))
        credits = sum((-b.amount for b in rows if b.amount < 0), Decimal(0))
        table.add_section()
        table.add_row("Total", "", currency, format_money(debits, currency),
                      format_money(credits, currency))
    console.print(table)
    if deferred:
        listed = Table(title=f"Deferred revenue at the end of {day.isoformat()}",
                       title_justify="left")
        for column in ("Invoice", "Line", "Service period", "Currency"):
            listed.add_column(column)
        for column in ("Amount", "Deferred"):
            listed.add_column(column, justify="right")
        for item in lines:
            line = item.line
            listed.add_row(line.invoice_number, str(line.line_no),
                           f"{line.start.isoformat()}..{line.end.isoformat()}", line.currency,
                           format_money(line.amount, line.currency),
                           format_money(-item.amount, line.currency))
        console.print(listed)


@main.command("revenue")
@click.option("--from", "start", required=True, type=DATE, help="The first day.")
@click.option("--to", "end", required=True, type=DATE, help="The last day.")
@click.option("--account", help="One account's invoices [default: every account's].")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the CSV to this file.")
@pass_context
def revenue_command(ctx: Context, start: date, end: date, account: str | None, fmt: str,
                    out: str | None) -> None:
    """The revenue waterfall: revenue recognised in each month from --from to --to, by invoice."""
    with ctx.ledger("read") as ledger:
        fall = ledger.revenue(start, end, account=account)
    if fmt == "csv" or out is not None:
        _emit(fall.csv().decode(), out)
        return
    table = Table(title=f"Revenue recognised {start.isoformat()} to {end.isoformat()}",
                  title_justify="left")
    for column in ("Invoice", "Currency"):
        table.add_column(column)
    for column in (*fall.months, "Total"):
        table.add_column(column, justify="right")
    for row in fall.rows:
        table.add_row(row.invoice, row.currency,
                      *(format_money(a, row.currency) for a in (*row.months, row.total)))
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
    with ctx.ledger("read") as ledger:
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
@click.option("--after", type=click.IntRange(min=0, max=bounds.POSITION_MAX), default=0,
              show_default=True, help="The position of the last record already handled.")
@click.option("--limit", type=click.IntRange(min=1, max=bounds.POSITION_MAX),
              help="At most this many records.")
@pass_context
def feed_command(ctx: Context, after: int, limit: int | None) -> None:
    """The event feed as JSON lines (one record per line), from a position on."""
    with ctx.ledger("read") as ledger:
        for record in ledger.feed(after, limit):
            write_out(json.dumps(record, sort_keys=True) + "\n")


@main.command("accounts")
@pass_context
def accounts_command(ctx: Context) -> None:
    """List billing accounts."""
    with ctx.ledger("read") as ledger:
        rows = ledger.accounts()
    table = Table(title="Accounts", title_justify="left")
    for column in ("Account", "Name", "Billing day", "Currency", "Last billing date", "Last amount due"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["account"], row["name"], str(row["billing_day"]), row["currency"] or "",
                      row["last_billing_date"] or "", row["last_amount_due"] or "")
    console.print(table)


# ---------------------------------------------------------------------------- the server
TOKEN_MIN = 16


def is_loopback(host: str) -> bool:
    """Whether ``host`` is an address of this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; another than loopback needs BILLING_LEDGER_TOKEN.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8000, show_default=True)
@click.option("--read-only", is_flag=True,
              help="Open the ledger read-only: reads and pages only, every command refused (422).")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              default="info", show_default=True)
@pass_context
def serve_command(ctx: Context, host: str, port: int, read_only: bool, log_level: str) -> None:
    """Serve the ledger over HTTP: the JSON API under /api/v1 (its OpenAPI document at
    /openapi.json) and the audit pages at /. With BILLING_LEDGER_TOKEN set, every request
    needs it (Authorization: Bearer TOKEN; browsers sign in once); without one, the server
    listens on a loopback address only."""
    import uvicorn

    from billing_ledger.server.app import TOKEN_ENV, create_app

    token = os.environ.get(TOKEN_ENV) or None
    if token is not None and (len(token) < TOKEN_MIN or not token.isprintable() or len(token) > 500):
        fail(f"{TOKEN_ENV} must be {TOKEN_MIN}-500 printable characters (a random one: "
             "python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    if token is None and not is_loopback(host):
        fail(f"refusing to listen on {host} without a token: anyone who can reach it could "
             f"record and read everything; set {TOKEN_ENV}, or listen on 127.0.0.1")
    ledger = ctx.open("read" if read_only else "maintain")  # never creates, nor adopts a non-ledger
    try:
        if ctx.today is not None and not read_only:
            with reported():
                ctx._check_clock(ledger)  # a pinned clock may not record before the log's end
        app = create_app(ledger, token=token)
        where = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
        console.print(f"serving {ledger.location}{' (read-only)' if read_only else ''} at {where}/ "
                      f"(API {where}/api/v1, OpenAPI {where}/openapi.json); "
                      f"{'a bearer token is required' if token else 'no token: loopback only'}")
        with reported():
            uvicorn.run(app, host=host, port=port, log_level=log_level,
                        timeout_graceful_shutdown=5, server_header=False)
    finally:
        ledger.close()


# ---------------------------------------------------------------------------- entry points
def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status. Every error prints one line on stderr, never
    a traceback: usage errors and invalid input exit 2, failed checks 1, database failures
    3, anything unexpected 4; output cut short by a closed pipe ends quietly with 141."""
    try:
        try:
            main.main(args=list(argv) if argv is not None else None, prog_name="billing-ledger",
                      standalone_mode=False)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not at exit
    except (PipeClosed, BrokenPipeError):
        _quiet_stdout()
        return EXIT_PIPE
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        errors.print("error: aborted")
        return 130
    except click.ClickException as problem:
        if isinstance(problem, Failure):
            problem.show()
        else:
            errors.print(f"error: {one_line(problem.format_message())}")
        return problem.exit_code
    except SystemExit as done:
        return int(done.code or 0) if not isinstance(done.code, str) else 1
    except KeyboardInterrupt:
        errors.print("error: interrupted")
        return 130
    except Exception as error:  # the one place that turns any other error into a line
        unexpected = failure(error)
        unexpected.show()
        return int(unexpected.exit_code)
    return 0


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush at exit does not
    report the closed pipe again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        pass


def entry() -> None:
    sys.exit(run())
