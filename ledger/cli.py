"""``billing-ledger``: the command line.

Errors the ledger raises on purpose print one line and exit non-zero, never a traceback:
exit 2 for invalid input (an invalid scenario, a bad date, an unknown account), exit 1 when
a check fails (a scenario's ``expect``, a ``verify``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from ledger import scenario as scenarios
from ledger.errors import LedgerError
from ledger.simulation import Simulation, simulate, write_files

F = TypeVar("F", bound=Callable[..., Any])

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)
if not console.is_terminal:  # files and pipes get whole table rows, not 80-column wraps
    console.width = 160


class Failure(click.ClickException):
    """Invalid input: a one-line error and exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        errors.print(f"error: {self.message}", markup=False)


class CheckFailed(Failure):
    """A check did not hold (an expect section, a verification): exit status 1."""

    exit_code = 1


def seed_scenarios() -> list[Path]:
    """The six scenarios of Partner Center's annual-billing article, shipped with the package."""
    folder = resources.files("ledger") / "scenarios" / "seed"
    return sorted(Path(str(item)) for item in folder.iterdir() if item.name.endswith(".yaml"))


def billing_table(title: str, document: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("Subscription", "Start", "End", "Charge type"):
        table.add_column(column)
    for column in ("Unit price", "Qty", "Amount"):
        table.add_column(column, justify="right")
    for group in document["subscriptions"]:
        for line in group["lines"]:
            table.add_row(line["subscription"], line["start"], line["end"], line["charge_type"],
                          line["unit_price"], str(line["quantity"]), line["amount"])
    table.add_section()
    table.add_row("", "", "", "Total", "", "", document["total"])
    return table


def show_simulation(result: Simulation) -> None:
    for day, document in sorted(result.documents.items()):
        title = f"{result.scenario.account} - billing date {day.isoformat()} - {document['invoice_number']}"
        console.print(billing_table(title, document))


def _load(path: str) -> scenarios.Scenario:
    try:
        scenario = scenarios.load(path)
    except scenarios.ScenarioError as error:
        raise Failure(str(error)) from None
    scenarios.warn(scenario)
    return scenario


def _run(scenario: scenarios.Scenario, db: str | None) -> Simulation:
    try:
        return simulate(scenario, db)
    except LedgerError as error:
        raise Failure(str(error)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="billing-ledger")
def main() -> None:
    """An event-sourced billing ledger for license-based subscriptions."""


@main.command("simulate")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder for reconciliation-YYYY-MM-DD.csv files.")
@click.option("--db", type=click.Path(dir_okay=False),
              help="SQLite file to keep the ledger in (default: a temporary file).")
@click.option("--quiet", "-q", is_flag=True, help="Print no tables.")
def simulate_command(scenario_file: str, out: str, db: str | None, quiet: bool) -> None:
    """Play a scenario file and write each billing date's reconciliation file.

    Exit 0 when it ran (and matched its expect section), 1 when lines differ from expect,
    2 when the scenario is invalid (nothing is written then).
    """
    result = _run(_load(scenario_file), db)
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
@click.option("--db", default="demo.sqlite", show_default=True, type=click.Path(dir_okay=False),
              help="SQLite file for the demo ledger (replaced on every run).")
@click.option("--out", default="demo-output", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the reconciliation files, one sub-folder per scenario.")
def demo_command(db: str, out: str) -> None:
    """Run the six scenarios of Partner Center's annual-billing article on one SQLite file,
    write their reconciliation files, and print each billing date."""
    database = Path(db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    failures: list[str] = []
    for path in seed_scenarios():
        scenario = _load(str(path))
        result = _run(scenario, str(database))
        folder = Path(out) / path.stem
        written = write_files(result, folder)
        console.rule(f"{path.stem}")
        show_simulation(result)
        console.print(f"{len(written)} reconciliation file(s) in {folder}; "
                      f"{'matches the article' if result.matches else 'DIFFERS from the article'}")
        if not result.matches:
            failures.append(path.stem)
    console.print(f"\nledger: {database.resolve()}")
    if failures:
        raise CheckFailed(f"scenarios differ from the article: {', '.join(failures)}")


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI in-process and return its exit status (for tests and embedding)."""
    try:
        main.main(args=list(argv) if argv is not None else None, prog_name="billing-ledger",
                  standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as failure:
        failure.show()
        return failure.exit_code
    except SystemExit as done:
        return int(done.code or 0)
    return 0
