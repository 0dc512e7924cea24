"""The HTTP API through a real client (httpx) against a running server (uvicorn), on SQLite
and on PostgreSQL: every route, every error status, idempotent retries, and the feed's
server-sent-events stream."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from billing_ledger.api import Ledger
from billing_ledger.server import models
from billing_ledger.server.problems import TYPE_BASE, slug, status_of
from ledger import errors, invoicing
from ledger.clock import TestClock
from ledger.commands import COMMANDS
from tests.conftest import NewStore
from tests.server.serving import serving

PROBLEM = "application/problem+json"
OFFER = {"offer_id": "e1", "price": "48.00", "currency": "USD", "term": "P1Y",
         "billing": "annual", "convention": "daily-rate", "name": "Office 365 E1"}


@dataclass
class Served:
    http: httpx.Client
    ledger: Ledger
    clock: TestClock

    def post(self, command: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return self.http.post(f"/api/v1/commands/{command}", json=body, headers=headers)

    def ok(self, command: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        answer = self.post(command, body, key)
        assert answer.status_code in (200, 201), answer.text
        result: dict[str, Any] = answer.json()
        return result

    def feed(self, after: int = 0) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.http.get("/api/v1/feed", params={
            "after": after, "limit": 1000}).json()["records"]
        return records


@pytest.fixture
def served(new_store: NewStore) -> Iterator[Served]:
    clock = TestClock(date(2018, 1, 13))
    with Ledger(new_store("http"), clock=clock) as ledger, serving(ledger) as base, \
            httpx.Client(base_url=base, timeout=30) as http:
        yield Served(http, ledger, clock)


def problem(answer: httpx.Response, status: int, title: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body["title"] == title, body
    assert body["type"] == TYPE_BASE + slug(title)
    assert body["instance"] == answer.request.url.path and body["detail"]
    return body


def open_book(s: Served) -> str:
    """An offer, an account and a subscription, through the API; the subscription's id."""
    assert s.post("define-offer", OFFER).status_code == 201
    assert s.post("open-account", {"account": "contoso", "billing_day": 15,
                                   "name": "Contoso"}).status_code == 201
    bought = s.post("purchase", {"account": "contoso", "subscription": "S1", "offer": "e1",
                                 "quantity": 1})
    assert bought.status_code == 201, bought.text
    result = bought.json()["result"]
    assert uuid.UUID(result)
    return str(result)


# ---------------------------------------------------------------------------- commands
def test_every_command_has_its_route_and_records_through_it(served: Served) -> None:
    s = served
    open_book(s)
    s.clock.set(date(2018, 2, 1))
    s.ok("change-quantity", {"account": "contoso", "subscription": "S1", "quantity": 3,
                             "effective_date": "2018-02-01"})
    s.ok("purchase", {"account": "contoso", "subscription": "T1", "offer": "e1", "quantity": 2,
                      "trial": True, "trial_days": 30})
    s.ok("add-payment-method", {"account": "contoso", "subscription": "T1"})
    s.ok("set-auto-renew", {"account": "contoso", "subscription": "S1", "enabled": False})
    s.ok("suspend", {"account": "contoso", "subscription": "S1"})
    s.ok("reactivate", {"account": "contoso", "subscription": "S1"})
    s.ok("record-payment", {"account": "contoso", "amount": "12.50", "reference": "wire 7"})
    s.ok("cancel", {"account": "contoso", "subscription": "S1", "channel": "assisted"})
    kinds = [record["type"] for record in s.feed()]
    assert kinds == ["account.opened", "subscription.purchased", "subscription.quantity_changed",
                     "subscription.purchased", "subscription.payment_method_added",
                     "subscription.auto_renew_set", "subscription.suspended",
                     "subscription.reactivated", "payment.recorded", "subscription.cancelled"]
    payment = next(r for r in s.feed() if r["type"] == "payment.recorded")
    assert payment["data"] == {"amount": "12.50", "reference": "wire 7"}
    rows = {row["subscription"]: row for row in s.http.get(
        "/api/v1/accounts/contoso/subscriptions").json()}
    assert rows["S1"]["status"] == "cancelled" and rows["S1"]["quantity"] == 3
    assert rows["T1"]["status"] == "trial" and rows["T1"]["auto_renew"] is True
    # Every command of the ledger has exactly one route.
    paths = s.http.get("/openapi.json").json()["paths"]
    routes = {path for path in paths if path.startswith("/api/v1/commands/")}
    assert routes == {f"/api/v1/commands/{name.replace('_', '-')}" for name in COMMANDS}


def test_a_retry_with_the_same_key_returns_the_first_result_and_records_once(served: Served) -> None:
    s = served
    open_book(s)
    order = {"account": "contoso", "subscription": "S2", "offer": "e1", "quantity": 4}
    first = s.post("purchase", order, key="order-7")
    again = s.post("purchase", order, key="order-7")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and first.json()["idempotency_key"] == "order-7"
    purchases = [r for r in s.feed() if r["type"] == "subscription.purchased"
                 and r["subscription"] == "S2"]
    assert len(purchases) == 1
    conflict = problem(s.post("purchase", {**order, "quantity": 5}, key="order-7"), 409,
                       "IdempotencyConflict")
    assert "order-7" in conflict["detail"]
    # A command without a result: the same answer twice, one event.
    change = {"account": "contoso", "subscription": "S2", "quantity": 6}
    assert s.ok("change-quantity", change, "c-1") == s.ok("change-quantity", change, "c-1")
    assert sum(r["type"] == "subscription.quantity_changed" for r in s.feed()) == 1
    # The key's own bounds are the ledger's: 1-200 printable characters.
    problem(s.post("change-quantity", {**change, "quantity": 7}, key="k" * 201), 422, "InvalidInput")


def test_each_error_is_a_problem_with_the_how_tos_status(served: Served,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    s = served
    open_book(s)
    problem(s.http.get("/api/v1/accounts/nobody/subscriptions"), 404, "UnknownAccount")
    problem(s.post("change-quantity", {"account": "contoso", "subscription": "S9", "quantity": 2}),
            404, "UnknownSubscription")
    problem(s.post("open-account", {"account": "contoso", "billing_day": 15}), 409, "DuplicateAccount")
    problem(s.post("purchase", {"account": "contoso", "subscription": "S1", "offer": "e1",
                                "quantity": 1}), 409, "DuplicateSubscription")
    # The ledger's bounds, as on the command line.
    problem(s.post("change-quantity", {"account": "contoso", "subscription": "S1",
                                       "quantity": 1_000_001}), 422, "InvalidQuantity")
    problem(s.post("open-account", {"account": "../etc", "billing_day": 15}), 422, "InvalidAccount")
    problem(s.post("define-offer", {**OFFER, "price": "48.001"}), 422, "InvalidOffer")
    problem(s.post("record-payment", {"account": "contoso", "amount": "0"}), 422, "InvalidPayment")
    problem(s.post("suspend", {"account": "contoso", "subscription": "S1",
                               "effective_date": "2018-02-01"}), 422, "EffectiveDateInFuture")
    problem(s.post("reactivate", {"account": "contoso", "subscription": "S1"}), 422, "NotSuspended")
    # A body that does not fit the schema: each field at fault is named.
    wrong = problem(s.post("change-quantity", {"account": "contoso", "subscription": "S1",
                                               "quantity": "3", "colour": "red"}),
                    422, "InvalidRequest")
    assert {e["field"] for e in wrong["errors"]} == {"body.quantity", "body.colour"}
    problem(s.post("record-payment", {"account": "contoso", "amount": 12.5}), 422, "InvalidRequest")
    problem(s.http.post("/api/v1/commands/suspend", content=b"{not json",
                        headers={"content-type": "application/json"}), 422, "InvalidRequest")
    problem(s.http.get("/api/v1/feed", params={"after": -1}), 422, "InvalidRequest")
    problem(s.http.get("/api/v1/accounts/contoso/invoices/2018-02-30"), 422, "InvalidRequest")
    problem(s.http.get("/api/v1/accounts/contoso/invoices/2018-01-15"), 404, "UnknownInvoice")
    problem(s.http.get("/api/v1/nothing-here"), 404, "NotFound")
    page = s.http.get("/accounts/nobody")  # a page answers with a page, and the same status
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "unknown account &#39;nobody&#39;" in page.text
    problem(s.http.post("/api/v1/commands/suspend", content=b"x" * 70_000,
                        headers={"content-type": "application/json"}), 413, "ContentTooLarge")
    # The database failing: 503; a bug: 500, named, without a traceback.
    def store_down() -> list[dict[str, Any]]:
        raise errors.StoreError("database error: connection refused")

    monkeypatch.setattr(s.ledger, "accounts", store_down)
    problem(s.http.get("/api/v1/accounts"), 503, "StoreError")

    def bug() -> list[dict[str, Any]]:
        raise KeyError("oops")

    monkeypatch.setattr(s.ledger, "accounts", bug)
    crashed = problem(s.http.get("/api/v1/accounts"), 500, "InternalError")
    assert "Traceback" not in crashed["detail"] and "KeyError" in crashed["detail"]


@pytest.mark.parametrize(("error", "status"), [
    (errors.UnknownLine("x"), 404), (errors.NotALedger("x"), 404),
    (errors.DuplicateAccount("x"), 409), (errors.IdempotencyConflict("x"), 409),
    (errors.InvalidQuantity("x"), 422), (errors.OnlineCancellationRefused("x"), 422),
    (errors.ConcurrencyConflict("x"), 503), (errors.LogAltered("x"), 503),
    (errors.LedgerError("x"), 400),
    (errors.BillingRunIncomplete("acme", errors.StoreError("down")), 503),
    (errors.BillingRunIncomplete("acme", errors.InvalidTransition("no")), 422),
])
def test_the_status_of_every_kind_of_error(error: Exception, status: int) -> None:
    assert status_of(error) == status


# ---------------------------------------------------------------------------- billing and reads
def test_billing_reads_and_audit(served: Served) -> None:
    s = served
    open_book(s)
    s.clock.set(date(2018, 2, 1))
    s.ok("change-quantity", {"account": "contoso", "subscription": "S1", "quantity": 2})
    problem(s.http.post("/api/v1/bill", json={"until": "2018-02-15"}), 422, "EffectiveDateInFuture")
    s.clock.set(date(2018, 2, 16))
    preview = s.http.get("/api/v1/accounts/contoso/preview").json()
    assert preview["billing_date"] == "2018-01-15" and preview["lines"][0]["currency"] == "USD"
    run = s.http.post("/api/v1/bill", json={"until": "2018-02-15"}, headers={"Idempotency-Key": "b1"})
    assert run.status_code == 200, run.text
    assert run.json()["issued"] == ["contoso-20180115", "contoso-20180215"]
    again = s.http.post("/api/v1/bill", json={"until": "2018-02-15"}).json()
    assert again["issued"] == [] and "0 invoice(s) issued" in again["summary"]

    listed = s.http.get("/api/v1/invoices", params={"account": "contoso"}).json()
    assert [(i["invoice_number"], i["currency"]) for i in listed] == [
        ("contoso-20180115", "USD"), ("contoso-20180215", "USD")]
    answer = s.http.get("/api/v1/accounts/contoso/invoices/2018-02-15")
    document = answer.json()
    models.InvoiceDocument.model_validate(document)
    assert invoicing.digest(document) == listed[1]["digest"]  # the document as issued
    assert document["amount_due"] == s.ledger.invoice("contoso", date(2018, 2, 15))["amount_due"]
    lines = [line for group in document["subscriptions"] for line in group["lines"]]

    html = s.http.get("/api/v1/accounts/contoso/invoices/2018-02-15/html", params={"locale": "it_IT"})
    assert html.headers["content-type"].startswith("text/html")
    assert html.text == s.ledger.invoice_html("contoso", date(2018, 2, 15), "it_IT")
    text = s.http.get("/api/v1/accounts/contoso/invoices/2018-02-15/text")
    assert text.text == s.ledger.invoice_text("contoso", date(2018, 2, 15))
    problem(s.http.get("/api/v1/accounts/contoso/invoices/2018-02-15/text",
                       params={"locale": "xx_XX"}), 422, "InvalidInput")
    csv = s.http.get("/api/v1/accounts/contoso/reconciliation/2018-02-15")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content == s.ledger.reconciliation("contoso", date(2018, 2, 15))
    assert "reconciliation-2018-02-15.csv" in csv.headers["content-disposition"]
    accounts = s.http.get("/api/v1/accounts").json()
    assert accounts[0]["account"] == "contoso" and accounts[0]["last_amount_due"] == document["amount_due"]

    explained = s.http.get(f"/api/v1/invoices/contoso-20180215/lines/{len(lines)}/explanation").json()
    assert explained["arithmetic"] == lines[-1]["basis"]
    assert [e["type"] for e in explained["events"]] == [
        e.type for e in s.ledger.explain("contoso-20180215", len(lines)).events]
    problem(s.http.get(f"/api/v1/invoices/contoso-20180215/lines/{len(lines) + 1}/explanation"),
            404, "UnknownLine")

    path = "/api/v1/accounts/contoso/subscriptions/S1/history"
    assert s.http.get(path, params={"as_of": "2018-01-31"}).json()["state"]["quantity"] == 1
    assert s.http.get(path).json()["state"]["quantity"] == 2
    before_change = datetime(2018, 1, 31, tzinfo=UTC).isoformat()
    known = s.http.get(path, params={"as_of": "2018-02-10", "known_at": before_change}).json()
    assert known["state"]["quantity"] == 1 and known["known_at"].startswith("2018-01-31")
    naive = s.http.get(path, params={"known_at": "2018-01-31T00:00:00"}).json()
    assert naive["state"]["quantity"] == 1  # a time without a zone is UTC
    problem(s.http.get(path, params={"known_at": "3001-01-01T00:00:00Z"}), 422, "InvalidInput")

    verified = s.http.get("/api/v1/verify").json()
    assert verified["ok"] is True and len(verified["checks"]) == 2 and verified["findings"] == []
    anchor = s.http.get("/api/v1/anchor").json()
    assert anchor == s.ledger.anchor()


def test_the_feed_pages_by_position_without_gaps_or_repeats(served: Served) -> None:
    s = served
    open_book(s)
    for quantity in range(2, 9):
        s.ok("change-quantity", {"account": "contoso", "subscription": "S1", "quantity": quantity})
    everything = s.ledger.feed()
    seen: list[dict[str, Any]] = []
    after = 0
    while True:
        page = s.http.get("/api/v1/feed", params={"after": after, "limit": 3}).json()
        if not page["records"]:
            assert page["next_after"] == after
            break
        assert len(page["records"]) <= 3
        seen += page["records"]
        after = page["next_after"]
    assert seen == everything and len(seen) == 9
    for record in seen:
        models.FeedRecord.model_validate(record)
    problem(s.http.get("/api/v1/feed", params={"limit": 1001}), 422, "InvalidRequest")


# ---------------------------------------------------------------------------- the stream
def read_stream(base: str, count: int, got: list[dict[str, Any]], ids: list[int],
                headers: dict[str, str] | None = None, after: int = 0) -> None:
    with httpx.Client(base_url=base, timeout=httpx.Timeout(20, read=20)) as http, \
            http.stream("GET", "/api/v1/feed/stream", params={"after": after},
                        headers=headers or {}) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        event: dict[str, str] = {}
        for line in answer.iter_lines():
            if line:
                name, _, value = line.partition(": ")
                event[name] = value
                continue
            if "data" in event:
                record = json.loads(event["data"])
                assert event["event"] == record["type"]
                ids.append(int(event["id"]))
                got.append(record)
                if len(got) >= count:
                    return
            event = {}


def test_the_stream_delivers_each_event_once_as_it_is_recorded(served: Served) -> None:
    s = served
    open_book(s)  # two records before the stream starts (an offer is not in the feed)
    base = str(s.http.base_url).rstrip("/")
    got: list[dict[str, Any]] = []
    ids: list[int] = []
    reader = threading.Thread(target=read_stream, args=(base, 8, got, ids))
    reader.start()
    for quantity in range(2, 8):  # six more, recorded while it listens
        s.ok("change-quantity", {"account": "contoso", "subscription": "S1", "quantity": quantity})
    reader.join(30)
    assert not reader.is_alive()
    assert got == s.ledger.feed() and len(got) == 8
    assert ids == sorted(set(ids)) == [r["position"] for r in got]
    # A client reconnecting with the last id it saw gets only what came after it.
    resumed: list[dict[str, Any]] = []
    read_stream(base, 5, resumed, [], headers={"Last-Event-ID": str(ids[2])})
    assert resumed == got[3:]
    problem(s.http.get("/api/v1/feed/stream", headers={"Last-Event-ID": "x1"}), 422, "InvalidInput")


def test_requests_at_once_from_many_threads(served: Served) -> None:
    """The server's threads share one Ledger: commands on different accounts, and reads, at
    once. (Many writers on one account can lose races more often than the ledger retries:
    that is a 503 ConcurrencyConflict, which the client retries with its key.)"""
    s = served
    open_book(s)
    for n in range(1, 13):
        s.ok("open-account", {"account": f"a{n}", "billing_day": n})

    def buy(n: int) -> int:
        return s.post("purchase", {"account": f"a{n}", "subscription": "S1", "offer": "e1",
                                   "quantity": n}, key=f"buy-{n}").status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(buy, range(1, 13)))
        reads = list(pool.map(lambda _: s.http.get("/api/v1/accounts").status_code, range(12)))
    assert statuses == [201] * 12 and reads == [200] * 12
    bought = [r for r in s.feed() if r["type"] == "subscription.purchased"]
    assert sorted(r["data"]["quantity"] for r in bought) == [1, *range(1, 13)]


# ---------------------------------------------------------------------------- the token
def test_a_token_is_required_when_the_server_has_one(new_store: NewStore) -> None:
    token = "s3cret-token-for-the-tests"
    with Ledger(new_store("auth"), clock=TestClock(date(2018, 1, 13))) as ledger, \
            serving(ledger, token=token) as base, httpx.Client(base_url=base) as http:
        problem(http.get("/api/v1/accounts"), 401, "Unauthorized")
        wrong = http.get("/api/v1/accounts", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
        assert http.get("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}).json() == []
        assert http.get("/openapi.json").status_code == 200  # the document is public
        page = http.get("/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")
        refused = http.post("/sign-in", data={"token": "nope", "next": "/verify"})
        assert refused.status_code == 401
        signed = http.post("/sign-in", data={"token": token, "next": "/verify"},
                           follow_redirects=False)
        assert signed.status_code == 303 and signed.headers["location"] == "/verify"
        assert http.get("/verify").status_code == 200  # the cookie now


# ---------------------------------------------------------------------------- the document
def test_the_openapi_document_describes_every_body_and_answer(served: Served) -> None:
    document = served.http.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            if method == "post":
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                assert "$ref" in schema, where
            answers = {code: a for code, a in operation["responses"].items() if code.startswith("2")}
            assert len(answers) == 1, where
            (answer,) = answers.values()
            for media, content in answer["content"].items():
                schema = content.get("schema", {})
                assert schema.get("$ref") or schema.get("type") in {"array", "string"}, (where, media)
            if path.startswith("/api/v1/"):
                assert "404" in operation["responses"] and "422" in operation["responses"], where
    components = document["components"]["schemas"]
    assert components["PurchaseBody"]["required"] == ["account", "subscription", "offer", "quantity"]
    assert components["RecordPaymentBody"]["properties"]["amount"]["type"] == "string"


# ---------------------------------------------------------------------------- answers fit the document
def test_every_answer_fits_the_schema_the_openapi_document_gives_it(served: Served) -> None:
    """What a client written from the OpenAPI document alone expects: each answer's body
    validates against the schema the document declares for its path, method, status and
    media type."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    s = served
    document = s.http.get("/openapi.json").json()
    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", Resource.from_contents(document, default_specification=DRAFT202012))

    def fits(answer: httpx.Response, template: str) -> None:
        operation = document["paths"][template][answer.request.method.lower()]
        declared = operation["responses"][str(answer.status_code)]
        media = answer.headers["content-type"].split(";")[0]
        schema = declared["content"][media]["schema"]
        if "$ref" in schema:
            schema = {"$ref": "urn:openapi" + schema["$ref"]}
        elif schema.get("type") == "array" and "$ref" in schema["items"]:
            schema = {"type": "array", "items": {"$ref": "urn:openapi" + schema["items"]["$ref"]}}
        jsonschema.Draft202012Validator(schema, registry=registry).validate(answer.json())

    command = "/api/v1/commands/{name}"
    for name, body in (("define-offer", OFFER),
                       ("open-account", {"account": "contoso", "billing_day": 15}),
                       ("purchase", {"account": "contoso", "subscription": "S1", "offer": "e1",
                                     "quantity": 2}),
                       ("record-payment", {"account": "contoso", "amount": "10.00"}),
                       ("suspend", {"account": "contoso", "subscription": "S9"}),
                       ("open-account", {"account": "contoso", "billing_day": 15}),
                       ("suspend", {"account": "contoso", "subscription": "S1", "x": 1})):
        fits(s.http.post(f"/api/v1/commands/{name}", json=body), command.replace("{name}", name))
    s.clock.set(date(2018, 2, 1))
    s.ok("change-quantity", {"account": "contoso", "subscription": "S1", "quantity": 3})
    fits(s.http.get("/api/v1/accounts/contoso/preview"), "/api/v1/accounts/{account}/preview")
    s.clock.set(date(2018, 2, 16))
    fits(s.http.post("/api/v1/bill", json={"until": "2018-02-15"}), "/api/v1/bill")
    fits(s.http.post("/api/v1/bill", json={"until": "2019-02-15"}), "/api/v1/bill")
    for path, template in (
            ("/api/v1/accounts", "/api/v1/accounts"),
            ("/api/v1/accounts/contoso/subscriptions", "/api/v1/accounts/{account}/subscriptions"),
            ("/api/v1/accounts/nobody/subscriptions", "/api/v1/accounts/{account}/subscriptions"),
            ("/api/v1/invoices", "/api/v1/invoices"),
            ("/api/v1/accounts/contoso/invoices/2018-02-15",
             "/api/v1/accounts/{account}/invoices/{billing_date}"),
            ("/api/v1/accounts/contoso/subscriptions/S1/history?known_at=2018-01-20T00:00:00Z",
             "/api/v1/accounts/{account}/subscriptions/{subscription}/history"),
            ("/api/v1/invoices/contoso-20180215/lines/1/explanation",
             "/api/v1/invoices/{invoice_number}/lines/{line}/explanation"),
            ("/api/v1/verify", "/api/v1/verify"), ("/api/v1/anchor", "/api/v1/anchor"),
            ("/api/v1/feed?limit=50", "/api/v1/feed"), ("/api/v1/feed?after=x", "/api/v1/feed")):
        fits(s.http.get(path), template)
