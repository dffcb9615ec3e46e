"""The composite schedule (1.6 §3.13.2-3.13.3, 5.7, 5.16.4 and the errata) as a pure function.

At each instant, for a connector c > 0:

- a profile is *in force* when the instant is within validFrom..validTo (3.13.2), its schedule has
  started and has not ended (a period beyond ``duration`` is not executed, 5.16.4; after the duration
  the stack falls back to a lower level, errata 3.43) and, for a TxProfile, there is a transaction on c
  that it belongs to and which has started;
- within a purpose, the profile in force with the highest stackLevel prevails (3.13.2); a TxDefaultProfile
  on c replaces one on connector 0 at the same stackLevel (3.13.1);
- a TxProfile in force overrules the TxDefaultProfile (3.13.1); where none is in force the default applies
  (errata 3.43: fall back to default behaviour);
- the limit is the minimum of that, the connector's share of the ChargePointMaxProfile and the connector's
  own maximum current (3.13.3; 5.7: local limits are taken into account).

The ChargePointMaxProfile limits the SUM over all connectors (3.13.3), so a connector only gets the share of
it that the caller gives (``box_share``: load balancing decides it). Connector 0 is the box: its composite
is the ChargePointMaxProfile against the supply's rating.

Schedules start at startSchedule (Absolute), at the transaction start (Relative, and an Absolute one without
startSchedule, 7.13: "relative to start of charging"), or at startSchedule plus a whole number of
recurrence periods (Recurring, errata 3.78), where a period or duration beyond the recurrence is not
executed (errata 3.44).

Limits are compared as current per phase: a W limit becomes W / (voltage * phases), with phases the
period's numberPhases (3 if absent, 7.12) but no more than the connector has (errata 3.34); an A limit is
taken as given (errata 3.34). The phases in force are the fewest any limit in force allows, and a W answer
converts back with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chargebox.engine.charging.installed import InstalledProfile
from chargebox.engine.charging.profiles import (
    DEFAULT_NUMBER_PHASES,
    RECURRENCE_PERIOD,
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    Rating,
    Transaction,
)

Purpose = ChargingProfilePurpose


class LimitSourceKind(StrEnum):
    PROFILE = "profile"  # a charging profile (and, for ChargePointMaxProfile, the connector's share of it)
    MAX_CURRENT = "max_current"  # the connector's (or the supply's) own maximum current


@dataclass(frozen=True, slots=True)
class LimitSource:
    kind: LimitSourceKind
    charging_profile_id: int | None = None
    purpose: ChargingProfilePurpose | None = None


@dataclass(frozen=True, slots=True)
class Limit:
    """The limit in force at an instant: current per phase, the phases it may use, and where it comes from."""

    amps: float
    phases: int
    source: LimitSource


@dataclass(frozen=True, slots=True)
class LimitAt:
    """:func:`limit_at`'s answer: the limit and the next instant it can change (None: never)."""

    limit: Limit
    next_change: datetime | None


def _anchor(profile: ChargingProfile, transaction: Transaction | None, at: datetime) -> datetime | None:
    """Where the schedule in force at ``at`` started, or None if it has no start (yet)."""
    start = profile.charging_schedule.start_schedule
    kind = profile.charging_profile_kind
    if kind is ChargingProfileKind.RELATIVE or start is None:
        # 7.9 Relative: from a start point the charge point determines; the transaction start.
        return transaction.start if transaction is not None else None
    if kind is ChargingProfileKind.RECURRING:
        assert profile.recurrency_kind is not None  # check_profile refuses a Recurring profile without
        if at < start:
            return None  # the recurrence restarts at startSchedule's time; it has not begun yet
        period = RECURRENCE_PERIOD[profile.recurrency_kind]
        return start + (at - start) // period * period
    return start


def _period_in_force(profile: ChargingProfile, anchor: datetime,
                     at: datetime) -> ChargingSchedulePeriod | None:
    schedule = profile.charging_schedule
    offset = (at - anchor).total_seconds()
    if offset < 0 or (schedule.duration is not None and offset >= schedule.duration):
        return None
    found = None
    for period in schedule.charging_schedule_period:
        if period.start_period > offset:
            break
        found = period
    return found


def _applies(entry: InstalledProfile, connector_id: int, transaction: Transaction | None,
             at: datetime) -> bool:
    """Whether ``entry`` may limit ``connector_id`` at ``at`` at all, schedule aside."""
    profile = entry.profile
    if profile.valid_from is not None and at < profile.valid_from:
        return False
    if profile.valid_to is not None and at >= profile.valid_to:
        return False
    purpose = profile.charging_profile_purpose
    if purpose is Purpose.CHARGE_POINT_MAX_PROFILE:
        return entry.connector_id == 0
    if connector_id == 0:
        return False  # connector 0 is the box: only its ChargePointMaxProfile limits it
    if purpose is Purpose.TX_DEFAULT_PROFILE:
        return entry.connector_id in (0, connector_id)
    return (entry.connector_id == connector_id and transaction is not None and at >= transaction.start
            and profile.transaction_id in (None, transaction.transaction_id))


def _amps(profile: ChargingProfile, period: ChargingSchedulePeriod, rating: Rating) -> tuple[float, int]:
    phases = min(period.number_phases or DEFAULT_NUMBER_PHASES, rating.phases)
    if profile.charging_schedule.charging_rate_unit is ChargingRateUnit.W:
        return period.limit / (rating.voltage * phases), phases
    return period.limit, phases


def _evaluate(installed: Iterable[InstalledProfile], connector_id: int, transaction: Transaction | None,
              at: datetime, rating: Rating, box_share: float) -> Limit:
    # The prevailing profile of each purpose: highest stackLevel, a connector's own before connector 0's.
    prevailing: dict[Purpose, tuple[tuple[int, bool], InstalledProfile, ChargingSchedulePeriod]] = {}
    for entry in installed:
        if not _applies(entry, connector_id, transaction, at):
            continue
        anchor = _anchor(entry.profile, transaction, at)
        period = None if anchor is None else _period_in_force(entry.profile, anchor, at)
        if period is None:
            continue
        rank = (entry.profile.stack_level, entry.connector_id != 0)
        purpose = entry.profile.charging_profile_purpose
        if purpose not in prevailing or rank > prevailing[purpose][0]:
            prevailing[purpose] = (rank, entry, period)

    candidates: list[Limit] = []
    for purpose in (Purpose.TX_PROFILE, Purpose.TX_DEFAULT_PROFILE, Purpose.CHARGE_POINT_MAX_PROFILE):
        if purpose not in prevailing:
            continue
        if purpose is Purpose.TX_DEFAULT_PROFILE and Purpose.TX_PROFILE in prevailing:
            continue  # 3.13.1: the TxProfile overrules the default
        _, entry, period = prevailing[purpose]
        amps, phases = _amps(entry.profile, period, rating)
        if purpose is Purpose.CHARGE_POINT_MAX_PROFILE:
            amps *= box_share  # 3.13.3: the limit of all connectors combined
        candidates.append(Limit(amps, phases, LimitSource(LimitSourceKind.PROFILE,
                                                          entry.profile.charging_profile_id, purpose)))
    candidates.append(Limit(rating.max_current, rating.phases, LimitSource(LimitSourceKind.MAX_CURRENT)))
    lowest = min(candidates, key=lambda limit: limit.amps)  # the first of equals: the profile named
    return Limit(lowest.amps, min(limit.phases for limit in candidates), lowest.source)


def _boundaries(installed: Iterable[InstalledProfile], transaction: Transaction | None,
                start: datetime, end: datetime | None) -> Iterator[datetime]:
    """Every instant in (start, end) at which some profile's limit may change (and some outside); end None:
    up to one recurrence after start, which holds a recurring profile's next boundary."""
    if transaction is not None:
        yield transaction.start
    for entry in installed:
        profile = entry.profile
        schedule = profile.charging_schedule
        yield from (moment for moment in (profile.valid_from, profile.valid_to) if moment is not None)
        anchors: Iterable[datetime]
        first = schedule.start_schedule
        if profile.charging_profile_kind is ChargingProfileKind.RECURRING and first is not None:
            assert profile.recurrency_kind is not None
            every = RECURRENCE_PERIOD[profile.recurrency_kind]
            last = start + every if end is None else end
            cycles = range(max(0, (start - first) // every), max(0, (last - first) // every) + 1)
            anchors = (first + cycle * every for cycle in cycles)
        else:
            anchor = _anchor(profile, transaction, start)
            anchors = () if anchor is None else (anchor,)
        for anchor in anchors:
            yield anchor
            yield from (anchor + timedelta(seconds=period.start_period)
                        for period in schedule.charging_schedule_period)
            if schedule.duration is not None:
                yield anchor + timedelta(seconds=schedule.duration)


def limit_at(installed: Iterable[InstalledProfile], connector_id: int, transaction: Transaction | None,
             at: datetime, rating: Rating, *, box_share: float) -> LimitAt:
    """The limit in force on ``connector_id`` at ``at``, and the next instant it can change (the shell's
    timer: the pilot follows a period boundary at once).

    ``rating`` is the connector's (the supply's for connector 0); ``box_share`` the fraction (0..1) of the
    ChargePointMaxProfile this connector may use (1 for connector 0, the box itself).
    """
    _check_share(box_share)
    profiles = tuple(installed)
    later = (moment for moment in _boundaries(profiles, transaction, at, None) if moment > at)
    return LimitAt(_evaluate(profiles, connector_id, transaction, at, rating, box_share),
                   min(later, default=None))


def composite_schedule(installed: Iterable[InstalledProfile], connector_id: int,
                       transaction: Transaction | None, start: datetime, duration: int,
                       unit: ChargingRateUnit | None, rating: Rating, *,
                       box_share: float) -> ChargingSchedule:
    """The composite schedule of ``connector_id`` from ``start`` (GetCompositeSchedule.conf scheduleStart)
    for ``duration`` seconds (5.7, errata 3.28-3.29), in ``unit`` (None: A, the pilot's unit).

    Periods start at whole seconds (as on the wire) and where consecutive ones are equal they are one.
    A duration of 0 still answers the limit in force at ``start``, one period (libocpp #1169 answered
    its hardware defaults there). startSchedule is omitted (errata 3.57). Arguments as :func:`limit_at`.
    """
    if duration < 0:
        raise ValueError(f"duration {duration} < 0")
    _check_share(box_share)
    profiles = tuple(installed)
    end = start + timedelta(seconds=duration)
    # The wire counts whole seconds (7.14): a boundary within a second shows from the next one.
    seconds = {0} | {_ceil_seconds(moment - start)
                     for moment in _boundaries(profiles, transaction, start, end) if start < moment < end}
    unit = unit or ChargingRateUnit.A
    periods: list[ChargingSchedulePeriod] = []
    for offset in sorted(seconds):
        moment = start + timedelta(seconds=offset)
        limit = _evaluate(profiles, connector_id, transaction, moment, rating, box_share)
        value = limit.amps if unit is ChargingRateUnit.A else limit.amps * rating.voltage * limit.phases
        if periods and (periods[-1].limit, periods[-1].number_phases) == (value, limit.phases):
            continue
        periods.append(ChargingSchedulePeriod(offset, value, limit.phases))
    return ChargingSchedule(unit, periods, duration=duration)


def _ceil_seconds(delta: timedelta) -> int:
    whole = int(delta.total_seconds())
    return whole if whole == delta.total_seconds() else whole + 1



def _check_share(box_share: float) -> None:
    if not 0.0 <= box_share <= 1.0:
        raise ValueError(f"box_share {box_share} outside 0..1: a connector cannot have more than the box")
