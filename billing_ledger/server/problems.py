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
    body = Problem.model_validate({"type": TYPE_BASE + slug(title), "title": title, "status": status,
                                   "detail": " ".join(detail.split()), "instance": instance,
                                   "errors": errors})
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


_EXAMPLES = {
    401: ("Unauthorized", "this server needs a bearer token: Authorization: Bearer <token>"),
    404: ("UnknownAccount", "unknown account 'contoso'"),
    409: ("IdempotencyConflict", "idempotency key 'order-7' was already used for another command"),
    422: ("InvalidQuantity", "quantity must be at most 1,000,000, got 1000001"),
    503: ("StoreError", "database error: connection refused"),
}
#: The error answers every API route may give, for the OpenAPI document (``fix_openapi``
#: moves their schema to the problem media type).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text, "content": {MEDIA_TYPE: {"example": {
        "type": TYPE_BASE + slug(_EXAMPLES[status][0]), "title": _EXAMPLES[status][0],
        "status": status, "detail": _EXAMPLES[status][1],
        "instance": "/api/v1/commands/purchase"}}}}
    for status, text in {
        401: "no bearer token, or the wrong one (when the server has one)",
        404: "no such account, subscription, offer, invoice or line",
        409: "the key is taken, or the Idempotency-Key was used for another request",
        422: "invalid input, a bound exceeded, or a state that forbids the command",
        503: "the database failed, or a command kept losing races with other writers (retry)",
    }.items()
}


def feed_records(document: dict[str, Any]) -> None:
    """``FeedRecord`` as what it is: one of the feed's record types, told apart by ``type``,
    each with its ``data`` (the feed's own JSON Schemas, docs/reference/feed/)."""
    from projections.feed import TYPES, json_schema

    schemas = document["components"]["schemas"]
    names = {}
    for type_name in TYPES:
        schema = {k: v for k, v in json_schema(type_name).items() if not k.startswith("$")}
        name = "FeedRecord_" + type_name.replace(".", "_")
        schemas[name] = {**schema, "description": f"A `{type_name}` record of the event feed."}
        names[type_name] = f"#/components/schemas/{name}"
    schemas["FeedRecord"] = {
        "description": schemas["FeedRecord"].get("description", ""),
        "oneOf": [{"$ref": ref} for ref in names.values()],
        "discriminator": {"propertyName": "type", "mapping": names},
    }


def fix_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """Error answers are ``application/problem+json`` (FastAPI files a model's schema under
    ``application/json``): move each there. Feed records are typed by their ``type``."""
    feed_records(document)
    for item in document.get("paths", {}).values():
        for operation in item.values():
            for status, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    moved = content.pop("application/json")
                    content[MEDIA_TYPE] = {**moved, **content.get(MEDIA_TYPE, {})}
    return document
