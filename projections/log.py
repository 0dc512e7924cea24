"""What the read side reads of the ledger's log: a small protocol the write side's
application (``ledger.application.BillingApplication``) provides. Projections, the feed, the
audit views and ``verify`` depend on this, not on the application: they never record
anything, and they could read a log served by something else."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification

from ledger.chain import Seal
from ledger.invoicing import LogPoint


class EventLog(Protocol):
    """The ledger's notification log and its aggregates' events, read only."""

    @property
    def name(self) -> str:
        """The application's name (views track their position in its log under it)."""
        ...

    def last_position(self) -> int:
        """The position of the last recorded event (0: none)."""
        ...

    def notifications(self, after: int, limit: int, *, topics: Sequence[str] = (),
                      stop: int | None = None) -> Sequence[Notification]:
        """Up to ``limit`` notifications after position ``after`` (up to ``stop``), in order,
        of the given topics (all when none)."""
        ...

    def decode(self, notification: Notification) -> Any:
        """The domain event a notification stores."""
        ...

    def aggregate_events(self, originator_id: UUID, *, gt: int | None = None,
                         lte: int | None = None) -> list[Any]:
        """One aggregate's events (between versions ``gt`` and ``lte``), in order, from the
        events alone (never a snapshot)."""
        ...

    def latest_snapshot(self, originator_id: UUID) -> Any | None:
        """An aggregate's latest snapshot, if the store keeps any."""
        ...

    def positions(self, batch: int = 5000) -> Iterator[tuple[int, Notification | None, Seal | None]]:
        """Every position of the log in order, with its event and its seal (either may be
        missing); the seal is always None on a store that keeps no seals."""
        ...

    def chain_origin(self) -> int | None:
        """Up to which position the seals were added after the fact (0: all sealed as
        recorded); None when the store keeps no seals."""
        ...

    def log_point(self) -> LogPoint:
        """The last position and its seal: what a cut records and an anchor keeps."""
        ...
