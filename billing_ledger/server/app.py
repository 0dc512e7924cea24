"""The ASGI application of ``billing-ledger serve``: the JSON API (``/api/v1``, its OpenAPI
document at ``/openapi.json``) and the audit pages (``/``), over one shared
:class:`~billing_ledger.api.Ledger`.

    from billing_ledger.server.app import create_app
    app = create_app(Ledger("ledger.sqlite"), token=os.environ.get("BILLING_LEDGER_TOKEN"))

With a ``token``, every request but the OpenAPI document, the stylesheet and the sign-in page
must carry it: ``Authorization: Bearer <token>`` (API clients), or the cookie the sign-in
page sets (a browser).
"""

from __future__ import annotations

import hmac
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from billing_ledger.api import STORE_FAILURES, Ledger
from billing_ledger.server import api, pages, problems
from ledger.errors import LedgerError

TOKEN_ENV = "BILLING_LEDGER_TOKEN"
COOKIE = "billing_ledger_token"
#: The largest request body accepted (a command is a few hundred bytes).
BODY_MAX = 64 * 1024
OPEN_PATHS = ("/openapi.json", "/static/", "/sign-in")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("billing-ledger")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0"


def create_app(ledger: Ledger, *, token: str | None = None,
               stream_poll: float = api.STREAM_POLL,
               verify_inline_max: int = pages.VERIFY_INLINE_MAX) -> FastAPI:
    app = FastAPI(
        title="billing-ledger",
        version=_version(),
        summary="An event-sourced billing ledger for license-based subscriptions",
        description=(
            "Commands (each `POST /api/v1/commands/<name>`, its body the command's fields; "
            "send an `Idempotency-Key` header to make a retry safe), billing runs, invoices, "
            "reconciliation files, audit (history, explain, verify) and the event feed. Money "
            "is a decimal string beside its currency. Errors are RFC 9457 problems "
            "(`application/problem+json`)."),
        openapi_url="/openapi.json", docs_url=None, redoc_url=None,
        openapi_tags=[{"name": "commands", "description": "record what happened"},
                      {"name": "billing", "description": "billing runs and previews"},
                      {"name": "reads", "description": "accounts, subscriptions, invoices, files"},
                      {"name": "audit", "description": "history, explanations, verification"},
                      {"name": "feed", "description": "the event feed, paged or streamed"}],
    )
    app.state.ledger = ledger
    plain_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problems.fix_openapi(plain_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.include_router(api.router(ledger, stream_poll=stream_poll))
    app.include_router(pages.router(ledger, verify_inline_max=verify_inline_max))
    static = resources.files("billing_ledger.server") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    def answer(request: Request, status: int, title: str, detail: str,
               errors: list[dict[str, Any]] | None = None) -> Response:
        if request.url.path.startswith("/api/"):
            return problems.problem(status, title, detail, request.url.path, errors)
        return pages.error_page(request, status, title, detail)

    async def on_ledger_error(request: Request, error: Exception) -> Response:
        found = problems.of_error(error, request.url.path)
        if request.url.path.startswith("/api/"):
            return found
        return pages.error_page(request, found.status_code, type(error).__name__, str(error))

    async def on_invalid(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        fields = [{"field": ".".join(str(part) for part in item.get("loc", ())),
                   "message": item.get("msg", "")} for item in error.errors()]
        detail = "; ".join(f"{item['field']}: {item['message']}" for item in fields)
        return answer(request, 422, "InvalidRequest", detail or "invalid request", fields)

    async def on_http(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        title = problems.TITLES.get(error.status_code, "Error").replace(" ", "")
        return answer(request, error.status_code, title, str(error.detail))

    app.add_exception_handler(LedgerError, on_ledger_error)
    for kind in STORE_FAILURES:
        app.add_exception_handler(kind, on_ledger_error)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_ledger_error)  # a bug: 500, named, no traceback

    app.add_middleware(Guard, token=token)
    if token is not None:
        pages.add_sign_in(app, token)
    return app


class Guard:
    """Before any route: the bearer token (when the server has one) and the body's size.
    (A plain ASGI middleware: it leaves streamed answers, the feed's stream, as they are.)"""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = request.url.path
        answer: Response | None = None
        if self.token is not None and not path.startswith(OPEN_PATHS) and \
                not authorised(request, self.token):
            if path.startswith("/api/"):
                answer = problems.problem(
                    401, "Unauthorized", "this server needs a bearer token: Authorization: "
                    "Bearer <token>", path, headers={"WWW-Authenticate": 'Bearer realm="billing-ledger"'})
            else:
                answer = pages.redirect_to_sign_in(request)
        else:
            length = request.headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > BODY_MAX):
                detail = f"a request body is at most {BODY_MAX} bytes"
                answer = (problems.problem(413, "ContentTooLarge", detail, path)
                          if path.startswith("/api/") else
                          pages.error_page(request, 413, "ContentTooLarge", detail))
        if answer is not None:
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)


def authorised(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return hmac.compare_digest(cookie.encode(), token.encode())
