"""All pricing rules of the ledger, as pure functions (no I/O, no clock, no store).

:func:`rate` takes one subscription's event history and a billing date and returns the
lines that billing date posts. It is the only place where money is computed.

The model
=========

*Entitlement* ``E(d)`` is the number of licenses the customer owes for day ``d``, folded from
the lifecycle events rated so far: the quantity while active, nothing while suspended, in a
trial or after the end; and nothing at all for a term that was suspended or cancelled inside
its refund window (the whole term is credited). *Billed* ``B(d)`` is the net quantity of the
posted lines that are still open (not reversed) covering ``d``. After every rated event,
``B == E`` on every day charged so far. Each rated event ("point") closes the gap between them
in the shape Partner Center's reconciliation files show:

* purchase, renewal, reactivation, monthly cycle: new days are *charged* at ``E``;
* suspension or cancellation after the refund window: the unused days are *credited* at ``B``,
  rated afresh (``Cancel Fee``, from the effective date to the end of the charged period);
* inside the refund window: every open line of the term is *reversed* (credited exactly);
* license change: the open lines of each affected service period are *reversed* and the
  period is *rebilled* at ``E`` (``Cycle Instance Prorate``), split at the change and, under
  the ``exact`` convention, at the monthly anniversary where the change is rated.

Corrections never edit a posted line; they reverse it and post new lines. Every point is
rated as if the lines before it were already posted, so a line and its reversal both appear
even when they fall on the same billing date: what a history bills never depends on which
billing date each point happens to land on (the account's billing day, or how the dates are
batched). A line's charge type follows from why it is posted (:class:`Reason`) and its sign,
decided in one place, :func:`charge_type`.

When lines post
===============

A purchase, cancellation, renewal or trial step is rated on its effective date; a license
change, suspension or reactivation at the next monthly anniversary (on or after its effective
date). A billing date posts every point rated on or before it that it has not posted yet, in
date order. An event recorded after a billing date was cut, even with an earlier effective
date, is posted on the next one.

Conventions
===========

``daily-rate``: daily price = service period price / its days, rounded to
``daily_rate_places``; a partial period costs daily price x days x quantity, rounded to cents.
``exact``: unit price = period price x days / period days, rounded last; amount = exact unit
price x quantity, rounded last. A whole service period always costs its full price.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from typing import ClassVar

from ledger.charges import ChargeLine, ChargeType
from ledger.dates import (
    ONE_DAY,
    Period,
    add_months,
    monthly_period,
    months_between,
    next_anniversary,
)
from ledger.money import format_money, quantize, round_money
from ledger.offers import BillingFrequency, Convention, OfferTerms
from ledger.subscription import MAX_BACKDATE_DAYS, LifecycleEvent, Subscription, SubscriptionEvent

#: Recorded with every posting. Bump it whenever a rule in this module changes what it returns
#: (docs/explanation/rating-model.md keeps the history of the versions).
RULES_VERSION = 2

_S = Subscription


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Rating:
    """What a billing date posts for one subscription, and the rating state after it."""

    lines: tuple[ChargeLine, ...]
    rated_version: int
    consumed_events: bool
    cancelled: bool = False  # a cancellation was rated: this billing date is the final invoice
    checkpoint: Checkpoint | None = None

    @property
    def has_anything_to_post(self) -> bool:
        return bool(self.lines) or self.consumed_events


# --------------------------------------------------------------------------- charge types
class Reason(Enum):
    """Why a line is posted."""

    PURCHASE = "purchase"  # a first paid term: a purchase, or a trial converted to paid
    RENEWAL = "renewal"
    CYCLE = "cycle"  # the next month of a monthly-billed subscription
    LICENSE_CHANGE = "license change"
    REACTIVATION = "reactivation"
    SUSPENSION = "suspension or cancellation"


def charge_type(reason: Reason, billing: BillingFrequency, sign: int) -> str:
    """The charge type of a line posted for ``reason`` (a charge when ``sign`` > 0, else a
    credit), in Partner Center's names. The one place charge types are decided:

    * a credit is a ``Cancel Fee`` when a suspension or cancellation posts it, and a
      ``Cycle Instance Prorate`` otherwise (a reversal for a license change, say); a credit
      is never labelled as a fee;
    * a charge is ``Prorate fees when purchase`` for a first annual term and for a
      reactivation (the seed article's "Suspend and reactivate"), ``Prorate fee when renew``
      for a renewed annual term, ``Cycle fee`` for every month of monthly billing (the first
      one included), and ``Cycle Instance Prorate`` when a license change, suspension or
      cancellation rebills days already charged.
    """
    if sign < 0:
        kind = ChargeType.CANCEL_FEE if reason is Reason.SUSPENSION else ChargeType.CYCLE_INSTANCE_PRORATE
    elif reason is Reason.REACTIVATION:
        kind = ChargeType.PRORATE_FEES_WHEN_PURCHASE
    elif reason in (Reason.LICENSE_CHANGE, Reason.SUSPENSION):
        kind = ChargeType.CYCLE_INSTANCE_PRORATE
    elif reason is Reason.CYCLE or billing is BillingFrequency.MONTHLY:
        kind = ChargeType.CYCLE_FEE
    elif reason is Reason.RENEWAL:
        kind = ChargeType.PRORATE_FEE_WHEN_RENEW
    else:
        kind = ChargeType.PRORATE_FEES_WHEN_PURCHASE
    return kind.value


# --------------------------------------------------------------------------- pricing
@dataclass(frozen=True)
class Price:
    unit_price: Decimal
    amount: Decimal
    basis: str


def period_price(offer: OfferTerms) -> Decimal:
    """The price of one license for one service period (a term, or a month)."""
    if offer.billing is BillingFrequency.ANNUAL or offer.months_per_term == 1:
        return offer.price
    return offer.price / offer.months_per_term


def _price_text(offer: OfferTerms) -> str:
    if offer.billing is BillingFrequency.MONTHLY and offer.months_per_term > 1:
        return f"{offer.price} / {offer.months_per_term}"
    return f"{offer.price}"


def daily_price(offer: OfferTerms, period: Period) -> Decimal:
    """``daily-rate``: the period's price over its days, rounded to ``daily_rate_places``."""
    return quantize(period_price(offer) / period.days, offer.daily_rate_places, offer.rounding)


def price_segment(offer: OfferTerms, period: Period, start: date, end: date, quantity: int) -> Price:
    """Price ``quantity`` licenses for ``start..end`` inside service ``period``."""
    cur, rnd = offer.currency, offer.rounding
    days = (end - start).days + 1
    if start == period.start and end == period.end:
        exact_unit = period_price(offer)
        unit = round_money(exact_unit, cur, rnd)
        amount = round_money(exact_unit * quantity, cur, rnd)
        basis = f"whole period {period.start.isoformat()}..{period.end.isoformat()}: "
        basis += f"{_price_text(offer)} x {quantity} = {format_money(amount, cur)}"
        return Price(unit, amount, basis)
    if offer.convention is Convention.DAILY_RATE:
        daily = daily_price(offer, period)
        unit = round_money(daily * days, cur, rnd)
        amount = round_money(daily * days * quantity, cur, rnd)
        basis = (
            f"{days} days x {daily} x {quantity} = {format_money(amount, cur)} "
            f"(daily price {_price_text(offer)} / {period.days} = {daily})"
        )
        return Price(unit, amount, basis)
    exact_unit = period_price(offer) * days / period.days
    unit = round_money(exact_unit, cur, rnd)
    amount = round_money(exact_unit * quantity, cur, rnd)
    basis = f"{_price_text(offer)} x {days} / {period.days} x {quantity} = {format_money(amount, cur)}"
    return Price(unit, amount, basis)


def within_refund_window(offer: OfferTerms, paid_from: date, day: date) -> bool:
    """A suspension or cancellation fewer than ``refund_window_days`` after the purchase (or
    the trial's conversion) credits everything charged."""
    return (day - paid_from).days < offer.refund_window_days


# --------------------------------------------------------------------------- entitlement
@dataclass
class _Segment:
    start: date
    end: date | None  # None: open-ended
    quantity: int
    origin: int  # version of the event that set this quantity

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class _Term:
    period: Period
    offer: OfferTerms
    origin: int


@dataclass
class _Entitlement:
    """The fold of a prefix of lifecycle events: terms and the licenses owed per day."""

    segments: list[_Segment] = field(default_factory=list)
    terms: list[_Term] = field(default_factory=list)
    anchor: date | None = None
    offer: OfferTerms | None = None
    quantity: int = 0
    active: bool = False
    ended: date | None = None

    def term_at(self, day: date) -> _Term | None:
        for term in reversed(self.terms):
            if day in term.period:
                return term
        return None

    def service_period(self, day: date) -> tuple[Period, _Term] | None:
        term = self.term_at(day)
        if term is None or self.anchor is None:
            return None
        if term.offer.billing is BillingFrequency.ANNUAL:
            return term.period, term
        return monthly_period(self.anchor, day), term

    def owed(self, day: date) -> tuple[int, tuple[int, ...]]:
        if self.term_at(day) is None:
            return 0, ()
        total, origins = 0, []
        for segment in self.segments:
            if segment.covers(day):
                total += segment.quantity
                origins.append(segment.origin)
        return total, tuple(origins)

    def _close(self, day: date) -> None:
        """End the running segment on the day before ``day``."""
        if self.segments and self.segments[-1].end is None:
            last = self.segments[-1]
            if day <= last.start:
                self.segments.pop()
            else:
                last.end = day - ONE_DAY

    def _open(self, day: date, origin: int) -> None:
        self.segments.append(_Segment(day, None, self.quantity, origin))

    def refunds(self, day: date) -> bool:
        """Whether a suspension or cancellation on ``day`` falls inside the refund window."""
        term = self.term_at(day) or (self.terms[-1] if self.terms else None)
        return term is not None and self.anchor is not None and within_refund_window(
            term.offer, self.anchor, day)

    def _refund(self, day: date) -> None:
        """Inside the refund window nothing is owed for any day since the purchase."""
        if self.refunds(day):
            self.segments = []

    def apply(self, ev: LifecycleEvent) -> None:
        v = ev.originator_version
        if isinstance(ev, _S.Purchased):
            self.quantity = ev.quantity
            self.offer = ev.offer
            if ev.trial_end is None:
                self._start_term(ev.effective_date, ev.offer, v)
        elif isinstance(ev, _S.QuantityChanged):
            self.quantity = ev.quantity
            if self.active:
                self._close(ev.effective_date)
                self._open(ev.effective_date, v)
        elif isinstance(ev, (_S.Suspended, _S.Cancelled)):
            if self.active:
                self._close(ev.effective_date)
            self.active = False
            self._refund(ev.effective_date)
            if isinstance(ev, _S.Cancelled):
                self.ended = ev.effective_date
        elif isinstance(ev, _S.Reactivated):
            self.active = True
            self._open(ev.effective_date, v)
        elif isinstance(ev, _S.Renewed):
            self.terms.append(_Term(Period(ev.effective_date, ev.term_end), ev.offer, v))
        elif isinstance(ev, _S.TrialConverted):
            assert self.offer is not None
            self._start_term(ev.effective_date, self.offer, v, term_end=ev.term_end)
        elif isinstance(ev, (_S.Expired, _S.TrialExpired)):
            if self.active:
                self._close(ev.effective_date)
            self.active = False
            self.ended = ev.effective_date

    def _start_term(
        self, day: date, offer: OfferTerms, origin: int, term_end: date | None = None
    ) -> None:
        self.anchor = day
        end = term_end if term_end is not None else add_months(day, offer.months_per_term) - ONE_DAY
        self.terms.append(_Term(Period(day, end), offer, origin))
        self.active = True
        self._open(day, origin)


# --------------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class OpenLine:
    """A posted line still open (not reversed), as a checkpoint keeps it: what a later
    reversal or a count of the licenses billed reads (not its charge type or arithmetic,
    which a reversal never copies)."""

    line_id: str
    subscription: str
    term_start: date
    term_end: date
    start: date
    end: date
    unit_price: Decimal
    quantity: int
    amount: Decimal
    currency: str
    sign: int
    sources: tuple[int, ...]
    class_version: ClassVar[int] = 1

    @classmethod
    def of(cls, line: ChargeLine) -> OpenLine:
        return cls(line.line_id, line.subscription, line.term_start, line.term_end, line.start,
                   line.end, line.unit_price, line.quantity, line.amount, line.currency,
                   line.sign, line.sources)

    def charge_line(self) -> ChargeLine:
        return ChargeLine(
            line_id=self.line_id, subscription=self.subscription, term_start=self.term_start,
            term_end=self.term_end, start=self.start, end=self.end, charge_type="",
            unit_price=self.unit_price, quantity=self.quantity, amount=self.amount,
            currency=self.currency, sign=self.sign, basis="", sources=self.sources)


@dataclass(frozen=True)
class SegmentState:
    start: date
    end: date | None
    quantity: int
    origin: int
    class_version: ClassVar[int] = 1


@dataclass(frozen=True)
class TermState:
    start: date
    end: date
    offer: OfferTerms
    origin: int
    class_version: ClassVar[int] = 1


@dataclass(frozen=True)
class Checkpoint:
    """Everything rating needs of a subscription's past after a posting: the open lines and
    the entitlement (terms, licenses owed per day) as far back as a later event can reach,
    and the events rated so far. ``rate(tail, day, checkpoint)`` gives exactly what
    ``rate(whole history, day)`` gives, reading only the events after ``rated_version``.

    A later event takes effect on or after the subscription's last action and at most
    ``MAX_BACKDATE_DAYS`` before its last billing date, so lines, segments and terms ending
    before the service period that holds the earliest such day are dropped (none while a
    refund window is still open: a refund reverses everything). The checkpoint is recorded
    with each posting (``ChargesPosted``), so its size stays bounded however old the
    subscription grows."""

    key: str
    rated_version: int
    lines: tuple[OpenLine, ...]
    horizon: date | None
    last_action: date | None
    anchor: date | None
    offer: OfferTerms | None
    quantity: int
    active: bool
    ended: date | None
    segments: tuple[SegmentState, ...]
    terms: tuple[TermState, ...]
    class_version: ClassVar[int] = 1

    def entitlement(self) -> _Entitlement:
        return _Entitlement(
            segments=[_Segment(s.start, s.end, s.quantity, s.origin) for s in self.segments],
            terms=[_Term(Period(t.start, t.end), t.offer, t.origin) for t in self.terms],
            anchor=self.anchor, offer=self.offer, quantity=self.quantity, active=self.active,
            ended=self.ended)


def _is_action(ev: SubscriptionEvent) -> bool:
    """An event the subscription counts as its last action (a renewal is not one)."""
    return not isinstance(ev, (_S.Renewed, _S.ChargesPosted))


def _checkpoint(key: str, rated_version: int, ent: _Entitlement, open_lines: Sequence[ChargeLine],
                horizon: date | None, last_action: date | None, *, prune_before: date | None) -> Checkpoint:
    """The state after a posting; with ``prune_before``, without what no later event can
    reach (see :class:`Checkpoint`)."""
    cutoff = _cutoff(ent, prune_before) if prune_before is not None else None
    lines = [line for line in open_lines if cutoff is None or line.end >= cutoff]
    segments = [seg for seg in ent.segments if cutoff is None or seg.end is None or seg.end >= cutoff]
    terms = [term for term in ent.terms if cutoff is None or term.period.end >= cutoff]
    return Checkpoint(
        key=key, rated_version=rated_version, lines=tuple(OpenLine.of(line) for line in lines),
        horizon=horizon, last_action=last_action, anchor=ent.anchor, offer=ent.offer,
        quantity=ent.quantity, active=ent.active, ended=ent.ended,
        segments=tuple(SegmentState(seg.start, seg.end, seg.quantity, seg.origin) for seg in segments),
        terms=tuple(TermState(t.period.start, t.period.end, t.offer, t.origin) for t in terms),
    )


def _cutoff(ent: _Entitlement, earliest: date) -> date | None:
    """The first day a later event effective on or after ``earliest`` can make rating read:
    the start of the service period holding it. None (keep everything) while a refund is
    still possible."""
    if ent.anchor is None or not ent.terms:
        return None
    window = max(term.offer.refund_window_days for term in ent.terms)
    if (earliest - ent.anchor).days < window:
        return None
    found = ent.service_period(earliest)
    if found is not None:
        return min(found[0].start, earliest)
    later = [term.period.start for term in ent.terms if term.period.end >= earliest]
    return min([earliest, *later])


# --------------------------------------------------------------------------- points
def due_date(ev: LifecycleEvent, anchor: date | None) -> date:
    """The date an event is rated: its anniversary for license and status changes."""
    if isinstance(ev, (_S.QuantityChanged, _S.Suspended, _S.Reactivated)) and anchor is not None:
        return next_anniversary(anchor, ev.effective_date)
    day: date = ev.effective_date
    return day


@dataclass(frozen=True)
class _Point:
    day: date
    event: LifecycleEvent | None  # None: a monthly cycle


class _Posting:
    """Working state while one billing date's lines are worked out."""

    def __init__(self, key: str, billing_date: date, open_lines: Sequence[ChargeLine],
                 horizon: date | None) -> None:
        self.key = key
        self.billing_date = billing_date
        self.open: list[ChargeLine] = list(open_lines)
        self.batch: list[ChargeLine] = []
        self.horizon = horizon

    # -- bookkeeping
    def _new_id(self) -> str:
        return f"{self.billing_date.isoformat()}#{len(self.batch) + 1}"

    def billed(self, day: date) -> int:
        return sum(line.net_quantity for line in self.open if line.covers(day))

    def _post(self, line: ChargeLine) -> None:
        self.batch.append(line)
        if line.reverses is None:
            self.open.append(line)

    def reverse(self, line: ChargeLine, reason: Reason, trigger: int | None) -> None:
        """Post the exact negation of an open line (posted earlier or on this same date)."""
        self.open.remove(line)
        sign = -line.sign
        self._post(ChargeLine(
            line_id=self._new_id(),
            subscription=line.subscription,
            term_start=line.term_start,
            term_end=line.term_end,
            start=line.start,
            end=line.end,
            # A reversed credit is a correction, never a fee.
            charge_type=charge_type(reason if sign < 0 else Reason.LICENSE_CHANGE,
                                    BillingFrequency.ANNUAL, sign),
            unit_price=-line.unit_price,
            quantity=line.quantity,
            amount=-line.amount,
            currency=line.currency,
            sign=sign,
            basis=f"reverses line {line.line_id} ({format_money(line.amount, line.currency)})",
            sources=_with(line.sources, trigger),
            reverses=line.line_id,
        ))

    def add(
        self, ent: _Entitlement, start: date, end: date, net: int, reason: Reason,
        sources: Iterable[int],
    ) -> None:
        """Post ``net`` licenses (negative: a credit) for ``start..end``, rated afresh."""
        found = ent.service_period(start)
        assert found is not None and end <= found[0].end, (start, end)
        period, term = found
        quantity = abs(net)
        price = price_segment(term.offer, period, start, end, quantity)
        sign = 1 if net > 0 else -1
        self._post(ChargeLine(
            line_id=self._new_id(),
            subscription=self.key,
            term_start=term.period.start,
            term_end=term.period.end,
            start=start,
            end=end,
            charge_type=charge_type(reason, term.offer.billing, sign),
            unit_price=sign * price.unit_price,
            quantity=quantity,
            amount=sign * price.amount,
            currency=term.offer.currency,
            sign=sign,
            basis=price.basis if sign > 0 else f"credit of {price.basis}",
            sources=tuple(sorted(set(sources) | {term.origin})),
        ))

    def finish(self) -> tuple[ChargeLine, ...]:
        return tuple(self.batch)


@dataclass(frozen=True)
class _Run:
    """Consecutive days with the same owed and billed quantities inside one service period."""

    start: date
    end: date
    owed: int
    billed: int
    origins: tuple[int, ...]


def _runs(
    ent: _Entitlement, posting: _Posting, window: Period, split_at: date | None = None
) -> list[_Run]:
    """Cut ``window`` into runs of constant owed/billed quantity, never crossing a service
    period, a term, or ``split_at``."""
    hard: set[date] = set()
    soft: set[date] = set()
    for term in ent.terms:
        hard.update((term.period.start, term.period.end + ONE_DAY))
        if term.offer.billing is BillingFrequency.MONTHLY and ent.anchor is not None:
            months = months_between(ent.anchor, max(window.start, term.period.start))
            while (start := add_months(ent.anchor, months)) <= min(window.end, term.period.end):
                hard.add(start)
                months += 1
    if split_at is not None:
        hard.add(split_at)
    for segment in ent.segments:
        soft.add(segment.start)
        if segment.end is not None:
            soft.add(segment.end + ONE_DAY)
    for line in posting.open:
        soft.update((line.start, line.end + ONE_DAY))
    cuts = sorted(d for d in hard | soft | {window.start} if window.start <= d <= window.end)
    runs: list[_Run] = []
    for index, start in enumerate(cuts):
        end = cuts[index + 1] - ONE_DAY if index + 1 < len(cuts) else window.end
        owed, origins = ent.owed(start)
        billed = posting.billed(start)
        previous = runs[-1] if runs else None
        if (
            previous is not None and start not in hard
            and previous.owed == owed and previous.billed == billed
        ):
            runs[-1] = _Run(previous.start, end, owed, billed,
                            tuple(sorted(set(previous.origins) | set(origins))))
        else:
            runs.append(_Run(start, end, owed, billed, origins))
    return runs


# --------------------------------------------------------------------------- settlement
def _settle_new_days(ent: _Entitlement, posting: _Posting, window: Period, reason: Reason,
                     trigger: int | None) -> None:
    """Charge what is owed where nothing is billed (purchase, renewal, reactivation, cycle)."""
    runs = [run for run in _runs(ent, posting, window) if run.owed != run.billed]
    if any(run.billed != 0 for run in runs):
        _rebill(ent, posting, runs, reason, trigger)
        return
    for run in runs:
        posting.add(ent, run.start, run.end, run.owed, reason, _with(run.origins, trigger))


def _settle_unused_days(ent: _Entitlement, posting: _Posting, window: Period, trigger: int) -> None:
    """Credit what is billed where nothing is owed any more (suspension, cancellation): the
    unused days, rated afresh, whether the lines that charged them were posted on an earlier
    billing date or are posted on this one (under ``daily-rate`` a whole term is not its days
    times the daily price, so withdrawing a charge is not the same as crediting its days)."""
    runs = [run for run in _runs(ent, posting, window) if run.owed != run.billed]
    if any(run.owed != 0 for run in runs):
        _rebill(ent, posting, runs, Reason.SUSPENSION, trigger)
        return
    for run in runs:
        posting.add(ent, run.start, run.end, -run.billed, Reason.SUSPENSION, (trigger,))


def _rebill(ent: _Entitlement, posting: _Posting, runs: list[_Run], reason: Reason,
            trigger: int | None, split_at: date | None = None) -> None:
    """Reverse the open lines of each service period that differs, and rebill it at ``E``."""
    periods: dict[Period, list[_Run]] = {}
    for run in runs:
        found = ent.service_period(run.start)
        assert found is not None
        periods.setdefault(found[0], []).append(run)
    for period, period_runs in sorted(periods.items()):
        first = min(run.start for run in period_runs)
        last = max(run.end for run in period_runs)
        affected = [
            line for line in posting.open
            if line.end >= first and line.start <= period.end and line.start >= period.start
        ]
        for line in affected:
            posting.reverse(line, reason, trigger)
        span = Period(
            min([first, *(line.start for line in affected)]),
            max([last, *(line.end for line in affected)]),
        )
        for run in _runs(ent, posting, span, split_at):
            gap = run.owed - run.billed
            if gap:
                posting.add(ent, run.start, run.end, gap, reason, _with(run.origins, trigger))


def _with(origins: Iterable[int], trigger: int | None) -> tuple[int, ...]:
    values = set(origins)
    if trigger is not None:
        values.add(trigger)
    return tuple(sorted(values))


def _first_period(ent: _Entitlement) -> Period:
    term = ent.terms[-1]
    if term.offer.billing is BillingFrequency.ANNUAL:
        return term.period
    found = ent.service_period(term.period.start)
    assert found is not None
    return found[0]


def _extend_to_rating_period(ent: _Entitlement, posting: _Posting, ev: LifecycleEvent,
                             day: date) -> None:
    """An event rated at a monthly anniversary settles everything through the service period
    that anniversary opens, under monthly billing: the next cycle is billed with it (Partner
    Center's monthly article bills the 2/13-3/12 cycle as part of a 2/1 license change), even
    when that cycle opens a renewed one-month term. Under annual billing the period is the
    term, and a renewal keeps its own line."""
    found = ent.service_period(day)
    if posting.horizon is None or found is None or ev.effective_date >= day:
        return  # effective on the anniversary itself: the month it opens is a plain cycle
    period, term = found
    if term.offer.billing is BillingFrequency.ANNUAL and ev.effective_date not in term.period:
        return
    posting.horizon = max(posting.horizon, period.end)


def _process(point: _Point, ent: _Entitlement, posting: _Posting) -> None:
    ev = point.event
    if ev is None:  # a monthly cycle: charge the service period that starts today
        found = ent.service_period(point.day)
        assert found is not None
        period = found[0]
        posting.horizon = period.end
        _settle_new_days(ent, posting, period, Reason.CYCLE, None)
        return
    v = ev.originator_version
    if isinstance(ev, (_S.Purchased, _S.TrialConverted, _S.Renewed)):
        if not ent.terms or ent.terms[-1].origin != v:
            return  # a trial purchase: nothing is charged
        first = _first_period(ent)
        posting.horizon = max(posting.horizon or first.end, first.end)
        reason = Reason.RENEWAL if isinstance(ev, _S.Renewed) else Reason.PURCHASE
        _settle_new_days(ent, posting, first, reason, v)
        return
    if isinstance(ev, (_S.QuantityChanged, _S.Suspended, _S.Reactivated)):
        _extend_to_rating_period(ent, posting, ev, point.day)
    uncharged = posting.horizon is None or posting.horizon < ev.effective_date
    if uncharged and not isinstance(ev, _S.Reactivated):
        return  # nothing is charged yet for these days; the next cycle uses the new state
    if isinstance(ev, _S.QuantityChanged):
        split_at = None
        term = ent.term_at(ev.effective_date)
        if term is not None and term.offer.convention is Convention.EXACT and ent.anchor:
            split_at = next_anniversary(ent.anchor, ev.effective_date)
        window = Period(ev.effective_date, _horizon(posting))
        runs = [run for run in _runs(ent, posting, window) if run.owed != run.billed]
        _rebill(ent, posting, runs, Reason.LICENSE_CHANGE, v, split_at)
    elif isinstance(ev, (_S.Suspended, _S.Cancelled)):
        if ent.refunds(ev.effective_date):
            for line in list(posting.open):
                posting.reverse(line, Reason.SUSPENSION, v)
            return
        window = Period(ev.effective_date, _horizon(posting))
        _settle_unused_days(ent, posting, window, v)
    elif isinstance(ev, _S.Reactivated):
        found = ent.service_period(ev.effective_date)
        if found is None:
            return
        # Through the period the reactivation is rated in, and under annual billing through
        # the last term already known: a term that began while the subscription was
        # suspended (its renewal was rated and charged nothing) is owed from now on.
        rated_in = ent.service_period(point.day)
        ends = [found[0].end, *([rated_in[0].end] if rated_in else [])]
        if ent.terms[-1].offer.billing is BillingFrequency.ANNUAL:
            ends.append(ent.terms[-1].period.end)
        posting.horizon = max([*([posting.horizon] if posting.horizon else []), *ends])
        window = Period(ev.effective_date, posting.horizon)
        _settle_new_days(ent, posting, window, Reason.REACTIVATION, v)


def _horizon(posting: _Posting) -> date:
    assert posting.horizon is not None
    return posting.horizon


def _next_cycle(ent: _Entitlement, posting: _Posting, through: date) -> date | None:
    """The next monthly cycle date to rate, if one falls on or before ``through``."""
    if posting.horizon is None or not ent.terms or ent.anchor is None:
        return None
    day = posting.horizon + ONE_DAY
    term = ent.term_at(day)
    if day > through or term is None or term.offer.billing is not BillingFrequency.MONTHLY:
        return None
    if ent.ended is not None and day >= ent.ended:
        return None
    return day


# --------------------------------------------------------------------------- entry point
def checkpoint_of(history: Sequence[SubscriptionEvent]) -> Checkpoint:
    """The rating state a whole history leaves after its last posting, nothing dropped: the
    reference :func:`rate` starts from when it is given no checkpoint."""
    purchase = next(ev for ev in history if isinstance(ev, _S.Purchased))
    posted: list[ChargeLine] = []
    rated_version = 0
    for ev in history:
        if isinstance(ev, _S.ChargesPosted):
            posted.extend(ev.lines)
            rated_version = max(rated_version, ev.rated_version)
    reversed_ids = {line.reverses for line in posted if line.reverses is not None}
    open_lines = [line for line in posted
                  if line.reverses is None and line.line_id not in reversed_ids]
    ent = _Entitlement()
    last_action: date | None = None
    for ev in history:
        if not isinstance(ev, _S.ChargesPosted) and ev.originator_version <= rated_version:
            ent.apply(ev)
            if _is_action(ev):
                last_action = max(last_action or ev.effective_date, ev.effective_date)
    horizon = max((line.end for line in posted), default=None)
    return _checkpoint(purchase.key, rated_version, ent, open_lines, horizon, last_action,
                       prune_before=None)


def rate(history: Sequence[SubscriptionEvent], billing_date: date,
         checkpoint: Checkpoint | None = None) -> Rating:
    """The lines ``billing_date`` posts for one subscription, and the rating state after.

    Without ``checkpoint``, ``history`` is the subscription's events in version order (as
    recorded, including earlier ``ChargesPosted``): the reference fold. With one (the state
    recorded by the last posting), ``history`` need only hold the events after its
    ``rated_version``, and the result is the same. It depends on nothing else.
    """
    state = checkpoint if checkpoint is not None else checkpoint_of(history)
    rated_version = state.rated_version
    lifecycle = [ev for ev in history
                 if not isinstance(ev, _S.ChargesPosted) and ev.originator_version > rated_version]

    # Anchors (purchase date, or the trial's conversion date) for the anniversary rule.
    anchor = state.anchor
    due: list[tuple[LifecycleEvent, date]] = []
    for ev in lifecycle:
        if (isinstance(ev, _S.Purchased) and ev.trial_end is None) or isinstance(ev, _S.TrialConverted):
            anchor = ev.effective_date
        due.append((ev, due_date(ev, anchor)))
    # Everything up to the last event due by the billing date is rated now; an event due
    # later but recorded before one due now is pulled along, so events are rated in order.
    last_due = max((i for i, (_, day) in enumerate(due) if day <= billing_date), default=-1)
    pending = due[: last_due + 1]
    points: list[_Point] = []
    running_min: date | None = None
    for ev, day in reversed(pending):
        running_min = day if running_min is None else min(running_min, day)
        points.append(_Point(running_min, ev))
    points.reverse()
    # A term that starts on a day is charged after that day's other events, as a monthly
    # cycle is: a license change or cancellation effective on the renewal day shapes the new
    # term before it is charged (a P1M term renewing monthly bills as a P1Y term billed
    # monthly does). The sort is stable, so events keep their recorded order otherwise.
    points.sort(key=lambda point: (point.day, isinstance(point.event, _S.Renewed)))

    ent = state.entitlement()
    posting = _Posting(state.key, billing_date, [line.charge_line() for line in state.lines]
                       if checkpoint is not None else _open_lines(history), state.horizon)

    index = 0
    applied: set[int] = set()
    while True:
        cycle = _next_cycle(ent, posting, billing_date)
        event_point = points[index] if index < len(points) else None
        if event_point is not None and (cycle is None or event_point.day <= cycle):
            # A term that rolls over on the day this event is rated is known when it is
            # rated (a renewal changes no quantity, only which terms exist).
            for later in points[index:]:
                renewal = later.event
                if isinstance(renewal, _S.Renewed) and renewal.effective_date <= event_point.day \
                        and renewal.originator_version not in applied:
                    ent.apply(renewal)
                    applied.add(renewal.originator_version)
            current = event_point.event
            assert current is not None  # event points always hold their event
            if current.originator_version not in applied:
                ent.apply(current)
                applied.add(current.originator_version)
            _process(event_point, ent, posting)
            index += 1
        elif cycle is not None:
            _process(_Point(cycle, None), ent, posting)
        else:
            break
    consumed = pending[-1][0].originator_version if pending else rated_version
    cancelled = any(isinstance(ev, _S.Cancelled) for ev, _ in pending)
    last_action = state.last_action
    for ev, _ in pending:
        if _is_action(ev):
            last_action = max(last_action or ev.effective_date, ev.effective_date)
    # Later events take effect on or after the last action, and at most MAX_BACKDATE_DAYS
    # before this billing date; those recorded but not yet due keep their own dates.
    earliest = billing_date - timedelta(days=MAX_BACKDATE_DAYS + 1)
    if last_action is not None:
        earliest = max(earliest, last_action)
    earliest = min([earliest, *(ev.effective_date for ev, _ in due[last_due + 1:])])
    # The next rating starts from the last day any posted line covers, as the whole history
    # says it (a cycle that charged nothing leaves no line, so it is looked at again).
    horizon = max([*([state.horizon] if state.horizon else []), *(line.end for line in posting.batch)],
                  default=None)
    after = _checkpoint(state.key, consumed, ent, posting.open, horizon, last_action,
                        prune_before=earliest)
    return Rating(posting.finish(), consumed, consumed_events=bool(pending), cancelled=cancelled,
                  checkpoint=after)


def _open_lines(history: Sequence[SubscriptionEvent]) -> list[ChargeLine]:
    """The posted lines of a whole history not reversed, as posted (the reference path keeps
    every field of a line; a checkpoint keeps what rating reads)."""
    posted = [line for ev in history if isinstance(ev, _S.ChargesPosted) for line in ev.lines]
    reversed_ids = {line.reverses for line in posted if line.reverses is not None}
    return [line for line in posted if line.reverses is None and line.line_id not in reversed_ids]
