"""Business dates: terms, monthly service periods, anniversaries and billing dates.

Every period here counts both ends (1/13/2018 - 1/31/2018 is 19 days). Months are added with
``dateutil.relativedelta``, always from the same anchor date, so an anniversary on the 31st
clamps to short months without drifting (1/31, 2/28, 3/31, ...).
"""

from __future__ import annotations

import calendar as _calendar
import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from dateutil.relativedelta import relativedelta

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive range of business dates."""

    start: date
    end: date
    #: Stored in snapshots: a change of fields bumps it and adds an upcaster.
    class_version: ClassVar[int] = 1

    @property
    def days(self) -> int:
        return days_inclusive(self.start, self.end)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def __deepcopy__(self, memo: dict[int, object]) -> Period:
        return self  # immutable: aggregates cached by the repository share it safely


def days_inclusive(start: date, end: date) -> int:
    """Days from ``start`` to ``end``, counting both ends."""
    return (end - start).days + 1


@functools.lru_cache(maxsize=8192)
def add_months(anchor: date, months: int) -> date:
    """``anchor`` plus whole months, clamped to the end of a shorter month (as
    ``dateutil.relativedelta`` adds them; rating calls this often, so it is arithmetic)."""
    total = anchor.month - 1 + months
    year, month = anchor.year + total // 12, total % 12 + 1
    return date(year, month, min(anchor.day, _calendar.monthrange(year, month)[1]))


@functools.lru_cache(maxsize=8192)
def months_between(anchor: date, day: date) -> int:
    """The number of whole monthly anniversaries of ``anchor`` on or before ``day``."""
    months = (day.year - anchor.year) * 12 + (day.month - anchor.month)
    if months > 0:
        # add_months(anchor, months) falls in day's month: on or before day, or one too many.
        return months - 1 if add_months(anchor, months) > day else months
    while add_months(anchor, months + 1) <= day:
        months += 1
    return months


def next_anniversary(anchor: date, day: date) -> date:
    """The first monthly anniversary of ``anchor`` on or after ``day``."""
    if day <= anchor:
        return anchor
    months = months_between(anchor, day)
    candidate = add_months(anchor, months)
    return candidate if candidate >= day else add_months(anchor, months + 1)


def term_months(term: str) -> int:
    """Months in an ISO 8601 term: ``P1Y`` -> 12, ``P1M`` -> 1."""
    return {"P1Y": 12, "P1M": 1}[term]


def term_period(anchor: date, term: str, index: int) -> Period:
    """The ``index``-th term (0 for the first) of a subscription anchored on ``anchor``."""
    months = term_months(term)
    return Period(add_months(anchor, months * index), add_months(anchor, months * (index + 1)) - ONE_DAY)


def renewed_term(anchor: date, starts: date, term: str) -> Period:
    """The term that starts on ``starts`` (a monthly anniversary of ``anchor``) and runs for
    ``term``: it ends the day before the anniversary ``term`` later, counted from ``anchor``
    so that a term on the 31st never drifts. The term may be another length than the one
    before it (an offer revised from P1M to P1Y renews into a year from ``starts``)."""
    months = months_between(anchor, starts)
    return Period(starts, add_months(anchor, months + term_months(term)) - ONE_DAY)


def monthly_period(anchor: date, day: date) -> Period:
    """The monthly service period, anniversary to the day before the next, holding ``day``."""
    months = months_between(anchor, day)
    return Period(add_months(anchor, months), add_months(anchor, months + 1) - ONE_DAY)


def billing_date_in(year: int, month: int, billing_day: int) -> date:
    """The account's billing date in a month: ``billing_day`` clamped to the month's end."""
    return date(year, month, min(billing_day, _calendar.monthrange(year, month)[1]))


def next_billing_date(day: date, billing_day: int) -> date:
    """The first billing date on or after ``day``."""
    candidate = billing_date_in(day.year, day.month, billing_day)
    if candidate >= day:
        return candidate
    following = day.replace(day=1) + relativedelta(months=1)
    return billing_date_in(following.year, following.month, billing_day)


def billing_dates(after: date, through: date, billing_day: int) -> list[date]:
    """Every billing date strictly after ``after`` and on or before ``through``."""
    dates: list[date] = []
    current = next_billing_date(after + ONE_DAY, billing_day)
    while current <= through:
        dates.append(current)
        current = next_billing_date(current + ONE_DAY, billing_day)
    return dates
