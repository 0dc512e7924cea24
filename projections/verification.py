"""``verify``: the log, its seals, the issued invoices, the snapshots and the views, each
checked against what the events say.

Nothing here trusts a snapshot or a view: aggregates are replayed from their events, and
the views are compared with a fold of the log into a scratch store. Each problem becomes one
:class:`Finding` (a place and a sentence); checking goes on after it, so one altered event
does not hide the rest. What is checked, and what needs an anchor kept outside the database,
is explained in docs/explanation/tamper-evidence.md.

1. **The chain** (:mod:`ledger.chain`): every position of the log is read in order; each
   event must match its seal, follow its predecessor's seal, and every seal must have its
   event. Every aggregate's versions must follow 1, 2, 3, ... Every event must decode.
2. **Anchors**: each invoice records the log's head at its cut; the head recomputed from
   the events must equal it. ``anchors`` given by the caller (an exported head, or a
   customer's copy of an invoice) are checked the same way.
3. **Accounts**, replayed from their events: their billing dates follow one another with
   none missing or cut twice; every invoice is canonical, matches its digest, adds up, was
   cut with every subscription the account held, holds exactly the lines its subscriptions
   posted for its date, and (rated by this code's rules) re-derives to the same bytes;
   every posted line is on exactly one invoice.
4. **Snapshots**: each aggregate's latest snapshot equals its events replayed.
5. **Views** (the books' journal lines and payments among them): every row equals what a
   fold of the log up to the views' tracked position writes, and the tracking row is where
   the rows say it is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from ledger import ids, invoicing, rating
from ledger.account import BillingAccount
from ledger.aggregate import replay
from ledger.catalog import AccountRegistry
from ledger.chain import GENESIS, link
from ledger.cut import CutResult, Rated, derive_cut
from ledger.errors import InvalidInput
from ledger.money import round_money
from ledger.subscription import Subscription
from projections.log import EventLog
from projections.view_rows import TOPICS, ops_for
from projections.views import TABLE_KEYS, VIEW_TABLES, SQLiteBillingViews, _Views

Progress = Callable[[int, int], None]
_HEAD_DIFFERS = "the log's head"
#: At most this many findings are listed for one view table; the rest are counted.
MAX_ROW_FINDINGS = 20


@dataclass(frozen=True)
class Finding:
    """One problem: where, and what."""

    where: str
    message: str
    invoice: str | None = None  # the invoice it concerns, if any
    kind: str = ""  # "head": an invoice's recorded head that the log no longer produces

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class InvoiceCheck:
    account: str
    billing_date: date
    invoice_number: str
    problems: tuple[str, ...]
    rerated: bool  # re-derived by this code's rules (else checked against its posted lines)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Anchor:
    """A head kept outside the database: an exported one, or a customer's invoice."""

    source: str
    position: int
    head: str
    invoice: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Verification:
    checks: tuple[InvoiceCheck, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    positions: int  # positions of the log read

    @property
    def ok(self) -> bool:
        return not self.findings


def parse_anchor(text: str, source: str) -> Anchor:
    """An anchor from JSON: ``{"position": N, "head": "..."}`` (``billing-ledger anchor``) or
    an invoice document (its ``log``)."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidInput(f"{source}: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: an anchor is a JSON object")
    invoice = data if "invoice_number" in data else None
    point = data.get("log") if invoice is not None else data
    if invoice is not None and point is None:
        raise InvalidInput(f"{source}: invoice {data.get('invoice_number')!r} was issued before "
                           "invoices carried the log's head: it anchors nothing")
    if not isinstance(point, dict) or not isinstance(point.get("position"), int) or \
            isinstance(point.get("position"), bool) or not isinstance(point.get("head"), str) or \
            len(point["head"]) != 64:
        raise InvalidInput(f"{source}: an anchor needs a position (a whole number) and a head "
                           "(64 hexadecimal digits)")
    return Anchor(source, point["position"], point["head"], invoice)


# --------------------------------------------------------------------------- 1. the log
class _Heads:
    """The head recomputed after each position of the log: 32 bytes a position (32 MB for a
    million events), so that any cut position or anchor can be looked up."""

    def __init__(self) -> None:
        self._heads = bytearray()
        self._present = bytearray()

    def set(self, position: int, head: str) -> None:
        missing = position + 1 - len(self._present)
        if missing > 0:
            self._present.extend(bytes(missing))
            self._heads.extend(bytes(32 * missing))
        self._present[position] = 1
        self._heads[32 * position: 32 * position + 32] = bytes.fromhex(head)

    def at(self, position: int) -> str | None:
        """The head after the last event at or before ``position``."""
        for p in range(min(position, len(self._present) - 1), -1, -1):
            if self._present[p]:
                return bytes(self._heads[32 * p: 32 * p + 32]).hex()
        return GENESIS if position >= 0 else None


@dataclass
class _Scan:
    """What one read of the whole log learnt."""

    heads: _Heads = field(default_factory=_Heads)
    last_head: str = GENESIS
    last_position: int = 0
    accounts: dict[str, int] = field(default_factory=dict)  # key -> position opened
    broken: set[UUID] = field(default_factory=set)  # aggregates with unreadable/missing events

    def head_at(self, position: int) -> str | None:
        return self.heads.at(position)


def _describe(notification: Any) -> str:
    topic = str(notification.topic).rpartition(".")[2].replace(":", ".")
    return f"{topic} of {notification.originator_id} v{notification.originator_version}"


def _scan(log: EventLog, findings: list[Finding], notes: list[str],
          progress: Progress | None) -> _Scan:
    origin = log.chain_origin()
    chained = origin is not None
    if not chained:
        notes.append("this store keeps no seals (in memory): the chain was not checked")
    elif origin:
        notes.append(f"events 1 to {origin} were recorded before the log was sealed; they were "
                     "sealed when a sealing version first opened the ledger")
    scan = _Scan()
    versions: dict[UUID, int] = {}
    last_seal = GENESIS
    total = log.last_position()
    for position, note, seal in log.positions():
        if note is not None:
            scan.last_head = link(scan.last_head, note.id, note.originator_id,
                                  note.originator_version, note.topic, note.state)
            scan.last_position = position
            scan.heads.set(position, scan.last_head)
            _check_event(log, note, versions, scan, findings)
        if chained:
            where = f"log position {position}"
            if note is None and seal is not None:
                findings.append(Finding(where, "sealed, but its event is gone (deleted from the "
                                               "events table)"))
            elif note is not None and seal is None:
                findings.append(Finding(where, f"{_describe(note)} has no seal: it was recorded "
                                               "outside the ledger"))
            elif note is not None and seal is not None:
                expected = link(last_seal, note.id, note.originator_id, note.originator_version,
                                note.topic, note.state)
                if expected != seal.hash:
                    findings.append(Finding(where, f"{_describe(note)} does not match its seal "
                                                   "(the event was changed, moved, or the event "
                                                   "before it removed)"))
            if seal is not None:
                last_seal = seal.hash
        if progress is not None and position % 1000 == 0:
            progress(position, total)
    return scan


def _check_event(log: EventLog, note: Any, versions: dict[UUID, int], scan: _Scan,
                 findings: list[Finding]) -> None:
    where = f"log position {note.id}"
    previous = versions.get(note.originator_id, 0)
    if note.originator_version != previous + 1:
        scan.broken.add(note.originator_id)
        gap = (f"versions {previous + 1} to {note.originator_version - 1} are missing"
               if note.originator_version > previous + 1 else "it is out of order")
        findings.append(Finding(where, f"{_describe(note)} follows version {previous}: {gap}"))
    versions[note.originator_id] = max(previous, note.originator_version)
    try:
        event = log.decode(note)
    except Exception as error:  # an event that does not decode is a finding, not a crash
        scan.broken.add(note.originator_id)
        findings.append(Finding(where, f"{_describe(note)} cannot be read: "
                                       f"{type(error).__name__}: {error}"))
        return
    if isinstance(event, BillingAccount.Opened):
        scan.accounts[event.key] = note.id


# --------------------------------------------------------------------------- 3. accounts
def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal("NaN")


def _adds_up(document: Mapping[str, Any]) -> list[str]:
    """What does not add up in the amounts an invoice shows."""
    problems = []
    try:
        lines = []
        for group in document["subscriptions"]:
            amounts = [_money(line["amount"]) for line in group["lines"]]
            if sum(amounts, Decimal(0)) != _money(group["subtotal"]):
                problems.append(f"subscription {group['subscription']}'s lines do not add up to "
                                f"its subtotal {group['subtotal']}")
            lines.extend(amounts)
        shown = {key: _money(document[key]) for key in (
            "charges", "credits", "total", "balance_brought_forward", "payments_received",
            "amount_due")}
    except (KeyError, TypeError) as error:
        return [f"the document lacks {error}"]
    if sum(lines, Decimal(0)) != shown["total"] or shown["charges"] + shown["credits"] != shown["total"]:
        problems.append(f"its lines do not add up to its total {document['total']}")
    due = shown["balance_brought_forward"] - shown["payments_received"] + shown["total"]
    if due != shown["amount_due"]:
        problems.append(f"brought forward - payments + total is {due}, not the amount due "
                        f"{document['amount_due']}")
    return problems


class _AccountCheck:
    """Replays one account from its events and checks every billing date it cut."""

    def __init__(self, log: EventLog, key: str, scan: _Scan, findings: list[Finding]) -> None:
        self.log, self.key, self.scan, self.findings = log, key, scan, findings
        self.checks: list[InvoiceCheck] = []
        self.subscriptions: dict[str, list[Any]] = {}
        self.held: list[str] = []

    def history(self, sub: str) -> list[Any]:
        if sub not in self.subscriptions:
            self.subscriptions[sub] = self.log.aggregate_events(ids.subscription_id(self.key, sub))
        return self.subscriptions[sub]

    def postings(self, sub: str) -> dict[date, Any]:
        return {ev.billing_date: ev for ev in self.history(sub)
                if isinstance(ev, Subscription.ChargesPosted)}

    def run(self) -> None:
        where = f"account {self.key}"
        if ids.account_id(self.key) in self.scan.broken:
            self.findings.append(Finding(where, "its events are incomplete or unreadable (see the "
                                                "log findings): its invoices were not checked"))
            return
        events = self.log.aggregate_events(ids.account_id(self.key))
        self.held = [ev.subscription for ev in events if isinstance(ev, BillingAccount.SubscriptionAdded)]
        aggregate: Any = None
        cut: dict[date, Any] = {}
        for event in events:
            if aggregate is not None and isinstance(
                    event, (BillingAccount.InvoiceIssued, BillingAccount.BillingDateClosed)):
                expected = aggregate.next_billing_date()
                if event.billing_date in cut:
                    self.findings.append(Finding(where, f"billing date {event.billing_date} was cut twice"))
                elif event.billing_date != expected:
                    skipped = "skipped" if event.billing_date > expected else "out of order"
                    self.findings.append(Finding(
                        where, f"billing date {event.billing_date} was cut after "
                               f"{aggregate.last_billing_date or 'none'}: {expected} is {skipped}"))
                cut[event.billing_date] = event
                if isinstance(event, BillingAccount.InvoiceIssued):
                    self.checks.append(self.invoice(aggregate, event))
                else:
                    self.closed(aggregate, event)
            aggregate = event.mutate(aggregate)
        if aggregate is None:
            return
        self.check_postings(aggregate, cut)
        for sub in aggregate.subscriptions:
            if ids.subscription_id(self.key, sub) in self.scan.broken:
                continue
            _check_snapshot(self.log, ids.subscription_id(self.key, sub), self.history(sub),
                            f"subscription {self.key}/{sub}", self.findings)
        _check_snapshot(self.log, ids.account_id(self.key), events, where, self.findings)

    def check_postings(self, aggregate: Any, cut: Mapping[date, Any]) -> None:
        """Every posted line is on the invoice of its billing date (the invoices' side is
        checked with each invoice)."""
        for sub in aggregate.subscriptions:
            for day, posted in sorted(self.postings(sub).items()):
                where = f"subscription {self.key}/{sub}"
                record = cut.get(day)
                if record is None:
                    self.findings.append(Finding(where, f"posted {len(posted.lines)} line(s) for "
                                                        f"{day}, a billing date the account never cut"))
                elif isinstance(record, BillingAccount.BillingDateClosed) and posted.lines:
                    self.findings.append(Finding(where, f"posted {len(posted.lines)} line(s) for "
                                                        f"{day}, a date closed with nothing invoiced"))

    def closed(self, before: Any, closed: Any) -> None:
        """A date closed with nothing to invoice: cut with every subscription the account
        held, and (by this code's rules) still nothing to post."""
        if closed.subscription_versions is None:
            return  # closed before the versions were recorded
        where = f"account {self.key} billing date {closed.billing_date}"
        problems = self.cut_with_every_subscription(before, closed)
        if not problems:
            histories = {sub: [ev for ev in self.history(sub) if ev.originator_version <= version]
                         for sub, version in closed.subscription_versions.items()}
            try:
                result = derive_cut(
                    account=before.key, account_name=before.name, currency=before.currency,
                    balance=before.balance, payments=before.payments_since_invoice,
                    subscriptions={sub: Rated.whole(history) for sub, history in histories.items()},
                    billing_date=closed.billing_date,
                    log=invoicing.LogPoint(closed.cut_position, None))
            except Exception as error:
                problems.append(f"re-deriving it failed: {type(error).__name__}: {error}")
            else:
                if result.document is not None:
                    problems.append("closed with nothing to invoice, but the log rates "
                                    f"{len(result.lines)} line(s) for it")
        self.findings.extend(Finding(where, problem) for problem in problems)

    def invoice(self, before: Any, issued: Any) -> InvoiceCheck:
        problems: list[str] = []
        number = issued.invoice_number
        try:
            document: dict[str, Any] = json.loads(issued.document)
        except ValueError:
            return self._record(issued, ["the recorded document is not JSON"], False)
        if invoicing.canonical_bytes(document).decode() != issued.document:
            problems.append("the recorded document is not in canonical form")
        if invoicing.digest(document) != issued.digest:
            problems.append("the recorded document does not match its recorded digest")
        problems += _adds_up(document)
        rules, version = document.get("rules_version"), document.get("document_version")
        if rules not in range(1, rating.RULES_VERSION + 1):
            problems.append(f"rules version {rules!r} is not one this ledger has had "
                            f"(1 to {rating.RULES_VERSION})")
        if version not in range(1, invoicing.DOCUMENT_VERSION + 1):
            problems.append(f"document version {version!r} is not one this ledger has had")
        if document.get("invoice_number") != number or document.get("account") != self.key or \
                document.get("billing_date") != issued.billing_date.isoformat():
            problems.append("the document's number, account or date is not the event's")
        problems += self.anchored(document, issued)
        problems += self.cut_with_every_subscription(before, issued)
        problems += self.lines_are_the_posted_ones(document, issued.billing_date)
        rerated = False
        if rules == rating.RULES_VERSION and version == invoicing.DOCUMENT_VERSION and not problems:
            rerated = True
            try:
                result = cut_again(issued, before, self.history)
            except Exception as error:  # a history that cannot be rated is a finding
                problems.append(f"re-deriving it failed: {type(error).__name__}: {error}")
            else:
                derived = result.document if result is not None else None
                if derived is None or invoicing.digest(derived) != issued.digest:
                    problems.append(_first_difference(derived or {}, document))
                if result is not None:
                    problems += self.checkpoints_recorded(result, issued.billing_date)
        if isinstance(before.balance, Decimal) and document.get("balance_brought_forward") is not None:
            brought = _money(document["balance_brought_forward"])
            if brought != round_money(before.balance, str(document.get("currency") or "USD")):
                problems.append(f"it brings forward {document['balance_brought_forward']}, the "
                                f"account's balance was {before.balance}")
        return self._record(issued, problems, rerated)

    def _record(self, issued: Any, problems: list[str], rerated: bool) -> InvoiceCheck:
        for problem in problems:
            self.findings.append(Finding(f"invoice {issued.invoice_number}", problem,
                                         issued.invoice_number,
                                         "head" if problem.startswith(_HEAD_DIFFERS) else ""))
        return InvoiceCheck(self.key, issued.billing_date, issued.invoice_number, tuple(problems),
                            rerated)

    def anchored(self, document: Mapping[str, Any], issued: Any) -> list[str]:
        log = document.get("log")
        if log is None:
            return []  # issued before invoices carried the log's head
        if log.get("position") != issued.cut_position:
            return [f"its log position {log.get('position')} is not its cut position "
                    f"{issued.cut_position}"]
        if log.get("head") is None:
            return []  # issued on a store that keeps no seals
        head = self.scan.head_at(issued.cut_position)
        if head != log["head"]:
            return [f"{_HEAD_DIFFERS} at position {issued.cut_position} is not the one this "
                    "invoice recorded: events recorded before it were changed, removed or added"]
        return []

    def cut_with_every_subscription(self, before: Any, issued: Any) -> list[str]:
        problems = []
        held, rated = list(before.subscriptions), issued.subscription_versions
        for sub in held:
            if sub not in rated:
                problems.append(f"it was cut without subscription {sub}, which the account held "
                                "(the account was loaded from an altered snapshot?)")
        for sub, version in rated.items():
            if sub not in held:
                problems.append(f"it rated subscription {sub}, which the account did not hold")
                continue
            posted = self.postings(sub).get(issued.billing_date)
            if posted is not None and posted.originator_version != version + 1:
                problems.append(f"subscription {sub} posted its lines at version "
                                f"{posted.originator_version}, not right after the rated version {version}")
        return problems

    def lines_are_the_posted_ones(self, document: Mapping[str, Any], day: date) -> list[str]:
        problems = []
        groups = {group["subscription"]: group for group in document.get("subscriptions", [])}
        subs = set(groups) | {sub for sub in self.held if
                              (posted := self.postings(sub).get(day)) is not None and posted.lines}
        for sub in sorted(subs):
            posted = self.postings(sub).get(day) if sub in self.held else None
            want = [invoicing.line_document(line, 0) for line in (posted.lines if posted else ())]
            have = [{**line, "number": 0} for line in groups.get(sub, {}).get("lines", [])]
            if want != have:
                problems.append(f"subscription {sub}'s lines are not the {len(want)} it posted for "
                                f"{day} (the invoice holds {len(have)})")
        return problems

    def checkpoints_recorded(self, result: CutResult, day: date) -> list[str]:
        """Each posting's recorded rating state is what the whole history leaves (a later
        cut rates from it)."""
        problems = []
        for sub, rated in result.ratings.items():
            posted = self.postings(sub).get(day)
            if posted is not None and posted.checkpoint is not None and \
                    posted.checkpoint != rated.checkpoint:
                problems.append(f"subscription {sub}'s recorded rating checkpoint is not what its "
                                "events leave: later cuts rated from it")
        return problems


def rederive(issued: Any, before: Any, history: Callable[[str], Sequence[Any]]) -> dict[str, Any] | None:
    """The document cutting ``issued``'s billing date again makes, from ``before`` (the
    account as it stood before the invoice) and each subscription's ``history``, as far as
    the versions the cut rated; None when it was issued under other rules or another
    document version than this code's (those are checked against their posted lines)."""
    result = cut_again(issued, before, history)
    return result.document if result is not None else None


def cut_again(issued: Any, before: Any, history: Callable[[str], Sequence[Any]]) -> CutResult | None:
    """:func:`rederive`'s whole result: the document and each subscription's rating."""
    document = json.loads(issued.document)
    if document.get("rules_version") != rating.RULES_VERSION or \
            document.get("document_version") != invoicing.DOCUMENT_VERSION:
        return None
    histories = {sub: [ev for ev in history(sub) if ev.originator_version <= version]
                 for sub, version in issued.subscription_versions.items()}
    return derive_cut(
        account=before.key, account_name=before.name, currency=before.currency,
        balance=before.balance, payments=before.payments_since_invoice,
        subscriptions={sub: Rated.whole(history) for sub, history in histories.items()},
        billing_date=issued.billing_date, partner_id=document.get("partner_id", ""),
        log=invoicing.LogPoint(document["log"]["position"], document["log"]["head"]),
    )


def rederive_from_log(log: EventLog, account: str, issued: Any) -> dict[str, Any] | None:
    """:func:`rederive`, reading the account and its subscriptions from the log."""
    before = replay(log.aggregate_events(ids.account_id(account), lte=issued.originator_version - 1))
    return rederive(issued, before,
                    lambda sub: log.aggregate_events(ids.subscription_id(account, sub)))


def _first_difference(derived: Mapping[str, Any], recorded: Mapping[str, Any]) -> str:
    for name in sorted(set(derived) | set(recorded)):
        if derived.get(name) != recorded.get(name):
            return (f"re-derived from the log, its {name} would be {derived.get(name)!r}, not the "
                    f"recorded {recorded.get(name)!r}")
    return "re-derived from the log, it differs"


# --------------------------------------------------------------------------- 4. snapshots
def _state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def _check_snapshot(log: EventLog, aggregate_id: UUID, events: Sequence[Any], where: str,
                    findings: list[Finding]) -> None:
    try:
        snapshot = log.latest_snapshot(aggregate_id)
    except Exception as error:
        findings.append(Finding(where, f"its snapshot cannot be read: {type(error).__name__}: {error}"))
        return
    if snapshot is None:
        return
    if snapshot.originator_version > len(events):
        findings.append(Finding(where, f"its snapshot is of version {snapshot.originator_version}, "
                                       f"but it has {len(events)} events"))
        return
    try:
        loaded = snapshot.mutate(None)
    except Exception as error:
        findings.append(Finding(where, f"its snapshot cannot be loaded: {type(error).__name__}: {error}"))
        return
    replayed = replay(events[: snapshot.originator_version])
    if _state(loaded) != _state(replayed):
        differing = sorted(name for name in set(_state(loaded)) | set(_state(replayed))
                           if _state(loaded).get(name) != _state(replayed).get(name))
        findings.append(Finding(where, f"its snapshot at version {snapshot.originator_version} is not "
                                       f"what its events make ({', '.join(differing)} differ): delete "
                                       "the snapshot, the events are the record"))


# --------------------------------------------------------------------------- 5. views
def _scratch_views() -> tuple[Any, _Views]:
    name = f"file:verify-{uuid.uuid4().hex}?mode=memory&cache=shared"
    env = Environment("BillingViews", {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                       "SQLITE_DBNAME": name})
    factory = InfrastructureFactory.construct(env)
    views: Any = factory.tracking_recorder(SQLiteBillingViews)
    return factory, views


def _normal(row: Mapping[str, Any]) -> dict[str, str | None]:
    return {k: None if v is None else str(v) for k, v in row.items()}


def _check_views(log: EventLog, views: _Views, name: str, account: str | None,
                 findings: list[Finding]) -> None:
    try:
        position = views.position(name)
    except Exception as error:
        findings.append(Finding("views", str(error)))
        return
    factory, scratch = _scratch_views()
    try:
        _fold_and_compare(log, views, scratch, name, position, account, findings)
    except Exception as error:  # e.g. views made to another shape: say so, do not crash
        findings.append(Finding("views", f"could not be compared with the log: "
                                         f"{type(error).__name__}: {error}"))
    finally:
        factory.close()


def _fold_and_compare(log: EventLog, views: _Views, scratch: _Views, name: str, position: int,
                  account: str | None, findings: list[Finding]) -> None:
    scratch.start_tracking(name)
    done = 0
    while done < position:
        notes = log.notifications(done, 2000, stop=position, topics=TOPICS)
        if not notes:
            break
        ops: list[Any] = []
        for note in notes:
            try:
                ops.extend(ops_for(log.decode(note), note.id))
            except Exception as error:  # the log's findings say why; fold the rest
                findings.append(Finding("views", f"log position {note.id} cannot be folded "
                                                 f"into the views: {type(error).__name__}: {error}"))
        scratch.apply(ops, name, done, notes[-1].id)
        done = notes[-1].id
    for table in VIEW_TABLES:
        _compare_table(table, views, scratch, position, account, findings)


def _compare_table(table: str, live: _Views, scratch: _Views, position: int, account: str | None,
                   findings: list[Finding]) -> None:
    key_columns = TABLE_KEYS[table]
    account_id = ids.account_id(account).hex if account is not None else None

    def keyed(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str | None, ...], dict[str, str | None]]:
        result = {}
        for row in rows:
            normal = _normal(row)
            owner = normal["account"] == account if "account" in normal else \
                normal.get("account_id") == account_id  # journal payments: by aggregate
            if account is None or owner:
                result[tuple(normal[k] for k in key_columns)] = normal
        return result

    have, want = keyed(live.table_rows(table)), keyed(scratch.table_rows(table))
    problems: list[Finding] = []
    for key in sorted(set(have) | set(want), key=lambda k: tuple(x or "" for x in k)):
        where = f"view {table} {'/'.join(x or '' for x in key)}"
        invoice = _invoice_of(table, want.get(key) or have.get(key) or {})
        if key not in want:
            problems.append(Finding(where, "a row the log does not make (added outside the ledger)",
                                    invoice))
        elif key not in have:
            problems.append(Finding(where, "missing: the log makes this row", invoice))
        else:
            differing = [c for c in want[key] if have[key].get(c) != want[key][c]]
            if differing:
                text = "; ".join(f"{c} is {have[key].get(c)!r}, the log says {want[key][c]!r}"
                                 for c in differing)
                problems.append(Finding(where, text, invoice))
    newer = [row for row in have.values() if row.get("notification_id") is not None
             and int(row["notification_id"] or 0) > position]
    if newer:
        problems.append(Finding(f"view {table}", f"{len(newer)} row(s) come from events after the "
                                                 f"tracked position {position}: the tracking row was "
                                                 "lowered; run `billing-ledger rebuild`"))
    findings.extend(problems[:MAX_ROW_FINDINGS])
    if len(problems) > MAX_ROW_FINDINGS:
        findings.append(Finding(f"view {table}", f"and {len(problems) - MAX_ROW_FINDINGS} more rows "
                                                 "differ from the log"))


def _invoice_of(table: str, row: Mapping[str, Any]) -> str | None:
    if table == "invoices":
        return row.get("invoice_number")
    if table == "invoice_lines" and row.get("account") and row.get("billing_date"):
        return invoicing.invoice_number(str(row["account"]),
                                        date.fromisoformat(str(row["billing_date"])))
    return None


# --------------------------------------------------------------------------- entry point
def verify(log: EventLog, views: _Views, *, account: str | None = None,
           anchors: Sequence[Anchor] = (), progress: Progress | None = None) -> Verification:
    """Check the log, the invoices of ``account`` (or of every account), the snapshots and
    the views; ``anchors`` are heads kept outside the database."""
    findings: list[Finding] = []
    notes: list[str] = []
    scan = _scan(log, findings, notes, progress)
    for anchor in anchors:
        _check_anchor(log, anchor, scan, findings)
    registry = _registry_accounts(log, scan, findings)
    keys = [account] if account is not None else sorted(set(registry) | set(scan.accounts))
    checks: list[InvoiceCheck] = []
    for done, key in enumerate(keys, start=1):
        if account is not None and key not in scan.accounts:
            findings.append(Finding(f"account {key}", "the log holds no such account"))
            continue
        run = _AccountCheck(log, key, scan, findings)
        try:
            run.run()
        except Exception as error:  # whatever else is wrong with one account, check the rest
            findings.append(Finding(f"account {key}", f"could not be checked: "
                                                      f"{type(error).__name__}: {error}"))
        checks.extend(run.checks)
        if progress is not None:
            progress(done, len(keys))
    _check_views(log, views, log.name, account, findings)
    findings = _one_line_for_later_heads(findings)
    attach = {check.invoice_number: check for check in checks}
    for finding in findings:
        if finding.invoice in attach and finding.where.startswith("view"):
            check = attach[finding.invoice]
            attach[finding.invoice] = InvoiceCheck(check.account, check.billing_date,
                                                   check.invoice_number,
                                                   (*check.problems, str(finding)), check.rerated)
    return Verification(tuple(attach[check.invoice_number] for check in checks), tuple(findings),
                        tuple(notes), scan.last_position)


def _one_line_for_later_heads(findings: list[Finding]) -> list[Finding]:
    """A change to the log makes every head recorded after it differ: the first invoice says
    where, one line counts the rest (each invoice's own check still lists its problem)."""
    heads = [finding for finding in findings if finding.kind == "head"]
    if len(heads) <= 1:
        return findings
    first = min(heads, key=lambda finding: int(finding.message.split(" at position ")[1].split()[0]))
    rest = len(heads) - 1
    kept = [finding for finding in findings if finding.kind != "head" or finding is first]
    kept.insert(kept.index(first) + 1, Finding(
        "invoices", f"and {rest} invoice(s) cut after it record heads the log no longer produces"))
    return kept


def _registry_accounts(log: EventLog, scan: _Scan, findings: list[Finding]) -> list[str]:
    events = log.aggregate_events(ids.registry_id())
    if not events:
        return []
    try:
        registry = replay(events)
    except Exception as error:
        findings.append(Finding("account registry", f"cannot be replayed: {type(error).__name__}: {error}"))
        return []
    _check_snapshot(log, ids.registry_id(), events, "account registry", findings)
    for key in set(scan.accounts) - set(registry.accounts):
        findings.append(Finding(f"account {key}", "opened in the log but missing from the account "
                                                  "registry: billing runs skip it"))
    for key in set(registry.accounts) - set(scan.accounts):
        findings.append(Finding(f"account {key}", "in the account registry but never opened"))
    assert isinstance(registry, AccountRegistry)
    return list(registry.accounts)


def _check_anchor(log: EventLog, anchor: Anchor, scan: _Scan, findings: list[Finding]) -> None:
    where = f"anchor {anchor.source}"
    head = scan.head_at(anchor.position)
    if anchor.position > scan.last_position:
        findings.append(Finding(where, f"anchors position {anchor.position}, but the log ends at "
                                       f"{scan.last_position}: events were removed from its end"))
    elif head != anchor.head:
        findings.append(Finding(where, f"the log's head at position {anchor.position} is not the "
                                       "anchored one: events recorded up to it were changed, "
                                       "removed or added"))
    if anchor.invoice is not None:
        number = anchor.invoice.get("invoice_number")
        account = anchor.invoice.get("account")
        found = None
        if isinstance(account, str):
            for event in log.aggregate_events(ids.account_id(account)):
                if isinstance(event, BillingAccount.InvoiceIssued) and event.invoice_number == number:
                    found = event
        if found is None:
            findings.append(Finding(where, f"invoice {number} is not in the log"))
        elif found.digest != invoicing.digest(dict(anchor.invoice)):
            findings.append(Finding(where, f"invoice {number} in the log is not the customer's copy"))


def export_anchor(log: EventLog) -> dict[str, Any]:
    """The log's head now, to keep outside the database (``verify --anchor``)."""
    point = log.log_point()
    return {"position": point.position, "head": point.head}


