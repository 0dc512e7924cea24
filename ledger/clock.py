"""The one clock every "now" in the ledger comes from.

The application is given a :class:`Clock`; nothing else in ``ledger/`` or ``projections/``
reads the time. :class:`SystemClock` reads the machine's UTC time (and so follows
``freezegun`` in tests); :class:`TestClock` is moved by hand, and the ledger runs everything
that falls due on the way when it is advanced.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, runtime_checkable

from ledger.errors import InvalidClockTime


@runtime_checkable
class Clock(Protocol):
    """Where the ledger gets its time from."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidClockTime(f"a recorded time must be timezone-aware, got {moment.isoformat()}")
    return moment.astimezone(UTC)


def start_of(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def today(clock: Clock) -> date:
    """The clock's business date (the UTC calendar date of its instant)."""
    return utc(clock.now()).date()


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class TestClock:
    """A clock that only moves when told to. It never goes backwards."""

    __test__ = False  # not a pytest test class

    def __init__(self, start: datetime | date) -> None:
        self._now = utc(start) if isinstance(start, datetime) else start_of(start)

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def set(self, moment: datetime | date) -> None:
        """Move to ``moment`` (a date means its midnight UTC); moving back is refused."""
        target = utc(moment) if isinstance(moment, datetime) else start_of(moment)
        if target < self._now:
            raise InvalidClockTime(
                f"the test clock cannot go back from {self._now.isoformat()} "
                f"to {target.isoformat()}"
            )
        self._now = target

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)

    def __repr__(self) -> str:
        return f"TestClock({self._now.isoformat()})"
