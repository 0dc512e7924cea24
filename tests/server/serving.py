"""A real server for the tests: uvicorn on a free loopback port, in a thread of the test
process, over a ``Ledger`` the test holds (so it can move the test clock, or tamper with the
store, between requests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from billing_ledger.api import Ledger
from billing_ledger.server.app import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(ledger: Ledger, *, token: str | None = None, **options: Any) -> Iterator[str]:
    """Serve ``ledger`` until the block ends; yields the base URL."""
    app = create_app(ledger, token=token, stream_poll=0.05, **options)
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                            timeout_graceful_shutdown=2, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(10)
