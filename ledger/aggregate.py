"""The base class of the ledger's aggregates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate


class LedgerAggregate(Aggregate):
    """An eventsourcing aggregate whose state is immutable values, except the containers
    named in ``_containers``.

    The repository keeps aggregates in a cache and hands out deep copies, so that a command
    that fails half-way never corrupts the cached state and threads never share one object.
    Copying immutable values is wasted work, so the copy here shares them and copies only
    the containers.
    """

    _containers: ClassVar[tuple[str, ...]] = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.__dict__["_pending_events"] = list(self.__dict__["_pending_events"])
        for name in self._containers:
            value = self.__dict__[name]
            clone.__dict__[name] = type(value)(value)
        return clone


def replay(events: Iterable[Any], aggregate: Any = None) -> Any:
    """The aggregate ``events`` make (applied to ``aggregate``, or from its first event):
    each event checks that it follows the one before (the library's ``mutate``)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def fold(events: Sequence[Any]) -> Any:
    """An aggregate made from a *selection* of its events (those effective by a date, or
    recorded by an instant: time travel), in order. The versions of a selection need not
    follow one another, so they are not checked; the aggregate takes the last one's."""
    aggregate: Any = events[0].mutate(None)
    for event in events[1:]:
        event.apply(aggregate)
        aggregate.version = event.originator_version
    return aggregate
