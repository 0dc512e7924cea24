"""How the ledger's values are stored in events: dates, enums and frozen dataclasses.

The eventsourcing library's JSON transcoder looks a value's transcoding up by its exact
type. :class:`LedgerTranscoder` also looks along the type's bases, so subclasses such as
freezegun's ``FakeDate`` and ``FakeDatetime`` are stored as the dates they are.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from enum import Enum
from typing import Any

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from ledger.charges import ChargeLine
from ledger.dates import Period
from ledger.money import Rounding
from ledger.offers import BillingFrequency, Convention, OfferTerms
from ledger.subscription import Channel, Status


class LedgerTranscoder(JSONTranscoder):
    """A JSON transcoder that finds a transcoding for subclasses of registered types."""

    def _encode_obj(self, o: Any) -> dict[str, Any]:
        for kind in type(o).__mro__:
            transcoding = self.types.get(kind)
            if transcoding is not None:
                return {"_type_": transcoding.name, "_data_": transcoding.encode(o)}
        raise TranscodingNotRegisteredError(
            f"Object of type {type(o)} is not serializable: register a transcoding for it"
        )


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class EnumAsValue(Transcoding):
    def __init__(self, kind: type[Enum], name: str) -> None:
        self.type = kind
        self.name = name

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        return self.type(data)  # type: ignore[no-any-return]


class DataclassAsDict(Transcoding):
    """A frozen dataclass as a mapping of its fields; lists come back as tuples."""

    def __init__(self, kind: type[Any], name: str) -> None:
        self.type = kind
        self.name = name
        self._fields = [f.name for f in dataclasses.fields(kind)]

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self._fields}

    def decode(self, data: dict[str, Any]) -> Any:
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return self.type(**values)


def register_ledger_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every transcoding the ledger's events need."""
    for transcoding in (
        UUIDAsHex(),
        DecimalAsStr(),
        DatetimeAsISO(),
        DateAsISO(),
        EnumAsValue(BillingFrequency, "billing_frequency"),
        EnumAsValue(Convention, "convention"),
        EnumAsValue(Rounding, "rounding"),
        EnumAsValue(Status, "subscription_status"),
        EnumAsValue(Channel, "cancellation_channel"),
        DataclassAsDict(Period, "period"),
        DataclassAsDict(OfferTerms, "offer_terms"),
        DataclassAsDict(ChargeLine, "charge_line"),
    ):
        transcoder.register(transcoding)


class LedgerSnapshot(Snapshot):
    """A snapshot stamped with the time of the last event it holds (which came from the
    ledger's clock), not with the machine's time: snapshots are a cache of the events."""

    @classmethod
    def take(cls, aggregate: Any) -> LedgerSnapshot:
        taken = super().take(aggregate)
        return cls(
            originator_id=taken.originator_id, originator_version=taken.originator_version,
            timestamp=aggregate.modified_on, topic=taken.topic, state=taken.state,
        )
