"""Errors as RFC 9457 problems (``application/problem+json``).

The status of each typed error (docs/reference/errors.md) is the mapping the how-to has
always stated: ``NotFound`` 404; ``AlreadyExists`` and ``IdempotencyConflict`` 409;
``InvalidInput`` and ``InvalidTransition`` 422; ``ConcurrencyConflict`` and ``StoreError``
503; any other ``LedgerError`` 400. A billing run stopped at one account answers as its
cause does. A request that does not fit its schema is 422 too, naming each field; a
missing or wrong bearer token 401; anything unexpected 500 (a bug: please report it).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.responses import JSONResponse

from billing_ledger.api import STORE_FAILURES
from billing_ledger.server.models import Problem
from ledger.errors import (
    AlreadyExists,
    BillingRunIncomplete,
    ConcurrencyConflict,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    LedgerError,
    NotFound,
    StoreError,
)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://billing-ledger.example/problems/"
STATUS: list[tuple[type[Exception] | tuple[type[Exception], ...], int]] = [
    (NotFound, 404),
    ((AlreadyExists, IdempotencyConflict), 409),
    ((InvalidInput, InvalidTransition), 422),
    ((ConcurrencyConflict, StoreError), 503),
    (LedgerError, 400),
]
TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
          409: "Conflict", 413: "Content Too Large", 422: "Unprocessable Content",
          500: "Internal Server Error", 503: "Service Unavailable"}


def status_of(error: BaseException) -> int:
    """The HTTP status of an error the ledger raised."""
    if isinstance(error, BillingRunIncomplete):
        return status_of(error.cause)
    if isinstance(error, STORE_FAILURES):
        return 503
    return next((status for kind, status in STATUS if isinstance(error, kind)), 500)


def slug(name: str) -> str:
    """``UnknownAccount`` -> ``unknown-account``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def problem(status: int, title: str, detail: str, instance: str,
            errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(type=TYPE_BASE + slug(title), title=title, status=status,
                   detail=" ".join(detail.split()), instance=instance, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=MEDIA_TYPE, headers=headers)


def of_error(error: BaseException, instance: str) -> JSONResponse:
    status = status_of(error)
    if status == 500:
        return problem(500, "InternalError", f"internal error ({type(error).__name__}); please "
                       "report it", instance)
    if isinstance(error, LedgerError):
        return problem(status, type(error).__name__, str(error), instance)
    return problem(503, "StoreError", f"database error: {error}", instance)


_EXAMPLE = {"type": TYPE_BASE + "unknown-account", "title": "UnknownAccount", "status": 404,
            "detail": "unknown account 'contoso'", "instance": "/api/v1/accounts/contoso/subscriptions"}
#: The error answers every API route may give, for the OpenAPI document.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {MEDIA_TYPE: {"example": {**_EXAMPLE, "status": status}}},
             "description": text}
    for status, text in {
        401: "no bearer token, or the wrong one (when the server has one)",
        404: "no such account, subscription, offer, invoice or line",
        409: "the key is taken, or the Idempotency-Key was used for another request",
        422: "invalid input, a bound exceeded, or a state that forbids the command",
        503: "the database failed, or a command kept losing races with other writers",
    }.items()
}
