"""Running the billing projection: pull the ledger's notification log after the tracked
position, fold each batch into the views, and write rows and position in one transaction.

The same pull loop serves SQLite (whose recorder has no subscriptions) and PostgreSQL.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from eventsourcing.persistence import (
    InfrastructureFactory,
    IntegrityError,
    OperationalError,
    Tracking,
)
from eventsourcing.sqlite import SQLiteFactory
from eventsourcing.utils import Environment

from ledger.application import BillingLedger
from ledger.store import schema_lock
from projections.billing import TOPICS, ops_for
from projections.views import Op, PostgresBillingViews, SQLiteBillingViews, Update, _Views

Progress = Callable[[int, int], None]
VIEWS_NAME = "BillingViews"
DEFAULT_BATCH = 2000


class ViewStore:
    """The billing views of one store location (the same SQLite file or PostgreSQL database
    as the events)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        merged = {**os.environ, **env}
        self.factory = InfrastructureFactory.construct(Environment(VIEWS_NAME, merged))
        cls: type[Any] = (
            SQLiteBillingViews if isinstance(self.factory, SQLiteFactory) else PostgresBillingViews
        )
        with schema_lock(merged):
            views: Any = self.factory.tracking_recorder(cls)
        self.views: _Views = views

    def close(self) -> None:
        self.factory.close()


class Projector:
    """Follows a ledger's notification log into a view store."""

    def __init__(self, ledger: BillingLedger, store: ViewStore, *, batch_size: int = DEFAULT_BATCH) -> None:
        self.ledger = ledger
        self.views = store.views
        self.batch_size = batch_size
        self.name = ledger.name
        self.conflicts = 0
        self.pause = 0.0  # seconds to sleep between batches (throttles a rebuild on a busy store)

    @property
    def position(self) -> int:
        return self.views.position(self.name)

    def pending(self) -> int:
        """How many notifications the log holds beyond the tracked position (an upper bound)."""
        return max(0, (self.ledger.recorder.max_notification_id() or 0) - self.position)

    def catch_up(self, progress: Progress | None = None, max_batches: int | None = None) -> int:
        """Fold every notification after the tracked position; returns how many were read."""
        position = self.position
        target = self.ledger.recorder.max_notification_id() or 0
        done = batches = 0
        while max_batches is None or batches < max_batches:
            notifications = self.ledger.recorder.select_notifications(
                start=position, limit=self.batch_size, topics=TOPICS, inclusive_of_start=False,
            )
            if not notifications:
                break
            ops: list[Op | Update] = []
            for notification in notifications:
                event = self.ledger.mapper.to_domain_event(notification)
                ops.extend(ops_for(event, notification.id))
            try:
                self.views.apply(ops, Tracking(self.name, notifications[-1].id))
            except (IntegrityError, OperationalError) as error:
                if isinstance(error, OperationalError) and "locked" not in str(error):
                    raise
                # Another worker committed this batch first (its rows and position stand,
                # ours rolled back): carry on from wherever the position is now.
                self.conflicts += 1
                position = self.position
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
        """Empty the views and fold the whole log again."""
        self.views.clear(self.name)
        return self.catch_up(progress)
