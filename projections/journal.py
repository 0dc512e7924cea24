"""The books: double-entry journal entries and revenue recognition, as pure functions of
recorded facts (issued invoice lines and recorded payments). Nothing here rates: an
invoice line's amount, service period and currency are what the issued invoice says.

**Entries.** Every amount is signed, debits positive and credits negative, in the line's
(or the payment's) currency; every entry's postings add up to zero.

* An issued invoice line of amount ``A`` (on its billing date ``B``): debit receivable ``A``;
  credit revenue with what is already recognised through ``B`` (the days of its service
  period up to and including ``B``: all of ``A`` when the period has passed), and deferred
  revenue with the rest. A credit line (``A`` negative) is the same entry with every sign
  turned: it reverses what it credits.
* Recognition: each month after the invoice, the revenue recognised in it moves from
  deferred revenue to revenue (one entry per line and month, dated the month's last day,
  the service period's last day, or the date the journal is read to, whichever comes first;
  or, asked for ``daily``, one entry per line and day).
* A recorded payment ``P``: debit cash ``P``, credit receivable ``P``.

**The recognition rule** (ratable daily, cumulative rounding): a line of amount ``A`` over a
service period of ``N`` days (both ends included) has recognised, through the end of its
``d``-th day, ``round(A x d / N)`` in the currency's minor unit, half away from zero (so a
credit recognises exactly the negation of the charge it reverses). What a day, or a month,
recognises is that figure minus the one before it; the amounts of all its days add up to
``A`` exactly, and deferred revenue of the line is zero after its last day.

Roles (receivable, deferred revenue, revenue, cash) become account names only when the
journal is written out (:class:`JournalAccounts`, defaults documented there).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from ledger.money import currency_places, format_money

ONE_DAY = timedelta(days=1)


class Role(StrEnum):
    """What an account is for; its name comes from :class:`JournalAccounts`."""

    RECEIVABLE = "receivable"
    DEFERRED_REVENUE = "deferred_revenue"
    REVENUE = "revenue"
    CASH = "cash"


ROLE_ORDER: tuple[Role, ...] = (Role.CASH, Role.RECEIVABLE, Role.DEFERRED_REVENUE, Role.REVENUE)


@dataclass(frozen=True)
class JournalAccounts:
    """The account name of each role (beancount's format needs names it accepts: a root of
    Assets, Liabilities, Equity, Income or Expenses, then components starting with a
    capital letter or a digit)."""

    receivable: str = "Assets:Receivable"
    deferred_revenue: str = "Liabilities:DeferredRevenue"
    revenue: str = "Income:Revenue"
    cash: str = "Assets:Cash"

    def name(self, role: Role) -> str:
        value: str = getattr(self, role.value)
        return value

    @classmethod
    def parse(cls, pairs: Iterable[str]) -> JournalAccounts:
        """The defaults with ``ROLE=NAME`` pairs applied (``revenue=Income:Licenses``);
        ValueError naming the pair when a role is unknown or a name empty or spaced."""
        names = {}
        for pair in pairs:
            role, _, name = pair.partition("=")
            if role not in {r.value for r in Role}:
                raise ValueError(f"{pair!r}: the roles are {', '.join(r.value for r in Role)} "
                                 "(ROLE=ACCOUNT)")
            if not name or not name.isprintable() or any(c.isspace() for c in name):
                raise ValueError(f"{pair!r}: an account name is printable text without spaces")
            names[role] = name
        return cls(**names)


@dataclass(frozen=True, order=True)
class EventRef:
    """A recorded event: its aggregate (an account key, or ``account/subscription``) and
    version. Written ``contoso#7`` or ``contoso/S1#3``."""

    aggregate: str
    version: int

    def __str__(self) -> str:
        return f"{self.aggregate}#{self.version}"


@dataclass(frozen=True)
class LineFact:
    """An issued invoice line, as the books read it."""

    account: str
    invoice_number: str
    line_no: int
    issued_on: date
    subscription: str
    currency: str
    amount: Decimal
    start: date
    end: date
    events: tuple[EventRef, ...] = ()

    @property
    def days(self) -> int:
        """Days of the service period, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def key(self) -> str:
        return f"{self.invoice_number}:{self.line_no}"


@dataclass(frozen=True)
class PaymentFact:
    """A recorded payment (its event's version numbers it within the account)."""

    account: str
    version: int
    paid_on: date
    currency: str
    amount: Decimal
    reference: str = ""


@dataclass(frozen=True)
class Posting:
    role: Role
    amount: Decimal  # debit positive, credit negative


_KINDS = {"invoice": 0, "payment": 1, "recognition": 2}


@dataclass(frozen=True)
class Entry:
    """A balanced journal entry and the events it came from."""

    entry_id: str
    day: date
    kind: str  # "invoice", "recognition" or "payment"
    account: str
    currency: str
    postings: tuple[Posting, ...]
    events: tuple[EventRef, ...]
    narration: str
    invoice: str = ""
    line_no: int | None = None
    service: tuple[date, date] | None = None
    arithmetic: str = field(default="", compare=False)

    @property
    def sort_key(self) -> tuple[date, int, str, str, int, str]:
        return (self.day, _KINDS[self.kind], self.account, self.invoice, self.line_no or 0,
                self.entry_id)

    def balance(self) -> Decimal:
        return sum((p.amount for p in self.postings), Decimal(0))


# --------------------------------------------------------------------------- recognition
def _minor(amount: Decimal, currency: str) -> int:
    scaled = amount.scaleb(currency_places(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more places than {currency}'s minor unit")
    return int(scaled)


def _days_elapsed(line: LineFact, day: date) -> int:
    return min(max((day - line.start).days + 1, 0), line.days)


def recognised(line: LineFact, day: date) -> Decimal:
    """What the line has recognised through the end of ``day`` (whether or not it was
    invoiced yet): ``round(A x d / N)``, half away from zero, in the currency's minor unit,
    with integer arithmetic."""
    elapsed = _days_elapsed(line, day)
    minor = _minor(line.amount, line.currency)
    quotient, remainder = divmod(abs(minor) * elapsed, line.days)
    if 2 * remainder >= line.days:
        quotient += 1
    signed = quotient if minor >= 0 else -quotient
    return Decimal(signed).scaleb(-currency_places(line.currency))


def booked(line: LineFact, day: date) -> Decimal:
    """Revenue the journal has booked for the line through ``day``: nothing before its
    invoice, then :func:`recognised` (what was recognised before the invoice is booked on
    its date)."""
    return recognised(line, day) if day >= line.issued_on else Decimal(0)


def daily_schedule(line: LineFact) -> list[tuple[date, Decimal]]:
    """What each day of the service period recognises (the rule, day by day)."""
    result = []
    before = Decimal(0)
    day = line.start
    while day <= line.end:
        now = recognised(line, day)
        result.append((day, now - before))
        before = now
        day += ONE_DAY
    return result


def _month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - ONE_DAY


def _money(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency)


def _arithmetic(line: LineFact, day: date, before: Decimal | None) -> str:
    elapsed = _days_elapsed(line, day)
    now = recognised(line, day)
    text = (f"round({_money(line.amount, line.currency)} x {elapsed}/{line.days}) = "
            f"{_money(now, line.currency)} recognised through {day.isoformat()}")
    if before is not None:
        text += f", less {_money(before, line.currency)} before: {_money(now - before, line.currency)}"
    return text


# --------------------------------------------------------------------------- entries
def _postings(*pairs: tuple[Role, Decimal]) -> tuple[Posting, ...]:
    return tuple(Posting(role, amount) for role, amount in pairs if amount != 0)


def invoice_entry(line: LineFact) -> Entry | None:
    """The entry issuing the line makes (None for a line of zero)."""
    if line.amount == 0:
        return None
    now = recognised(line, line.issued_on)
    return Entry(
        entry_id=line.key, day=line.issued_on, kind="invoice", account=line.account,
        currency=line.currency,
        postings=_postings((Role.RECEIVABLE, line.amount),
                           (Role.DEFERRED_REVENUE, -(line.amount - now)), (Role.REVENUE, -now)),
        events=line.events,
        narration=(f"{line.invoice_number} line {line.line_no}: {line.subscription} "
                   f"{line.start.isoformat()}..{line.end.isoformat()}"),
        invoice=line.invoice_number, line_no=line.line_no, service=(line.start, line.end),
        arithmetic=_arithmetic(line, line.issued_on, None),
    )


def recognition_entry(line: LineFact, first: date, last: date) -> Entry | None:
    """The entry moving what the line recognised from ``first`` to ``last`` (both included)
    from deferred revenue to revenue, dated ``last``; None when that is nothing, or when
    the days are not within the line's period after its invoice. Its id,
    ``INVOICE:LINE:FIRST..LAST``, names the days it covers."""
    if not (line.issued_on < first <= last <= line.end) or line.amount == 0:
        return None
    before = recognised(line, first - ONE_DAY)
    amount = recognised(line, last) - before
    if amount == 0:
        return None
    return Entry(
        entry_id=f"{line.key}:{first.isoformat()}..{last.isoformat()}", day=last,
        kind="recognition", account=line.account, currency=line.currency,
        postings=_postings((Role.DEFERRED_REVENUE, amount), (Role.REVENUE, -amount)),
        events=line.events,
        narration=(f"{line.invoice_number} line {line.line_no}: revenue recognised "
                   f"{first.isoformat()}..{last.isoformat()}"),
        invoice=line.invoice_number, line_no=line.line_no, service=(line.start, line.end),
        arithmetic=_arithmetic(line, last, before),
    )


def recognition_entries(line: LineFact, through: date, *, daily: bool = False) -> list[Entry]:
    """The entries moving the line's revenue from deferred to recognised, after its invoice
    and through ``through``: one a month (by default), or one a day (days that recognise
    nothing make no entry)."""
    entries: list[Entry] = []
    last = min(line.end, through)
    previous = line.issued_on
    while previous < last:
        first = previous + ONE_DAY
        day = first if daily else min(_month_end(first), last)
        entry = recognition_entry(line, first, day)
        if entry is not None:
            entries.append(entry)
        previous = day
    return entries


def payment_entry(payment: PaymentFact) -> Entry:
    return Entry(
        entry_id=f"{payment.account}:payment:{payment.version}", day=payment.paid_on,
        kind="payment", account=payment.account, currency=payment.currency,
        postings=_postings((Role.CASH, payment.amount), (Role.RECEIVABLE, -payment.amount)),
        events=(EventRef(payment.account, payment.version),),
        narration=f"payment {payment.reference}".rstrip(),
    )


def journal(lines: Iterable[LineFact], payments: Iterable[PaymentFact], through: date, *,
            daily: bool = False) -> list[Entry]:
    """Every entry dated on or before ``through``, in date order (recognition monthly, or
    ``daily``)."""
    entries: list[Entry] = []
    for line in lines:
        if line.issued_on > through:
            continue
        issued = invoice_entry(line)
        if issued is not None:
            entries.append(issued)
        entries.extend(recognition_entries(line, through, daily=daily))
    entries.extend(payment_entry(p) for p in payments if p.paid_on <= through)
    return sorted(entries, key=lambda entry: entry.sort_key)


# --------------------------------------------------------------------------- as of a date
@dataclass(frozen=True)
class Balance:
    currency: str
    role: Role
    amount: Decimal  # debit positive


def trial_balance(lines: Iterable[LineFact], payments: Iterable[PaymentFact],
                  as_of: date) -> list[Balance]:
    """Each role's balance at the end of ``as_of``, per currency (computed from the facts
    directly, not by adding up entries)."""
    totals: dict[tuple[str, Role], Decimal] = {}

    def add(currency: str, role: Role, amount: Decimal) -> None:
        totals[(currency, role)] = totals.get((currency, role), Decimal(0)) + amount

    for line in lines:
        if line.issued_on <= as_of and line.amount != 0:
            now = recognised(line, as_of)
            add(line.currency, Role.RECEIVABLE, line.amount)
            add(line.currency, Role.DEFERRED_REVENUE, -(line.amount - now))
            add(line.currency, Role.REVENUE, -now)
    for payment in payments:
        if payment.paid_on <= as_of:
            add(payment.currency, Role.CASH, payment.amount)
            add(payment.currency, Role.RECEIVABLE, -payment.amount)
    return [Balance(currency, role, totals[(currency, role)])
            for currency in sorted({c for c, _ in totals}) for role in ROLE_ORDER
            if (currency, role) in totals]


@dataclass(frozen=True)
class Deferred:
    """What a line still defers at the end of a date (a credit balance is negative)."""

    line: LineFact
    amount: Decimal


def deferred_revenue(lines: Iterable[LineFact], as_of: date) -> list[Deferred]:
    """Every line invoiced by ``as_of`` whose revenue is not all recognised by its end."""
    return [Deferred(line, -(line.amount - recognised(line, as_of))) for line in lines
            if line.issued_on <= as_of and recognised(line, as_of) != line.amount]


# --------------------------------------------------------------------------- waterfall
@dataclass(frozen=True)
class WaterfallRow:
    invoice: str
    account: str
    currency: str
    months: tuple[Decimal, ...]

    @property
    def total(self) -> Decimal:
        return sum(self.months, Decimal(0))


@dataclass(frozen=True)
class Waterfall:
    """Revenue booked per month (columns) by invoice (rows), from ``start`` to ``end``."""

    start: date
    end: date
    months: tuple[str, ...]  # YYYY-MM
    rows: tuple[WaterfallRow, ...]

    def csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["invoice", "customer", "currency", *self.months, "total"])
        for row in self.rows:
            writer.writerow([row.invoice, row.account, row.currency,
                             *(_money(a, row.currency) for a in row.months),
                             _money(row.total, row.currency)])
        return out.getvalue().encode()


def _periods(start: date, end: date) -> list[tuple[date, date]]:
    periods = []
    day = start
    while day <= end:
        last = min(_month_end(day), end)
        periods.append((day, last))
        day = last + ONE_DAY
    return periods


def waterfall(lines: Sequence[LineFact], start: date, end: date) -> Waterfall:
    """Revenue booked (:func:`booked`) in each month of ``start``..``end`` (both included;
    the first and last months cut to them), by invoice; invoices that book nothing in the
    range are left out."""
    if end < start:
        raise ValueError(f"the range ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    periods = _periods(start, end)
    by_invoice: dict[tuple[str, str, str], list[Decimal]] = {}
    for line in lines:
        amounts = [booked(line, last) - booked(line, first - ONE_DAY) for first, last in periods]
        if any(amounts):
            key = (line.invoice_number, line.account, line.currency)
            sums = by_invoice.setdefault(key, [Decimal(0)] * len(periods))
            by_invoice[key] = [a + b for a, b in zip(sums, amounts, strict=True)]
    rows = tuple(WaterfallRow(invoice, account, currency, tuple(amounts))
                 for (invoice, account, currency), amounts in sorted(by_invoice.items()))
    return Waterfall(start, end, tuple(f"{first:%Y-%m}" for first, _ in periods), rows)


# --------------------------------------------------------------------------- exports
#: The journal CSV's columns (docs/reference/journal-csv.md).
CSV_COLUMNS = ("entry", "date", "kind", "customer", "invoice", "line", "account", "role",
               "currency", "amount", "service_start", "service_end", "events")


def render_csv(entries: Iterable[Entry], accounts: JournalAccounts = JournalAccounts()) -> bytes:
    """One row per posting, in entry order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        for posting in entry.postings:
            writer.writerow([
                entry.entry_id, entry.day.isoformat(), entry.kind, entry.account, entry.invoice,
                "" if entry.line_no is None else str(entry.line_no),
                accounts.name(posting.role), posting.role.value, entry.currency,
                _money(posting.amount, entry.currency),
                entry.service[0].isoformat() if entry.service else "",
                entry.service[1].isoformat() if entry.service else "",
                " ".join(str(ref) for ref in entry.events),
            ])
    return out.getvalue().encode()


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_beancount(entries: Sequence[Entry], accounts: JournalAccounts = JournalAccounts()) -> str:
    """The entries in beancount's plain-text format: an ``open`` for each account on the
    date of its first posting, then one transaction per entry (``entry`` and ``events`` as
    metadata)."""
    opened: dict[str, date] = {}
    for entry in entries:
        for posting in entry.postings:
            name = accounts.name(posting.role)
            opened.setdefault(name, entry.day)
    parts = ["; billing-ledger journal: entries derived from the recorded events\n"]
    for name, day in sorted(opened.items(), key=lambda item: (item[1], item[0])):
        parts.append(f"{day.isoformat()} open {name}\n")
    for entry in entries:
        parts.append(f"\n{entry.day.isoformat()} * {_quoted(entry.account)} "
                     f"{_quoted(entry.narration)}\n")
        parts.append(f"  entry: {_quoted(entry.entry_id)}\n")
        parts.append(f"  events: {_quoted(' '.join(str(ref) for ref in entry.events))}\n")
        for posting in entry.postings:
            parts.append(f"  {accounts.name(posting.role)}  "
                         f"{_money(posting.amount, entry.currency)} {entry.currency}\n")
    return "".join(parts)
