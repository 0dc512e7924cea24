"""The audit pages, rendered on the server (Jinja2; no script, nothing fetched from
elsewhere): accounts and their invoices, an invoice with its lines and its verification, a
line's explanation, a subscription's timeline with an as-known-at control, and verify."""

from __future__ import annotations

import hmac
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from billing_ledger.api import Ledger
from billing_ledger.server import chart
from ledger import bounds
from ledger.errors import InvalidInput, UnknownInvoice

_env = Environment(loader=PackageLoader("billing_ledger.server", "templates"),
                   autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
_env.filters["q"] = lambda value: quote(str(value), safe="")
templates = Jinja2Templates(env=_env)
Id = Annotated[str, Path(max_length=200)]


def page(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=code)


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    return page(request, "error.html", status, status=status, title=title, detail=detail)


def redirect_to_sign_in(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)


def add_sign_in(app: FastAPI, token: str) -> None:
    """A sign-in page for browsers: the token, once, kept in an HTTP-only cookie."""
    from billing_ledger.server.app import COOKIE

    @app.get("/sign-in", include_in_schema=False)
    def sign_in_form(request: Request, next: str = "/") -> Response:
        return page(request, "sign_in.html", next=_local(next), wrong=False)

    @app.post("/sign-in", include_in_schema=False)
    async def sign_in(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=4)
        given, target = form.get("token", [""])[0], _local(form.get("next", ["/"])[0])
        if not hmac.compare_digest(given.encode(), token.encode()):
            return page(request, "sign_in.html", 401, next=target, wrong=True)
        answer = RedirectResponse(target, status_code=303)
        answer.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                          secure=request.url.scheme == "https")
        return answer


def _local(target: str) -> str:
    """A path on this server (never another site)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _known_at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"known_at must be an ISO 8601 date-time, got {bounds.shown(text)}") from None
    return bounds.instant(moment if moment.tzinfo else moment.replace(tzinfo=UTC), "known_at")


def _verdicts(ledger: Ledger, account: str | None) -> tuple[dict[str, Any], list[Any], Any]:
    result = ledger.verify(account)
    return {check.invoice_number: check for check in result.checks}, list(result.findings), result


#: An invoice page verifies its account inline while the log holds at most this many
#: positions (verify reads the whole log); past it, the page offers a link that does.
VERIFY_INLINE_MAX = 50_000


def router(ledger: Ledger, *, verify_inline_max: int = VERIFY_INLINE_MAX) -> APIRouter:
    pages = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    @pages.get("/")
    def home(request: Request) -> Response:
        accounts = ledger.accounts()
        invoices: dict[str, list[dict[str, Any]]] = {}
        for row in ledger.invoices():
            invoices.setdefault(row["account"], []).append(row)
        return page(request, "index.html", accounts=accounts, invoices=invoices)

    @pages.get("/accounts/{account}")
    def account(request: Request, account: Id) -> Response:
        rows = [row for row in ledger.accounts() if row["account"] == account]
        subscriptions = ledger.subscriptions(account)
        return page(request, "account.html", account=rows[0], subscriptions=subscriptions,
                    invoices=ledger.invoices(account))

    @pages.get("/invoices/{number}")
    def invoice(request: Request, number: Id,
                verify: Annotated[bool, Query(description="verify even a long log")] = False,
                ) -> Response:
        rows = [row for row in ledger.invoices() if row["invoice_number"] == number]
        if not rows:
            raise UnknownInvoice(f"unknown invoice {number!r}")
        row = rows[0]
        document = ledger.invoice(row["account"], date.fromisoformat(row["billing_date"]))
        positions = ledger.app.recorder.max_notification_id() or 0
        if not verify and positions > verify_inline_max:
            return page(request, "invoice.html", row=row, document=document, check=None,
                        problems=[], deferred=positions)
        checks, findings, _ = _verdicts(ledger, row["account"])
        check = checks.get(number)
        problems = list(check.problems) if check is not None else []
        for finding in findings:  # what verify found about it elsewhere (its view row)
            said = str(finding)
            if (finding.invoice == number or number in finding.where) and not any(
                    said in known or finding.message in known for known in problems):
                problems.append(said)
        return page(request, "invoice.html", row=row, document=document, check=check,
                    problems=problems, deferred=None)

    @pages.get("/invoices/{number}/lines/{line}")
    def line(request: Request, number: Id, line: Annotated[int, Path(ge=1, le=1_000_000)]) -> Response:
        found = ledger.explain(number, line)
        currency = ledger.invoice(found.account, date.fromisoformat(found.billing_date))["currency"]
        return page(request, "line.html", found=found, number=number, line_no=line,
                    currency=currency)

    @pages.get("/accounts/{account}/subscriptions/{subscription}")
    def subscription(request: Request, account: Id, subscription: Id,
                     known_at: Annotated[str | None, Query(max_length=64)] = None) -> Response:
        moment = _known_at(known_at)
        everything = ledger.history(account, subscription)
        instants = sorted({ev.recorded_at for ev in everything.events})
        found = ledger.history(account, subscription, known_at=moment)
        line = chart.timeline(ledger, account, subscription, moment)
        chosen = moment.isoformat() if moment else ""
        later = [i for i in instants if chosen and i > chosen]
        earlier = [i for i in instants if not chosen or i < chosen]
        if not chosen and earlier:
            earlier = earlier[:-1]  # "now" is the last instant
        labels: dict[str, list[str]] = {}
        for ev in everything.events:
            labels.setdefault(ev.recorded_at, []).append(f"{ev.type.split('.')[-1]} v{ev.version}")
        return page(request, "subscription.html", account=account, subscription=subscription,
                    found=found, timeline=line, svg=Markup(chart.svg(line)),
                    instants=instants, labels=labels, chosen=chosen,
                    earlier=earlier[-1] if earlier else None, later=later[0] if later else None)

    @pages.get("/verify")
    def verify(request: Request) -> Response:
        _, findings, result = _verdicts(ledger, None)
        return page(request, "verify.html", result=result, findings=findings)

    return pages

