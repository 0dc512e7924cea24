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
from ledger.errors import UnreadableValue
from ledger.money import Rounding
from ledger.offers import BillingFrequency, Convention, OfferTerms
from ledger.rating import Checkpoint, OpenLine, SegmentState, TermState
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
    """A frozen dataclass as a mapping of its fields; lists come back as tuples.

    Versioned as the library versions events: a value type may declare ``class_version``
    (1 when absent) and ``upcast_vN_vM(data)`` static methods. A stored value carries its
    version when it is above 1; one of an older version is upcast field by field to the
    current one when read, so a field can be added (or renamed, or dropped) without making
    old ledgers unreadable. A value of a newer version than the code knows, or with fields
    the code does not know, is refused with :class:`~ledger.errors.UnreadableValue` naming
    the type and the fields, never guessed at."""

    def __init__(self, kind: type[Any], name: str) -> None:
        self.type = kind
        self.name = name
        self._fields = [f.name for f in dataclasses.fields(kind)]
        self._version: int = getattr(kind, "class_version", 1)

    def encode(self, obj: Any) -> dict[str, Any]:
        data = {name: getattr(obj, name) for name in self._fields}
        if self._version > 1:
            data["class_version"] = self._version
        return data

    def decode(self, data: dict[str, Any]) -> Any:
        values = dict(data)
        version = values.pop("class_version", 1)
        if not isinstance(version, int) or not 1 <= version <= self._version:
            raise UnreadableValue(
                f"a stored {self.name} is of version {version!r}; this version of the ledger "
                f"reads versions 1 to {self._version} (written by a newer version?)"
            )
        while version < self._version:
            getattr(self.type, f"upcast_v{version}_v{version + 1}")(values)
            version += 1
        unknown = sorted(set(values) - set(self._fields))
        if unknown:
            raise UnreadableValue(
                f"a stored {self.name} (version {version}) has fields this version of the ledger "
                f"does not know: {', '.join(map(str, unknown))}"
            )
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        try:
            return self.type(**values)
        except TypeError as error:
            raise UnreadableValue(f"a stored {self.name} cannot be read: {error}") from None


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
        DataclassAsDict(Checkpoint, "rating_checkpoint"),
        DataclassAsDict(OpenLine, "open_line"),
        DataclassAsDict(SegmentState, "rating_segment"),
        DataclassAsDict(TermState, "rating_term"),
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
