"""The HTTP API's JSON shapes, as pydantic models: what the OpenAPI document describes.

Money is a decimal string (``"89.96"``, never a float) beside its ISO 4217 currency; dates
are ISO 8601 (``YYYY-MM-DD``), instants ISO 8601 date-times in UTC.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr, StringConstraints

#: A decimal amount as a string: digits, an optional sign and decimal point (no exponent).
Money = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,16}(\.[0-9]{1,12})?$"),
                  Field(examples=["48.00"])]


def _iso_date(value: object) -> object:
    """A date in a request: the string YYYY-MM-DD only (not a number of seconds)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("a date must be a string YYYY-MM-DD")
    return value


#: A date in a request body.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Day = Annotated[str, Field(description="an ISO 8601 date, YYYY-MM-DD", examples=["2018-01-15"],
                           json_schema_extra={"format": "date"})]
#: An instant, as the ledger records it (ISO 8601, UTC).
Instant = Annotated[str, Field(json_schema_extra={"format": "date-time"},
                               examples=["2018-01-16T00:00:00+00:00"])]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(Model):
    field: str = Field(description="where in the request: body.quantity, query.after, ...")
    message: str


class Problem(Model):
    """An error, as RFC 9457 ``application/problem+json``."""

    type: str = Field(description="a URI naming the kind of error")
    title: str = Field(description="the error's class in the ledger (ledger.errors)")
    status: int
    detail: str = Field(description="what was wrong, in one line")
    instance: str = Field(description="the path that was asked for")
    errors: list[FieldError] | None = Field(
        None, description="for a request that does not fit its schema: each field at fault")


class CommandResult(Model):
    """What a command did. A retry with the same ``Idempotency-Key`` and body returns the same
    result and records nothing."""

    command: str = Field(description="the command's name", examples=["purchase"])
    result: str | None = Field(description="the new subscription's id (purchase); else null")
    idempotency_key: str | None


class Account(Model):
    account: str
    name: str
    billing_day: int
    currency: str | None
    locale: str | None
    opened_on: Day
    last_billing_date: Day | None
    last_amount_due: Money | None


class SubscriptionRow(Model):
    account: str
    subscription: str
    subscription_id: str
    offer_id: str
    status: Literal["trial", "active", "suspended", "cancelled", "expired"]
    quantity: int
    term_start: Day | None
    term_end: Day | None
    auto_renew: bool
    version: int


class InvoiceSummary(Model):
    invoice_number: str
    account: str
    billing_date: Day
    currency: str | None
    total: Money
    amount_due: Money
    digest: str = Field(description="SHA-256 of the invoice's canonical bytes")
    cut_position: int = Field(description="the log's position at the cut")


class InvoiceLine(Model):
    number: int
    line_id: str
    subscription: str
    term_start: Day
    term_end: Day
    start: Day
    end: Day
    charge_type: str
    unit_price: Money
    quantity: int
    amount: Money
    basis: str = Field(description="the arithmetic behind the amount")
    reverses: str | None
    sources: list[int] = Field(description="versions of the subscription's events behind it")


class InvoiceGroup(Model):
    subscription: str
    offer_id: str
    offer_name: str
    billing_cycle: str
    order_id: str
    lines: list[InvoiceLine]
    subtotal: Money


class LogPoint(Model):
    position: int
    head: str


class InvoiceDocument(Model):
    """The issued invoice document, exactly as issued (its canonical JSON's digest is the
    invoice's ``digest``)."""

    model_config = ConfigDict(extra="allow")
    document_version: int
    invoice_number: str
    account: str
    account_name: str
    billing_date: Day
    currency: str
    subscriptions: list[InvoiceGroup]
    charges: Money
    credits: Money
    total: Money
    balance_brought_forward: Money
    payments_received: Money
    amount_due: Money
    final_for: list[str]
    rules_version: int
    log: LogPoint | None = None
    partner_id: str | None = None


class ChargeLine(Model):
    """A line a billing date would post (a preview)."""

    line_id: str
    subscription: str
    term_start: Day
    term_end: Day
    start: Day
    end: Day
    charge_type: str
    unit_price: Money
    quantity: int
    amount: Money
    currency: str
    basis: str
    reverses: str | None


class Preview(Model):
    account: str
    billing_date: Day
    lines: list[ChargeLine]


class BillingRunDate(Model):
    account: str
    billing_date: Day


class BillRequest(Model):
    until: Annotated[IsoDate, Field(description="cut every billing date up to and including this "
                                            "one (not after the server's today)")]


class BillingRun(Model):
    """What a billing run did."""

    issued: list[str] = Field(description="the invoices it issued")
    closed: list[BillingRunDate] = Field(description="billing dates closed with nothing to invoice")
    found_done: list[BillingRunDate] = Field(description="dates another run cut first")
    transitions: int = Field(description="renewals and trial ends recorded")
    accounts: int
    summary: str


class EventInfo(Model):
    type: str
    version: int = Field(description="the event's version in its aggregate")
    effective_date: Day | None
    recorded_at: Instant = Field(description="when it was recorded (UTC)")
    details: str


class Explanation(Model):
    invoice_number: str
    account: str
    billing_date: Day
    line: InvoiceLine
    arithmetic: str
    events: list[EventInfo]
    reversed_line: InvoiceLine | None
    reversed_in: str | None


class SubscriptionState(Model):
    account: str
    subscription: str
    offer: str
    status: Literal["trial", "active", "suspended", "cancelled", "expired"]
    quantity: int
    term_start: Day | None
    term_end: Day | None
    auto_renew: bool
    trial_end: Day | None
    payment_method: bool
    ended_on: Day | None
    version: int


class PostedLine(Model):
    billing_date: Day
    line_id: str
    start: Day
    end: Day
    charge_type: str
    unit_price: Money
    quantity: int
    amount: Money
    net_quantity: int = Field(description="licenses it adds to (negative: removes from) each day")


class History(Model):
    """A subscription as effective on ``as_of``, as known at ``known_at``."""

    account: str
    subscription: str
    as_of: Day | None
    known_at: Instant | None
    state: SubscriptionState
    events: list[EventInfo]
    posted: list[PostedLine]


class InvoiceCheck(Model):
    invoice_number: str
    account: str
    billing_date: Day
    ok: bool
    problems: list[str]
    rerated: bool = Field(description="re-derived by this version's rules (else checked "
                                      "against its posted lines)")


class Finding(Model):
    where: str
    message: str
    invoice: str | None
    kind: str


class Verification(Model):
    ok: bool
    positions: int = Field(description="positions of the log read")
    checks: list[InvoiceCheck]
    findings: list[Finding]
    notes: list[str]


class Anchor(Model):
    position: int
    head: str


class FeedRecord(Model):
    """One record of the event feed: its `data` has the fields of its `type` (one of the
    `FeedRecord_*` schemas; the feed's JSON Schemas are in docs/reference/feed/)."""

    schema_version: Literal[1]
    type: str = Field(examples=["subscription.purchased"])
    position: StrictInt = Field(description="its position in the log: pass it as `after`")
    event_id: str
    account: str
    subscription: str | None
    effective_date: Day | None
    recorded_at: Instant
    data: dict[str, Any] = Field(description="the type's fields (docs/reference/feed.md)")


class FeedPage(Model):
    records: list[FeedRecord]
    next_after: int = Field(description="the last record's position (or `after` when none): "
                                        "ask for the records after it next")


class OfferBody(Model):
    """An offer's terms (``define-offer``)."""

    offer_id: StrictStr
    price: Money = Field(description="per license per term, in the currency's places")
    currency: StrictStr = Field(examples=["USD"])
    term: Literal["P1Y", "P1M"]
    billing: Literal["annual", "monthly"]
    convention: Literal["daily-rate", "exact"]
    name: StrictStr | None = None
    daily_rate_places: StrictInt | None = None
    refund_window_days: StrictInt | None = None
    rounding: Literal["half-up", "half-even"] = "half-up"
