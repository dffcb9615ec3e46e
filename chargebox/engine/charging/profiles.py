"""Charging profiles as the OCPP 1.6 specification defines them (chapter 7.8-7.14, 7.37), plain and typed.

The profile itself is the 1.6 messages' own type (chargebox.ocpp.datatypes): field names are the
specification's, in snake case. Times are timezone-aware datetimes; periods and durations are seconds, as on
the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chargebox.ocpp.datatypes import ChargingProfile, ChargingSchedule, ChargingSchedulePeriod
from chargebox.ocpp.enums import (
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    RecurrencyKindType,
)


# The enums and the profile types are the neutral vocabulary's (chargebox.ocpp, 1.6 chapter 7): one
# definition serves the messages, the rules and the store. The names here are the charging package's.
ChargingProfilePurpose = ChargingProfilePurposeType  # 7.10
ChargingProfileKind = ChargingProfileKindType  # 7.9
RecurrencyKind = RecurrencyKindType  # 7.37
ChargingRateUnit = ChargingRateUnitType  # 7.12: A per phase, W total over all phases


#: Errata 3.78: "restarts every 24 hours" / "every 7 days", fixed lengths (no calendar, no DST).
RECURRENCE_PERIOD = {RecurrencyKind.DAILY: timedelta(days=1), RecurrencyKind.WEEKLY: timedelta(days=7)}

#: 7.12 (errata 3.68): "if numberPhases in a ChargingSchedulePeriod is absent, 3 SHALL be assumed".
DEFAULT_NUMBER_PHASES = 3


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


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def to_plain(profile: ChargingProfile) -> dict[str, Any]:
    """``profile`` in its neutral form, for storage (errata 3.37: installed profiles survive a reboot): the
    specification's field names in camelCase (7.8, 7.13, 7.14), enums as their text, times as ISO 8601,
    absent fields left out; JSON-ready, no binding's or library's form."""
    schedule = profile.charging_schedule
    fields = {
        "chargingProfileId": profile.charging_profile_id,
        "transactionId": profile.transaction_id,
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": profile.charging_profile_purpose.value,
        "chargingProfileKind": profile.charging_profile_kind.value,
        "recurrencyKind": None if profile.recurrency_kind is None else profile.recurrency_kind.value,
        "validFrom": _time(profile.valid_from),
        "validTo": _time(profile.valid_to),
        "chargingSchedule": {key: value for key, value in {
            "duration": schedule.duration,
            "startSchedule": _time(schedule.start_schedule),
            "chargingRateUnit": schedule.charging_rate_unit.value,
            "chargingSchedulePeriod": [
                {key: value for key, value in {
                    "startPeriod": period.start_period, "limit": period.limit,
                    "numberPhases": period.number_phases}.items() if value is not None}
                for period in schedule.charging_schedule_period],
            "minChargingRate": schedule.min_charging_rate,
        }.items() if value is not None},
    }
    return {key: value for key, value in fields.items() if value is not None}


def from_plain(plain: Mapping[str, Any]) -> ChargingProfile:
    """The profile :func:`to_plain` gave ``plain`` for."""
    schedule = plain["chargingSchedule"]
    recurrency = plain.get("recurrencyKind")
    return ChargingProfile(
        charging_profile_id=plain["chargingProfileId"],
        stack_level=plain["stackLevel"],
        charging_profile_purpose=ChargingProfilePurpose(plain["chargingProfilePurpose"]),
        charging_profile_kind=ChargingProfileKind(plain["chargingProfileKind"]),
        charging_schedule=ChargingSchedule(
            charging_rate_unit=ChargingRateUnit(schedule["chargingRateUnit"]),
            charging_schedule_period=list(
                ChargingSchedulePeriod(period["startPeriod"], period["limit"], period.get("numberPhases"))
                for period in schedule["chargingSchedulePeriod"]),
            duration=schedule.get("duration"),
            start_schedule=_parse_time(schedule.get("startSchedule")),
            min_charging_rate=schedule.get("minChargingRate"),
        ),
        transaction_id=plain.get("transactionId"),
        recurrency_kind=None if recurrency is None else RecurrencyKind(recurrency),
        valid_from=_parse_time(plain.get("validFrom")),
        valid_to=_parse_time(plain.get("validTo")),
    )
