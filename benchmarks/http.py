"""Commands per second over HTTP against the same commands through the library, in one run.

    python -m benchmarks.http --commands 2000 [--clients 4] [--backend sqlite|postgres]
                              [--pg URL] [--json FILE]

A fresh ledger (a temporary SQLite file, or a new schema on PostgreSQL) gets one offer and
``--accounts`` accounts of one subscription each. Then the same kind of command, a license
change (each subscription's quantity moved up by one), is made ``--commands`` times in each
of three ways, each on its own subscriptions:

1. through the library: ``Ledger.change_quantity``, one after another, in this process,
   each with an idempotency key;
2. over HTTP, one client: ``POST /api/v1/commands/change-quantity`` to ``billing-ledger
   serve`` running as its own process (uvicorn), one request after another on a kept-alive
   connection, each with an ``Idempotency-Key`` (as a careful client sends);
3. over HTTP, ``--clients`` clients at once (threads, each on its own accounts).

It prints each rate, the HTTP rates as a fraction of the library's, and the requests'
latency (median and p95). The store is removed afterwards. A figure, never a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg

from billing_ledger.api import Ledger
from ledger.clock import TestClock
from ledger.offers import OfferTerms

START = date(2018, 1, 13)
PG = os.environ.get("BILLING_LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def prepare(location: str, accounts: int) -> None:
    with Ledger(location, clock=TestClock(START)) as ledger:
        ledger.define_offer(OfferTerms.create("e1", price="48.00", currency="USD", term="P1Y",
                                              billing="annual", convention="daily-rate"))
        for n in range(accounts):
            ledger.open_account(f"a{n}", billing_day=15)
            ledger.purchase(f"a{n}", "S1", "e1", 1)
        ledger.catch_up()


def library_rate(location: str, accounts: range, commands: int) -> float:
    quantity = dict.fromkeys(accounts, 1)
    order = list(accounts)
    with Ledger(location, clock=TestClock(START)) as ledger:
        started = time.perf_counter()
        for i in range(commands):
            account = order[i % len(order)]
            quantity[account] += 1
            ledger.change_quantity(f"a{account}", "S1", quantity[account],
                                   idempotency_key=f"lib-{i}")
        return commands / (time.perf_counter() - started)


def http_run(base: str, accounts: range, commands: int, tag: str,
             latencies: list[float]) -> float:
    quantity = dict.fromkeys(accounts, 1)
    order = list(accounts)
    with httpx.Client(base_url=base, timeout=60) as http:
        started = time.perf_counter()
        for i in range(commands):
            account = order[i % len(order)]
            quantity[account] += 1
            sent = time.perf_counter()
            answer = http.post("/api/v1/commands/change-quantity",
                               json={"account": f"a{account}", "subscription": "S1",
                                     "quantity": quantity[account]},
                               headers={"Idempotency-Key": f"{tag}-{i}"})
            latencies.append(time.perf_counter() - sent)
            if answer.status_code != 200:
                raise RuntimeError(f"the server answered {answer.status_code}: {answer.text}")
        return commands / (time.perf_counter() - started)


def serve(location: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    env = {k: v for k, v in os.environ.items() if k not in {"BILLING_LEDGER_TOKEN", "BILLING_LEDGER_DB"}}
    server = subprocess.Popen(
        [sys.executable, "-m", "billing_ledger", "--db", location, "--today", START.isoformat(),
         "serve", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/openapi.json")
            return server, base
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("the server did not start")


def measure(location: str, commands: int, clients: int, accounts: int) -> dict[str, Any]:
    prepare(location, accounts * 3)
    library = library_rate(location, range(accounts), commands)
    server, base = serve(location)
    try:
        one: list[float] = []
        sequential = http_run(base, range(accounts, 2 * accounts), commands, "seq", one)
        share = accounts // clients
        many: list[float] = []
        rates: list[float] = []
        threads: list[threading.Thread] = []
        started = time.perf_counter()

        def client(k: int) -> None:
            mine = range(2 * accounts + k * share, 2 * accounts + (k + 1) * share)
            rates.append(http_run(base, mine, commands // clients, f"par{k}", many))

        for k in range(clients):
            threads.append(threading.Thread(target=client, args=(k,)))
            threads[-1].start()
        for thread in threads:
            thread.join()
        concurrent = (commands // clients) * clients / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(30)

    def ms(values: list[float], q: float) -> float:
        return round(statistics.quantiles(values, n=100)[int(q) - 1] * 1000, 2)

    return {
        "commands": commands, "clients": clients, "accounts": accounts,
        "library_rate": round(library, 1), "http_rate": round(sequential, 1),
        "http_concurrent_rate": round(concurrent, 1),
        "http_ratio": round(sequential / library, 3),
        "http_concurrent_ratio": round(concurrent / library, 3),
        "http_latency_ms": {"median": ms(one, 50), "p95": ms(one, 95)},
        "http_concurrent_latency_ms": {"median": ms(many, 50), "p95": ms(many, 95)},
    }


def _with_store(backend: str, pg: str, work: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="bench-http-")
        try:
            return work(str(Path(folder) / "http.sqlite"))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    schema = f"bench_http_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        return work(f"{pg}?schema={schema}")
    finally:
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http", description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--accounts", type=int, default=40, help="subscriptions per way")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg", default=PG)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.commands < args.clients or args.accounts < args.clients:
        parser.error("--commands and --accounts must be at least --clients")
    figures = _with_store(args.backend, args.pg,
                          lambda location: measure(location, args.commands, args.clients, args.accounts))
    figures.update(backend=args.backend, python=platform.python_version(), cpus=os.cpu_count())
    print(f"{args.backend}: {figures['commands']} license changes each way")
    print(f"  library                 {figures['library_rate']:>8,.1f} commands/s")
    print(f"  HTTP, 1 client          {figures['http_rate']:>8,.1f} commands/s  "
          f"({figures['http_ratio']:.2f} of the library's; latency median "
          f"{figures['http_latency_ms']['median']} ms, p95 {figures['http_latency_ms']['p95']} ms)")
    print(f"  HTTP, {args.clients} clients at once {figures['http_concurrent_rate']:>8,.1f} commands/s  "
          f"({figures['http_concurrent_ratio']:.2f}; latency median "
          f"{figures['http_concurrent_latency_ms']['median']} ms, p95 "
          f"{figures['http_concurrent_latency_ms']['p95']} ms)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
