"""Where the event store lives: a SQLite file by default, or PostgreSQL.

A location is either a filesystem path (SQLite), ``sqlite:///path``, or a PostgreSQL URL
``postgresql://user[:password]@host[:port]/dbname[?schema=name&pool_size=n]``. It becomes the
eventsourcing library's own environment variables (``PERSISTENCE_MODULE``, ``SQLITE_DBNAME``,
``POSTGRES_*``), so the library's documented variables work too when no location is given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from ledger.errors import InvalidInput

DEFAULT_DB = "ledger.sqlite"
DB_ENV_VAR = "BILLING_LEDGER_DB"

_SCHEMA = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
_POSTGRES_QUERY_KEYS = {
    "schema": "POSTGRES_SCHEMA",
    "pool_size": "POSTGRES_POOL_SIZE",
    "max_overflow": "POSTGRES_MAX_OVERFLOW",
    "connect_timeout": "POSTGRES_CONNECT_TIMEOUT",
    "lock_timeout": "POSTGRES_LOCK_TIMEOUT",
}


def is_postgres(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def store_env(location: str | os.PathLike[str]) -> dict[str, str]:
    """The eventsourcing environment for a store location."""
    text = os.fspath(location)
    if is_postgres(text):
        url = urlparse(text)
        try:
            port = url.port
        except ValueError as error:
            raise InvalidInput(f"a PostgreSQL URL's port: {error}") from None
        if not url.hostname or not url.path.strip("/"):
            raise InvalidInput(f"a PostgreSQL URL needs a host and a database name: {text!r}")
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(url.path.lstrip("/")),
            "POSTGRES_HOST": url.hostname,
            "POSTGRES_PORT": str(port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
        }
        for key, values in parse_qs(url.query).items():
            if key not in _POSTGRES_QUERY_KEYS:
                raise InvalidInput(
                    f"unknown PostgreSQL URL option {key!r}; known: {', '.join(_POSTGRES_QUERY_KEYS)}"
                )
            value = values[-1]
            if key == "schema" and not _SCHEMA.fullmatch(value):
                raise InvalidInput("a PostgreSQL schema name must be 1-63 characters from "
                                   f"a-z A-Z 0-9 _ $, not starting with a digit or $: {value!r}")
            if key != "schema" and not (value.isascii() and value.isdigit() and len(value) < 10):
                raise InvalidInput(f"PostgreSQL URL option {key} must be a whole number of at "
                                   f"most 9 digits, got {value!r}")
            env[_POSTGRES_QUERY_KEYS[key]] = value
        return env
    if text.startswith("sqlite://"):
        # SQLAlchemy's form: sqlite:///relative.db, sqlite:////absolute/path.db
        text = text.removeprefix("sqlite://").removeprefix("/")
    if not text:
        raise InvalidInput("the SQLite database path is empty")
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": text}


def sqlite_path(location: str | os.PathLike[str]) -> Path | None:
    """The file behind a SQLite location, or None for PostgreSQL."""
    env = store_env(location)
    name = env.get("SQLITE_DBNAME")
    return Path(name) if name else None


def creates_tables(env: Mapping[str, str]) -> bool:
    """False when the environment says the store's tables must not be created
    (``CREATE_TABLE=false``, as a read-only :class:`~billing_ledger.api.Ledger` sets it)."""
    return env.get("CREATE_TABLE", "true").strip().lower() not in {"false", "f", "no", "n", "off", "0"}


def _connect(env: Mapping[str, str]) -> Any:
    import psycopg

    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"], password=env.get("POSTGRES_PASSWORD") or None, autocommit=True,
        connect_timeout=10,
    )


def _is_postgres_env(env: Mapping[str, str]) -> bool:
    return env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres" and "POSTGRES_DBNAME" in env


def prepare(env: Mapping[str, str]) -> None:
    """Create the PostgreSQL schema a location names, if it does not exist yet (the tables in
    it are created by the eventsourcing library and the view store on first use)."""
    schema = env.get("POSTGRES_SCHEMA")
    if not _is_postgres_env(env) or not schema or not creates_tables(env):
        return
    from psycopg import sql

    with schema_lock(env), _connect(env) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


_DDL_LOCK = 0x6C656467  # an arbitrary advisory-lock key for this ledger's table creation


@contextmanager
def schema_lock(env: Mapping[str, str]) -> Iterator[None]:
    """Serialise table creation between processes starting at once on PostgreSQL, whose
    concurrent ``CREATE TABLE IF NOT EXISTS`` can fail; on SQLite, a no-op."""
    if not _is_postgres_env(env):
        yield
        return
    with _connect(env) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_DDL_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_DDL_LOCK,))
