"""OCPP 1.5 compound data types (specification chapter 7) shared by several messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chargebox.ocpp.enums import (
    AuthorizationStatus,
    Location,
    Measurand,
    ReadingContext,
    UnitOfMeasure,
    ValueFormat,
)


@dataclass(frozen=True, slots=True)
class IdTagInfo:  # 7.17
    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class SampledValue:
    """One ``value`` of a MeterValue (7.22): the text and its optional attributes.

    Absent attributes take the spec's defaults on the wire (context Sample.Periodic, format Raw,
    measurand Energy.Active.Import.Register, location Outlet, unit Wh).
    """

    value: str
    context: ReadingContext | None = None
    format: ValueFormat | None = None
    measurand: Measurand | None = None
    location: Location | None = None
    unit: UnitOfMeasure | None = None


@dataclass(frozen=True, slots=True)
class MeterValue:  # 7.22
    timestamp: datetime
    values: list[SampledValue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TransactionData:  # 7.36
    values: list[MeterValue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class KeyValue:  # 7.18
    key: str
    readonly: bool
    value: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorisationData:  # 7.3
    id_tag: str
    id_tag_info: IdTagInfo | None = None
