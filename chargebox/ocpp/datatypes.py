"""The protocol-neutral compound data types (OCPP 1.6 chapter 7, a superset of 1.5's) shared by several
messages. Constraints beyond the Python type are in the hints (:mod:`chargebox.ocpp.constraints`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from chargebox.ocpp.constraints import CiString50, CiString500, Decimal1, IdToken, MinItems
from chargebox.ocpp.enums import (
    AuthorizationStatus,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    Location,
    Measurand,
    Phase,
    ReadingContext,
    RecurrencyKindType,
    UnitOfMeasure,
    ValueFormat,
)


@dataclass(frozen=True, slots=True)
class IdTagInfo:  # 7.27
    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: IdToken | None = None


@dataclass(frozen=True, slots=True)
class SampledValue:
    """One sampled value of a MeterValue (7.43): the text and its optional attributes.

    Absent attributes take the spec's defaults on the wire (context Sample.Periodic, format Raw,
    measurand Energy.Active.Import.Register, location Outlet, unit Wh). ``phase`` is 1.6's only.
    """

    value: str
    context: ReadingContext | None = None
    format: ValueFormat | None = None
    measurand: Measurand | None = None
    phase: Phase | None = None
    location: Location | None = None
    unit: UnitOfMeasure | None = None


@dataclass(frozen=True, slots=True)
class MeterValue:  # 7.33
    timestamp: datetime
    values: Annotated[list[SampledValue], MinItems(1)] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TransactionData:
    """The meter values of a StopTransaction.req, grouped as 1.5 groups them (1.5 7.36); 1.6 sends the
    MeterValues of its one group directly (6.49 transactionData)."""

    values: list[MeterValue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class KeyValue:  # 7.29
    key: CiString50
    readonly: bool
    value: CiString500 | None = None


@dataclass(frozen=True, slots=True)
class AuthorisationData:  # 7.1 (AuthorizationData; 1.5's spelling kept for the stored form)
    id_tag: IdToken
    id_tag_info: IdTagInfo | None = None


@dataclass(frozen=True, slots=True)
class ChargingSchedulePeriod:  # 7.14
    start_period: int
    limit: Decimal1
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingSchedule:  # 7.13
    charging_rate_unit: ChargingRateUnitType
    charging_schedule_period: Annotated[list[ChargingSchedulePeriod], MinItems(1)]
    duration: int | None = None
    start_schedule: datetime | None = None
    min_charging_rate: Decimal1 | None = None


@dataclass(frozen=True, slots=True)
class ChargingProfile:  # 7.8
    charging_profile_id: int
    stack_level: int
    charging_profile_purpose: ChargingProfilePurposeType
    charging_profile_kind: ChargingProfileKindType
    charging_schedule: ChargingSchedule
    transaction_id: int | None = None
    recurrency_kind: RecurrencyKindType | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
