"""Charging profiles as the OCPP 1.6 specification defines them (chapter 7.8-7.14, 7.37), plain and typed.

Field names are the specification's, in snake case, so these can become the 1.6 messages' own types
(chargebox/ocpp) at merge. Times are timezone-aware datetimes; periods and durations are seconds, as on
the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class ChargingProfilePurpose(StrEnum):  # 7.10
    CHARGE_POINT_MAX_PROFILE = "ChargePointMaxProfile"
    TX_DEFAULT_PROFILE = "TxDefaultProfile"
    TX_PROFILE = "TxProfile"


class ChargingProfileKind(StrEnum):  # 7.9
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RecurrencyKind(StrEnum):  # 7.37
    DAILY = "Daily"
    WEEKLY = "Weekly"


class ChargingRateUnit(StrEnum):  # 7.12
    A = "A"  # per phase
    W = "W"  # total over all phases


#: Errata 3.78: "restarts every 24 hours" / "every 7 days", fixed lengths (no calendar, no DST).
RECURRENCE_PERIOD = {RecurrencyKind.DAILY: timedelta(days=1), RecurrencyKind.WEEKLY: timedelta(days=7)}

#: 7.12 (errata 3.68): "if numberPhases in a ChargingSchedulePeriod is absent, 3 SHALL be assumed".
DEFAULT_NUMBER_PHASES = 3


@dataclass(frozen=True, slots=True)
class ChargingSchedulePeriod:  # 7.14
    start_period: int  # seconds from the start of the schedule; also ends the previous period
    limit: float  # in the schedule's charging_rate_unit
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingSchedule:  # 7.13
    charging_rate_unit: ChargingRateUnit
    charging_schedule_period: tuple[ChargingSchedulePeriod, ...]
    duration: int | None = None  # seconds; None: the last period goes on
    start_schedule: datetime | None = None  # omitted in a composite schedule (errata 3.57)
    min_charging_rate: float | None = None


@dataclass(frozen=True, slots=True)
class ChargingProfile:  # 7.8
    charging_profile_id: int
    stack_level: int
    charging_profile_purpose: ChargingProfilePurpose
    charging_profile_kind: ChargingProfileKind
    charging_schedule: ChargingSchedule
    transaction_id: int | None = None
    recurrency_kind: RecurrencyKind | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class Transaction:
    """The transaction on a connector, as far as charging limits care: when it started (Relative
    schedules and TxProfiles count from there) and the Central System's id once known (None before
    StartTransaction.conf)."""

    start: datetime
    transaction_id: int | None = None


@dataclass(frozen=True, slots=True)
class Rating:
    """What a connector (or, for connector 0, the box's supply) can carry: its phases, the nominal line
    voltage W limits are converted with (7.12: the set voltage for the area, not a measured one) and its
    maximum current per phase."""

    phases: int
    voltage: float
    max_current: float
