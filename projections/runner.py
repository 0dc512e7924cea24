"""Running the billing projection: pull the ledger's notification log after the tracked
position, fold each batch into the views, and write rows and position in one transaction.

The same pull loop serves SQLite (whose recorder has no subscriptions) and PostgreSQL.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, OperationalError
from eventsourcing.sqlite import SQLiteFactory
from eventsourcing.utils import Environment

from ledger.eventstore import schema_lock
from projections.log import EventLog
from projections.view_rows import TOPICS, ops_for
from projections.views import (
    Op,
    PositionMoved,
    PostgresBillingViews,
    SQLiteBillingViews,
    Update,
    ViewsCorrupt,
    _Views,
)

Progress = Callable[[int, int], None]
VIEWS_NAME = "BillingViews"
DEFAULT_BATCH = 2000


class ViewStore:
    """The billing views of one store location (the same SQLite file or PostgreSQL database
    as the events)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        merged = {**os.environ, **env}
        self.env = merged
        self.factory = InfrastructureFactory.construct(Environment(VIEWS_NAME, merged))
        cls: type[Any] = (
            SQLiteBillingViews if isinstance(self.factory, SQLiteFactory) else PostgresBillingViews
        )
        with schema_lock(merged):
            views: Any = self.factory.tracking_recorder(cls)
        self.views: _Views = views

    def schema_lock(self) -> Any:
        """Serialises changes of the tables' shape between processes (PostgreSQL)."""
        return schema_lock(self.env)

    def close(self) -> None:
        self.factory.close()


class Projector:
    """Follows a ledger's notification log into a view store."""

    def __init__(self, log: EventLog, view_store: ViewStore, *,
                 batch_size: int = DEFAULT_BATCH) -> None:
        self.log = log
        self.views = view_store.views
        self.view_store = view_store
        self.batch_size = batch_size
        self.name = log.name
        self.conflicts = 0
        self.pause = 0.0  # seconds to sleep between batches (throttles a rebuild on a busy store)

    @property
    def position(self) -> int:
        return self._position(self.views, self.name)

    def _position(self, views: _Views, name: str) -> int:
        try:
            return views.position(name)
        except ViewsCorrupt:
            if views.table_rows("accounts"):
                raise  # rows whose place in the log is unknown: only a rebuild can tell
            views.start_tracking(name)  # new views (or ones written before tracking rows)
            return views.position(name)

    def pending(self) -> int:
        """How many notifications the log holds beyond the tracked position (an upper bound)."""
        return max(0, (self.log.last_position()) - self.position)

    def catch_up(self, progress: Progress | None = None, max_batches: int | None = None) -> int:
        """Fold every notification after the tracked position; returns how many were read."""
        return self._catch_up(self.views, self.name, progress, max_batches)

    def _catch_up(self, views: _Views, name: str, progress: Progress | None = None,
                  max_batches: int | None = None) -> int:
        position = self._position(views, name)
        target = self.log.last_position()
        done = batches = 0
        while max_batches is None or batches < max_batches:
            notifications = self.log.notifications(position, self.batch_size, topics=TOPICS)
            if not notifications:
                break
            ops: list[Op | Update] = []
            for notification in notifications:
                event = self.log.decode(notification)
                ops.extend(ops_for(event, notification.id))
            try:
                views.apply(ops, name, position, notifications[-1].id)
            except (PositionMoved, OperationalError) as error:
                if isinstance(error, OperationalError) and "locked" not in str(error):
                    raise
                # Another worker committed a batch first, or a rebuild was swapped in: ours
                # was rolled back; carry on from wherever the position is now.
                self.conflicts += 1
                position = views.position(name)
                continue
            position = notifications[-1].id
            done += len(notifications)
            batches += 1
            if progress is not None:
                progress(min(position, target), max(target, position))
            if self.pause:
                time.sleep(self.pause)
        return done

    def rebuild(self, progress: Progress | None = None) -> int:
        """Fold the whole log into new views beside the live ones, then swap them in, in one
        transaction. The live views keep answering (and projection workers keep them up to
        date) until the swap; a worker's batch started before it is refused by the tracking
        position, so nothing is ever written into half-built views. Returns how many events
        the rebuild read. An interrupted rebuild resumes where it stopped."""
        rebuild = self.begin_rebuild()
        count = rebuild.step(progress=progress)
        rebuild.finish()
        return count

    def begin_rebuild(self) -> Rebuild:
        return Rebuild(self)


class Rebuild:
    """A rebuild of a projector's views beside the live ones, in steps (the benchmark
    interleaves them with a raw read of the same batches)."""

    def __init__(self, projector: Projector) -> None:
        self.projector = projector
        self.shadow = projector.views.shadow()
        self.name = projector.views.shadow_name(projector.name)
        with projector.view_store.schema_lock():
            self.shadow.prepare_shadow(projector.name)

    def step(self, max_batches: int | None = None, progress: Progress | None = None) -> int:
        """Fold up to ``max_batches`` batches (all, by default); returns the events read."""
        try:
            return self.projector._catch_up(self.shadow, self.name, progress, max_batches)
        except ViewsCorrupt:
            return 0  # another rebuild swapped these tables in while this one was folding

    def finish(self) -> bool:
        """Swap the rebuilt views in; False when another rebuild already had."""
        with self.projector.view_store.schema_lock():
            return self.projector.views.swap_in(self.shadow, self.projector.name)
