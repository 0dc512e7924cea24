"""The JSON API under ``/api/v1``: every command (generated, :mod:`.commands`), billing,
reads, audit and the event feed (paged, and as a server-sent-events stream).

The routes are plain functions (``def``): the server runs each in its thread pool, and the
one :class:`~billing_ledger.api.Ledger` is shared by those threads (it is thread-safe; the
SQLite store gives each thread its own connection from its pool). The same bounds and
refusals as the command line apply: the ledger checks every value, and its typed errors
become problems (:mod:`.problems`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from billing_ledger.api import Ledger
from billing_ledger.server import models
from billing_ledger.server.commands import IdempotencyKey, endpoint, routes
from billing_ledger.server.problems import PROBLEM_RESPONSES
from ledger import bounds
from ledger.charges import ChargeLine
from ledger.errors import InvalidInput
from ledger.locales import LOCALES
from projections import audit, verification

#: The most records one feed page holds.
FEED_PAGE_MAX = 1000
#: Seconds between two reads of the log while a stream is idle, and between keep-alives.
STREAM_POLL = 0.25
STREAM_KEEPALIVE = 15.0

AccountId = Annotated[str, Path(description="the account's id", max_length=200)]
InvoiceDate = Annotated[date, Path(description="the invoice's billing date (YYYY-MM-DD)")]
Locale = Annotated[str | None, Query(description=f"one of {', '.join(LOCALES)} (default: the "
                                                  "account's)", max_length=20)]


def _html(text: str) -> Response:
    return Response(text, media_type="text/html; charset=utf-8")


def _moment(value: datetime | None) -> datetime | None:
    """An instant; one without a zone is read as UTC (as the command line does)."""
    if value is None:
        return None
    return bounds.instant(value if value.tzinfo else value.replace(tzinfo=UTC), "known_at")


def _line(line: ChargeLine) -> models.ChargeLine:
    return models.ChargeLine(
        line_id=line.line_id, subscription=line.subscription,
        term_start=line.term_start.isoformat(), term_end=line.term_end.isoformat(),
        start=line.start.isoformat(), end=line.end.isoformat(), charge_type=line.charge_type,
        unit_price=f"{line.unit_price}", quantity=line.quantity, amount=f"{line.amount}",
        currency=line.currency, basis=line.basis, reverses=line.reverses)


def _event(info: audit.EventInfo) -> models.EventInfo:
    return models.EventInfo(type=info.type, version=info.version,
                            effective_date=info.effective_date, recorded_at=info.recorded_at,
                            details=info.details)


def history_model(found: audit.SubscriptionState) -> models.History:
    return models.History(
        account=found.account, subscription=found.subscription,
        as_of=found.as_of.isoformat() if found.as_of else None,
        known_at=found.known_at.isoformat() if found.known_at else None,
        state=models.SubscriptionState(**found.state),
        events=[_event(ev) for ev in found.events],
        posted=[models.PostedLine(**line) for line in found.posted])


def verification_model(result: verification.Verification) -> models.Verification:
    return models.Verification(
        ok=result.ok, positions=result.positions, notes=list(result.notes),
        checks=[models.InvoiceCheck(invoice_number=c.invoice_number, account=c.account,
                                    billing_date=c.billing_date.isoformat(), ok=c.ok,
                                    problems=list(c.problems), rerated=c.rerated)
                for c in result.checks],
        findings=[models.Finding(where=f.where, message=f.message, invoice=f.invoice, kind=f.kind)
                  for f in result.findings])


def _invoice_line(line: dict[str, Any]) -> models.InvoiceLine:
    return models.InvoiceLine(**{name: line[name] for name in models.InvoiceLine.model_fields})


def explanation_model(found: audit.Explanation) -> models.Explanation:
    return models.Explanation(
        invoice_number=found.invoice_number, account=found.account,
        billing_date=found.billing_date, line=_invoice_line(found.line),
        arithmetic=found.arithmetic, events=[_event(ev) for ev in found.events],
        reversed_line=_invoice_line(found.reversed_line) if found.reversed_line else None,
        reversed_in=found.reversed_in)


def sse(record: dict[str, Any]) -> str:
    """One server-sent event: its id is the record's position (a reconnecting client sends
    it back as ``Last-Event-ID``), its event name the record's type, its data the record."""
    return (f"id: {record['position']}\nevent: {record['type']}\n"
            f"data: {json.dumps(record, sort_keys=True)}\n\n")


def router(ledger: Ledger, *, stream_poll: float = STREAM_POLL) -> APIRouter:
    api = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)

    # ------------------------------------------------------------------ commands
    for route in routes():
        api.add_api_route(route.path, endpoint(route, ledger.handle), methods=["POST"],
                          status_code=route.status, response_model=models.CommandResult,
                          summary=route.summary,
                          description=(route.command.__doc__ or "").replace("``", "`"),
                          tags=["commands"], operation_id=route.name)

    # ------------------------------------------------------------------ billing
    @api.post("/bill", tags=["billing"], operation_id="bill")
    def bill(body: models.BillRequest, idempotency_key: IdempotencyKey = None) -> models.BillingRun:
        """Do everything due through `until` (trial ends, renewals, billing dates) in date
        order; `until` may not be after the server's today. Repeat-safe by itself: a date is
        cut once, and a run finds the dates another run cut (`found_done`). An
        `Idempotency-Key` header is accepted and not needed."""
        until = bounds.business_date(body.until, "until")
        run = ledger.bill(until, advance_clock=False)
        return models.BillingRun(
            issued=run.issued, transitions=run.transitions, accounts=run.accounts,
            closed=[models.BillingRunDate(account=a, billing_date=d.isoformat()) for a, d in run.closed],
            found_done=[models.BillingRunDate(account=a, billing_date=d.isoformat())
                        for a, d in run.found_done],
            summary=run.summary(until))

    @api.get("/accounts/{account}/preview", tags=["billing"], operation_id="preview")
    def preview(account: AccountId, billing_date: Annotated[date | None, Query(
            description="the next billing date to cut (a check; it is the default)")] = None,
            ) -> models.Preview:
        """The lines the account's next billing date would post; issues nothing."""
        lines = ledger.preview(account, billing_date)
        when = billing_date or ledger.next_billing_date(account)
        return models.Preview(account=account, billing_date=when.isoformat(),
                              lines=[_line(line) for line in lines])

    # ------------------------------------------------------------------ reads
    @api.get("/accounts", tags=["reads"], operation_id="accounts")
    def accounts() -> list[models.Account]:
        """Every billing account."""
        return [models.Account(**{k: row[k] for k in models.Account.model_fields})
                for row in ledger.accounts()]

    @api.get("/accounts/{account}/subscriptions", tags=["reads"], operation_id="subscriptions")
    def subscriptions(account: AccountId) -> list[models.SubscriptionRow]:
        """An account's subscriptions, as they stand."""
        return [models.SubscriptionRow.model_validate(
                    {k: (bool(row[k]) if k == "auto_renew" else row[k])
                     for k in models.SubscriptionRow.model_fields})
                for row in ledger.subscriptions(account)]

    def summaries(account: str | None) -> list[models.InvoiceSummary]:
        currency = {row["account"]: row["currency"] for row in ledger.accounts()}
        return [models.InvoiceSummary(currency=currency.get(row["account"]), **{
            k: row[k] for k in models.InvoiceSummary.model_fields if k != "currency"})
            for row in ledger.invoices(account)]

    @api.get("/invoices", tags=["reads"], operation_id="invoices")
    def invoices(account: Annotated[str | None, Query(max_length=200)] = None,
                 ) -> list[models.InvoiceSummary]:
        """The issued invoices (of `account`, or all): number, date, totals, digest."""
        return summaries(account)

    @api.get("/accounts/{account}/invoices/{billing_date}", tags=["reads"],
             operation_id="invoice", response_model=models.InvoiceDocument,
             responses={200: {"content": {"application/json": {}}}})
    def invoice(account: AccountId, billing_date: InvoiceDate) -> Response:
        """The issued invoice document, as issued (keys sorted)."""
        return Response(ledger.invoice_json(account, billing_date), media_type="application/json")

    @api.get("/accounts/{account}/invoices/{billing_date}/html", tags=["reads"],
             operation_id="invoice_html", response_class=Response,
             responses={200: {"content": {"text/html": {"schema": {"type": "string"}}},
                              "description": "the invoice as an HTML page"}})
    def invoice_html(account: AccountId, billing_date: InvoiceDate, locale: Locale = None) -> Response:
        """The invoice as HTML, in `locale` or else the account's."""
        return _html(ledger.invoice_html(account, billing_date, locale))

    @api.get("/accounts/{account}/invoices/{billing_date}/text", tags=["reads"],
             operation_id="invoice_text", response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                              "description": "the invoice as plain text"}})
    def invoice_text(account: AccountId, billing_date: InvoiceDate, locale: Locale = None,
                     ) -> PlainTextResponse:
        """The invoice as plain text, in `locale` or else the account's."""
        return PlainTextResponse(ledger.invoice_text(account, billing_date, locale))

    @api.get("/accounts/{account}/reconciliation/{billing_date}", tags=["reads"],
             operation_id="reconciliation", response_class=Response,
             responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                              "description": "the reconciliation file (Partner Center's columns)"}})
    def reconciliation(account: AccountId, billing_date: InvoiceDate) -> Response:
        """The reconciliation CSV of an account's billing date, byte for byte the file
        `billing-ledger recon` writes."""
        from projections.reconciliation import file_name
        return Response(ledger.reconciliation(account, billing_date), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="{file_name(billing_date)}"'})

    # ------------------------------------------------------------------ audit
    @api.get("/accounts/{account}/subscriptions/{subscription}/history", tags=["audit"],
             operation_id="history")
    def history(account: AccountId,
                subscription: Annotated[str, Path(max_length=200)],
                as_of: Annotated[date | None, Query(description="as effective on this date")] = None,
                known_at: Annotated[datetime | None, Query(
                    description="counting only what was recorded by this instant (ISO 8601; "
                                "without a zone: UTC)")] = None) -> models.History:
        """A subscription's state on any date, as known at any instant, with its events and
        the lines it posted."""
        return history_model(ledger.history(account, subscription, as_of=as_of,
                                            known_at=_moment(known_at)))

    @api.get("/invoices/{invoice_number}/lines/{line}/explanation", tags=["audit"],
             operation_id="explain")
    def explain(invoice_number: Annotated[str, Path(max_length=200)],
                line: Annotated[int, Path(ge=1, le=1_000_000, description="1-based")],
                ) -> models.Explanation:
        """The events and the arithmetic behind one line of an issued invoice."""
        return explanation_model(ledger.explain(invoice_number, line))

    @api.get("/verify", tags=["audit"], operation_id="verify")
    def verify(account: Annotated[str | None, Query(max_length=200)] = None) -> models.Verification:
        """Check the log's seals, every issued invoice (of `account`, or all), the snapshots
        and the views against the events. Answers 200 either way: `ok` says whether
        anything differs, each finding says what and where."""
        return verification_model(ledger.verify(account))

    @api.get("/anchor", tags=["audit"], operation_id="anchor")
    def anchor() -> models.Anchor:
        """The log's position and head now: keep it outside the database."""
        point = ledger.anchor()
        return models.Anchor(position=point["position"], head=point["head"])

    # ------------------------------------------------------------------ the event feed
    @api.get("/feed", tags=["feed"], operation_id="feed")
    def feed(after: Annotated[int, Query(ge=0, le=bounds.POSITION_MAX, description=(
                 "the position of the last record already handled"))] = 0,
             limit: Annotated[int, Query(ge=1, le=FEED_PAGE_MAX)] = 100) -> models.FeedPage:
        """The records after position `after`, in order, at most `limit`. Keep the page's
        `next_after` and pass it as `after` next time: nothing is skipped or repeated."""
        records = ledger.feed(after, limit)
        return models.FeedPage(records=[models.FeedRecord(**r) for r in records],
                               next_after=records[-1]["position"] if records else after)

    @api.get("/feed/stream", tags=["feed"], operation_id="feed_stream", response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                              "description": "server-sent events: `id` the position, `event` "
                                             "the record's type, `data` the record (FeedRecord)"}})
    async def feed_stream(
            request: Request,
            after: Annotated[int, Query(ge=0, le=bounds.POSITION_MAX)] = 0,
            last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
    ) -> StreamingResponse:
        """Every record after `after` (or after the `Last-Event-ID` a reconnecting client
        sends), then each new one as it is recorded, as server-sent events: a consumer need
        not poll. A comment line keeps an idle connection open."""
        position = after
        if last_event_id is not None:
            if not last_event_id.isdigit():
                raise InvalidInput(f"Last-Event-ID must be a feed position, got "
                                   f"{bounds.shown(last_event_id)}")
            position = bounds.position(int(last_event_id), "Last-Event-ID")

        async def events() -> AsyncIterator[str]:
            nonlocal position
            yield "retry: 1000\n\n"
            idle = 0.0
            while True:  # until the client goes (the response then cancels this)
                batch = await run_in_threadpool(ledger.feed, position, 500)
                for record in batch:
                    yield sse(record)
                    position = record["position"]
                if len(batch) == 500:
                    continue
                await anyio.sleep(stream_poll)
                idle = 0.0 if batch else idle + stream_poll
                if idle >= STREAM_KEEPALIVE:
                    idle = 0.0
                    yield ": still here\n\n"

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return api

