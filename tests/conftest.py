"""Test fixtures: the storage backends every integration test runs on.

Tests that take the ``new_store`` fixture run once per backend: SQLite (a fresh file) and
PostgreSQL (a fresh schema in the ``test`` database on 127.0.0.1:5432, dropped afterwards).
``pytest --backend sqlite`` or ``--backend postgres`` runs just one. Without a reachable
PostgreSQL server its runs are skipped with the reason; under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from ledger.application import BillingApplication
from ledger.clock import TestClock
from ledger.eventstore import store_env

PG_ADMIN = os.environ.get("BILLING_LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
NewStore = Callable[..., str]

#: The hostile-input property tests (tests/api/test_hostile_calls.py,
#: tests/e2e/test_cli_hostile.py): a few examples on a developer's run; under CI=true 80
#: examples of 4 to 10 calls each, per test and backend: at least 4 x 80 x 2 x 2 = 1,280
#: generated inputs (about 1,800 in a typical run).
HOSTILE_PROFILE = "hostile-ci" if IN_CI else "hostile"
for _name, _examples in (("hostile", 8), ("hostile-ci", 80)):
    settings.register_profile(
        _name, max_examples=_examples, deadline=None, derandomize=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                               HealthCheck.data_too_large],
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=["all", "sqlite", "postgres"], default="all",
                     help="storage backend(s) for integration tests (default: all)")


def _postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can (creating the database if needed)."""
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3, autocommit=True):
            return None
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            return f"PostgreSQL is not reachable at {PG_ADMIN}: {str(error).strip().splitlines()[0]}"
    base, _, name = PG_ADMIN.rpartition("/")
    try:
        with psycopg.connect(f"{base}/postgres", connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        return f"cannot create database {name!r}: {str(error).strip().splitlines()[0]}"
    return None


_PG_PROBLEM: list[str | None] = []


def postgres_problem() -> str | None:
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_postgres_problem())
    return _PG_PROBLEM[0]


def backends(config: pytest.Config) -> list[str]:
    chosen = config.getoption("--backend")
    return ["sqlite", "postgres"] if chosen == "all" else [chosen]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", backends(metafunc.config), indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgres":
        problem = postgres_problem()
        if problem is not None:
            if IN_CI:
                pytest.fail(f"CI=true needs PostgreSQL: {problem}")
            pytest.skip(problem)
    return name


def make_schema() -> str:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def temporary_store(backend: str, folder: Path) -> Iterator[str]:
    """One empty store location on ``backend``, removed afterwards (for hypothesis examples,
    which cannot take a fresh fixture each)."""
    if backend == "sqlite":
        path = folder / f"s-{uuid.uuid4().hex[:12]}.sqlite"
        yield str(path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    schema = make_schema()
    try:
        yield f"{PG_ADMIN}?schema={schema}"
    finally:
        drop_schema(schema)


@pytest.fixture
def new_store(backend: str, tmp_path: Path) -> Iterator[NewStore]:
    """A factory of empty store locations on this test's backend: ``new_store("name")``."""
    schemas: list[str] = []

    def make(name: str = "ledger") -> str:
        if backend == "sqlite":
            return str(tmp_path / f"{name}.sqlite")
        schema = make_schema()
        schemas.append(schema)
        return f"{PG_ADMIN}?schema={schema}"

    yield make
    for schema in schemas:
        drop_schema(schema)


@pytest.fixture
def make_ledger(new_store: NewStore) -> Iterator[Callable[..., BillingApplication]]:
    """A factory of write-side ledgers on an empty store, each with a test clock."""
    made: list[BillingApplication] = []

    def factory(start: date, name: str = "ledger") -> BillingApplication:
        ledger = BillingApplication(store_env(new_store(name)), clock=TestClock(start))
        made.append(ledger)
        return ledger

    yield factory
    for ledger in made:
        ledger.close()
