"""The installed charging profiles and the specification's rules for changing them, as pure functions.

Each change returns a :class:`Decision`: accepted or rejected, why, and the installed set after it (the
same set when rejected), so the shell can answer SetChargingProfile.conf / ClearChargingProfile.conf,
log the reason and persist the new set (errata 3.37: profiles survive a reboot).
"""

from __future__ import annotations

from dataclasses import dataclass

from chargebox.engine.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    Transaction,
)

Purpose = ChargingProfilePurpose


@dataclass(frozen=True, slots=True)
class InstalledProfile:
    """A profile and the connector it was set on (SetChargingProfile.req connectorId, 6.43)."""

    connector_id: int
    profile: ChargingProfile


@dataclass(frozen=True, slots=True)
class ProfileLimits:
    """The smart charging configuration keys (3.13.5, 9.4) and the box's number of connectors."""

    connectors: int
    charge_profile_max_stack_level: int
    charging_schedule_allowed_charging_rate_unit: frozenset[ChargingRateUnit]
    charging_schedule_max_periods: int
    max_charging_profiles_installed: int


@dataclass(frozen=True, slots=True)
class Decision:
    accepted: bool
    reason: str  # why, for the log (never shown as a wire status)
    installed: tuple[InstalledProfile, ...]


def check_profile(profile: ChargingProfile, limits: ProfileLimits) -> str | None:
    """Why ``profile`` cannot be installed whatever the connector, or None if it can."""
    schedule = profile.charging_schedule
    periods = schedule.charging_schedule_period
    if not 0 <= profile.stack_level <= limits.charge_profile_max_stack_level:
        return (f"stackLevel {profile.stack_level} outside 0..{limits.charge_profile_max_stack_level}"
                " (ChargeProfileMaxStackLevel)")
    if schedule.charging_rate_unit not in limits.charging_schedule_allowed_charging_rate_unit:
        return (f"chargingRateUnit {schedule.charging_rate_unit} not allowed"
                " (ChargingScheduleAllowedChargingRateUnit)")
    if not periods:
        return "no chargingSchedulePeriod (7.13: 1..*)"
    if len(periods) > limits.charging_schedule_max_periods:
        return (f"{len(periods)} periods, more than {limits.charging_schedule_max_periods}"
                " (ChargingScheduleMaxPeriods)")
    if periods[0].start_period != 0:
        return "the first period does not start at 0 (errata 3.45, 3.69)"
    if any(later.start_period <= earlier.start_period for earlier, later in zip(periods, periods[1:])):
        # 7.14: a startPeriod ends the previous period, so they must increase.
        return "startPeriods do not increase"
    if any(period.limit < 0 for period in periods):
        return "a negative limit"
    if any(period.number_phases is not None and not 1 <= period.number_phases <= 3 for period in periods):
        return "numberPhases outside 1..3"
    if schedule.duration is not None and schedule.duration < 0:
        return "a negative duration"
    recurring = profile.charging_profile_kind is ChargingProfileKind.RECURRING
    if recurring and (profile.recurrency_kind is None or schedule.start_schedule is None):
        # 7.37: it restarts at startSchedule's time of day (of week).
        return "a Recurring profile needs recurrencyKind and startSchedule"
    if not recurring and profile.recurrency_kind is not None:
        return "recurrencyKind on a profile that is not Recurring (errata 3.56)"
    if profile.transaction_id is not None and profile.charging_profile_purpose is not Purpose.TX_PROFILE:
        return "transactionId on a profile that is not a TxProfile (7.8)"
    valid_from, valid_to = profile.valid_from, profile.valid_to
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        return "validTo not after validFrom: never valid"
    return None


def set_profile(installed: tuple[InstalledProfile, ...], connector_id: int, profile: ChargingProfile,
                transaction: Transaction | None, limits: ProfileLimits) -> Decision:
    """SetChargingProfile.req (5.16, 6.43) on ``connector_id``.

    ``transaction`` is the transaction on that connector, None for none. A profile replaces the installed
    one with the same chargingProfileId and the one with the same purpose and stackLevel on the same
    connector (3.13.2, 5.16.3-4).
    """
    def reject(reason: str) -> Decision:
        return Decision(False, reason, installed)

    if not 0 <= connector_id <= limits.connectors:
        return reject(f"unknown connector {connector_id}")
    problem = check_profile(profile, limits)
    if problem is not None:
        return reject(problem)
    purpose = profile.charging_profile_purpose
    if purpose is Purpose.CHARGE_POINT_MAX_PROFILE and connector_id != 0:
        return reject("ChargePointMaxProfile only on connector 0 (3.13.1)")
    if purpose is Purpose.TX_PROFILE:
        if connector_id == 0:
            return reject("TxProfile only on a connector > 0 (3.13.1)")
        if transaction is None:
            return reject(f"TxProfile without a transaction on connector {connector_id} (3.13.1)")
        if profile.transaction_id is not None and profile.transaction_id != transaction.transaction_id:
            # 5.16: the transactionId prevents a mismatch between a transaction and its TxProfile.
            return reject(f"TxProfile for transaction {profile.transaction_id},"
                          f" not the one on connector {connector_id}")
    kept = tuple(entry for entry in installed
                 if entry.profile.charging_profile_id != profile.charging_profile_id
                 and not (entry.connector_id == connector_id
                          and entry.profile.charging_profile_purpose is purpose
                          and entry.profile.stack_level == profile.stack_level))
    if len(kept) + 1 > limits.max_charging_profiles_installed:
        return reject(f"{limits.max_charging_profiles_installed} profiles installed already"
                      " (MaxChargingProfilesInstalled)")
    replaced = len(installed) - len(kept)
    return Decision(True, f"installed{f', replacing {replaced}' if replaced else ''}",
                    (*kept, InstalledProfile(connector_id, profile)))


def check_remote_start_profile(profile: ChargingProfile, limits: ProfileLimits) -> str | None:
    """Why the chargingProfile of a RemoteStartTransaction.req cannot be used, or None: it must be a
    TxProfile without transactionId (5.16.2, errata 3.41). It is installed with :func:`set_profile`
    when the transaction starts."""
    if profile.charging_profile_purpose is not Purpose.TX_PROFILE:
        return "the profile of a RemoteStartTransaction must be a TxProfile (5.16.2)"
    if profile.transaction_id is not None:
        return "the profile of a RemoteStartTransaction has no transactionId (errata 3.41)"
    return check_profile(profile, limits)


def clear_profiles(installed: tuple[InstalledProfile, ...], *,
                   id: int | None = None,  # noqa: A002 (6.13's field name)
                   connector_id: int | None = None, purpose: ChargingProfilePurpose | None = None,
                   stack_level: int | None = None) -> Decision:
    """ClearChargingProfile.req (5.5, 6.13, errata 3.25-3.26): by id, all other fields ignored; else
    every profile matching all the given fields; no field at all clears everything. Rejected means
    Unknown (7.21): nothing matched."""
    def matches(entry: InstalledProfile) -> bool:
        if id is not None:
            return entry.profile.charging_profile_id == id
        return ((connector_id is None or entry.connector_id == connector_id)
                and (purpose is None or entry.profile.charging_profile_purpose is purpose)
                and (stack_level is None or entry.profile.stack_level == stack_level))

    kept = tuple(entry for entry in installed if not matches(entry))
    cleared = len(installed) - len(kept)
    if not cleared:
        return Decision(False, "no profile matches", installed)
    return Decision(True, f"cleared {cleared}", kept)


def end_transaction(installed: tuple[InstalledProfile, ...],
                    connector_id: int) -> tuple[InstalledProfile, ...]:
    """The set after the transaction on ``connector_id`` ended: its TxProfiles go (3.13.1, 7.10: a
    TxProfile ceases to be valid when the transaction terminates)."""
    return tuple(entry for entry in installed
                 if not (entry.connector_id == connector_id
                         and entry.profile.charging_profile_purpose is Purpose.TX_PROFILE))
