"""A subscription's timeline, as known at an instant: licenses owed and licenses billed per
day, the events on it and the billing dates, drawn as an inline SVG on the server.

*Owed* on a day is the quantity of the subscription as effective that day (0 while it is a
trial, suspended, cancelled or expired). *Billed* on a day is the sum, over every line
posted so far, of the licenses the line adds to that day (a reversal removes them). Where
the two differ, the days owed have not been billed yet (the next billing date posts them),
or a suspension or cancellation inside the refund window credited them back (Partner
Center's rule: the period is refunded whole), or something is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from typing import Any

from billing_ledger.api import Ledger
from ledger.errors import UnknownSubscription

WIDTH, HEIGHT = 920, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 28, 44
OWING = {"active"}


@dataclass(frozen=True)
class Period:
    """Days ``start``..``end`` (inclusive) on which owed and billed stay the same."""

    start: date
    end: date
    owed: int
    billed: int

    @property
    def matches(self) -> bool:
        return self.owed == self.billed


@dataclass(frozen=True)
class Mark:
    day: date
    label: str
    version: int
    recorded_at: str


@dataclass(frozen=True)
class Timeline:
    first: date
    last: date
    periods: tuple[Period, ...]
    events: tuple[Mark, ...]
    billing_dates: tuple[date, ...]

    def owed(self, day: date) -> int:
        return next((p.owed for p in self.periods if p.start <= day <= p.end), 0)

    def billed(self, day: date) -> int:
        return next((p.billed for p in self.periods if p.start <= day <= p.end), 0)


def timeline(ledger: Ledger, account: str, subscription: str,
             known_at: datetime | None) -> Timeline:
    """The subscription's timeline, counting what was recorded by ``known_at``."""
    known = ledger.history(account, subscription, known_at=known_at)
    events = [ev for ev in known.events if ev.type != "Subscription.ChargesPosted"]
    changes = sorted({date.fromisoformat(ev.effective_date) for ev in events if ev.effective_date})
    owed_from: list[tuple[date, int]] = []
    for day in changes:
        try:
            state = ledger.history(account, subscription, as_of=day, known_at=known_at).state
        except UnknownSubscription:
            continue
        owed_from.append((day, int(state["quantity"]) if state["status"] in OWING else 0))
    lines = [(date.fromisoformat(p["start"]), date.fromisoformat(p["end"]), int(p["net_quantity"]))
             for p in known.posted]
    billing = sorted({date.fromisoformat(p["billing_date"]) for p in known.posted})
    first = min([d for d, _ in owed_from] + [s for s, _, _ in lines] or [ledger.today()])
    last = max([e for _, e, _ in lines] + changes + billing + [first + timedelta(days=30)])

    def owed(day: date) -> int:
        value = 0
        for start, quantity in owed_from:
            if start <= day:
                value = quantity
        return value

    # Owed and billed change only where a change or a line starts, or the day after one ends.
    edges = sorted({first, *changes, *(s for s, _, _ in lines),
                    *(e + timedelta(days=1) for _, e, _ in lines)})
    edges = [d for d in edges if first <= d <= last]
    periods: list[Period] = []
    for index, start in enumerate(edges):
        end = edges[index + 1] - timedelta(days=1) if index + 1 < len(edges) else last
        billed = sum(q for s, e, q in lines if s <= start <= e)
        period = Period(start, end, owed(start), billed)
        if periods and (periods[-1].owed, periods[-1].billed) == (period.owed, period.billed):
            periods[-1] = Period(periods[-1].start, end, period.owed, period.billed)
        else:
            periods.append(period)
    marks = tuple(Mark(date.fromisoformat(ev.effective_date), ev.type.split(".")[-1], ev.version,
                       ev.recorded_at) for ev in events if ev.effective_date)
    return Timeline(first, last, tuple(periods), marks, tuple(billing))


def svg(line: Timeline) -> str:
    """The timeline as an inline SVG: owed (solid) and billed (dashed) as steps, billing
    dates as vertical lines, events as dots with their name; each mark carries its data in
    ``data-`` attributes and a ``<title>`` (a tooltip)."""
    days = max((line.last - line.first).days + 1, 1)
    top = max([p.owed for p in line.periods] + [p.billed for p in line.periods] + [1])
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return round(LEFT + inner_w * (day - line.first).days / days, 1)

    def y(value: int) -> float:
        return round(TOP + inner_h - inner_h * max(value, 0) / top, 1)

    def steps(pick: str) -> str:
        points: list[str] = []
        for period in line.periods:
            value = period.owed if pick == "owed" else period.billed
            points += [f"{x(period.start)},{y(value)}", f"{x(period.end + timedelta(days=1))},{y(value)}"]
        return " ".join(points)

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="chart-title" data-first="{line.first}" data-last="{line.last}">',
        '<title id="chart-title">Licenses owed and licenses billed per day</title>',
    ]
    for tick in range(top + 1):  # the y axis: licenses
        if top > 10 and tick % max(top // 5, 1):
            continue
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick)}" y2="{y(tick)}"/>'
                   f'<text class="axis" x="{LEFT - 6}" y="{y(tick) + 4}" text-anchor="end">{tick}</text>')
    month = date(line.first.year, line.first.month, 1)
    step = 1 if days <= 200 else 2 if days <= 400 else 3 if days <= 800 else 6
    while month <= line.last:  # the x axis: months
        if month >= line.first:
            out.append(f'<line class="tick" x1="{x(month)}" x2="{x(month)}" y1="{TOP + inner_h}" '
                       f'y2="{TOP + inner_h + 5}"/><text class="axis" x="{x(month)}" '
                       f'y="{TOP + inner_h + 18}" text-anchor="middle">{month:%b %Y}</text>')
        month = date(month.year + (month.month - 1 + step) // 12, (month.month - 1 + step) % 12 + 1, 1)
    for day in line.billing_dates:
        out.append(f'<g class="billing-date" data-date="{day}"><line x1="{x(day)}" x2="{x(day)}" '
                   f'y1="{TOP - 6}" y2="{TOP + inner_h}"/><text x="{x(day) + 3}" y="{TOP - 10}">'
                   f'{day:%d %b}</text><title>billing date {day}</title></g>')
    out.append(f'<polyline class="owed" points="{steps("owed")}"/>')
    out.append(f'<polyline class="billed" points="{steps("billed")}"/>')
    for period in line.periods:
        if not period.matches:
            out.append(f'<rect class="gap" data-from="{period.start}" data-to="{period.end}" '
                       f'data-owed="{period.owed}" data-billed="{period.billed}" '
                       f'x="{x(period.start)}" y="{TOP}" '
                       f'width="{max(x(period.end + timedelta(days=1)) - x(period.start), 1)}" '
                       f'height="{inner_h}"><title>{period.start} to {period.end}: owed '
                       f'{period.owed}, billed {period.billed}</title></rect>')
    for mark in line.events:
        out.append(f'<g class="event" data-date="{mark.day}" data-type="{escape(mark.label)}" '
                   f'data-version="{mark.version}"><circle cx="{x(mark.day)}" '
                   f'cy="{y(line.owed(mark.day))}" r="5"/><title>{escape(mark.label)} v{mark.version}, '
                   f'effective {mark.day}, recorded {escape(mark.recorded_at)}</title></g>')
    legend_y = HEIGHT - 8
    out.append(f'<g class="legend"><line class="owed" x1="{LEFT}" x2="{LEFT + 24}" y1="{legend_y - 4}" '
               f'y2="{legend_y - 4}"/><text x="{LEFT + 30}" y="{legend_y}">licenses owed</text>'
               f'<line class="billed" x1="{LEFT + 150}" x2="{LEFT + 174}" y1="{legend_y - 4}" '
               f'y2="{legend_y - 4}"/><text x="{LEFT + 180}" y="{legend_y}">licenses billed</text>'
               f'<circle class="event" cx="{LEFT + 310}" cy="{legend_y - 4}" r="4"/>'
               f'<text x="{LEFT + 320}" y="{legend_y}">event</text>'
               f'<line class="billing-date" x1="{LEFT + 380}" x2="{LEFT + 380}" y1="{legend_y - 10}" '
               f'y2="{legend_y + 2}"/><text x="{LEFT + 386}" y="{legend_y}">billing date</text>'
               f'<rect class="gap" x="{LEFT + 480}" y="{legend_y - 10}" width="14" height="12"/>'
               f'<text x="{LEFT + 500}" y="{legend_y}">owed differs from billed</text></g>')
    out.append("</svg>")
    return "\n".join(out)


def summary(line: Timeline) -> dict[str, Any]:
    return {"periods": len(line.periods), "differs": sum(not p.matches for p in line.periods)}
