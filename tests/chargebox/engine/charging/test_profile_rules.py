"""The rules for installing and clearing charging profiles (1.6 §3.13, 5.5, 5.16, 6.13, 6.43 and errata)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chargebox.engine.charging import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    InstalledProfile,
    ProfileLimits,
    RecurrencyKind,
    Transaction,
    check_remote_start_profile,
    clear_profiles,
    end_transaction,
    set_profile,
)

MAX = ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE
DEFAULT = ChargingProfilePurpose.TX_DEFAULT_PROFILE
TX = ChargingProfilePurpose.TX_PROFILE
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
LIMITS = ProfileLimits(connectors=2, charge_profile_max_stack_level=3,
                       charging_schedule_allowed_charging_rate_unit=frozenset({ChargingRateUnit.A}),
                       charging_schedule_max_periods=3, max_charging_profiles_installed=4)
RUNNING = Transaction(NOW, 7)


def profile(profile_id: int = 1, purpose: ChargingProfilePurpose = DEFAULT, stack_level: int = 0,
            **changes: object) -> ChargingProfile:
    schedule = ChargingSchedule(ChargingRateUnit.A, (ChargingSchedulePeriod(0, 16.0),))
    made = ChargingProfile(profile_id, stack_level, purpose, ChargingProfileKind.ABSOLUTE,
                           replace(schedule, start_schedule=NOW))
    return replace(made, **changes)  # type: ignore[arg-type]


def schedule(*starts: int, unit: ChargingRateUnit = ChargingRateUnit.A,
             **changes: object) -> ChargingSchedule:
    periods = tuple(ChargingSchedulePeriod(start, 10.0) for start in starts)
    made = ChargingSchedule(unit, periods, start_schedule=NOW)
    return replace(made, **changes)  # type: ignore[arg-type]


def test_a_valid_profile_is_installed() -> None:
    decision = set_profile((), 1, profile(), None, LIMITS)
    assert decision.accepted and decision.installed == (InstalledProfile(1, profile()),)


@pytest.mark.parametrize(("connector", "candidate", "transaction", "reason"), [
    (3, profile(), None, "unknown connector 3"),
    (-1, profile(), None, "unknown connector -1"),
    (1, profile(purpose=MAX), None, "ChargePointMaxProfile only on connector 0"),
    (0, profile(purpose=TX), RUNNING, "TxProfile only on a connector > 0"),
    (1, profile(purpose=TX), None, "TxProfile without a transaction on connector 1"),
    (1, profile(purpose=TX, transaction_id=8), RUNNING,
     "TxProfile for transaction 8, not the one on connector 1"),
    (1, profile(purpose=TX, transaction_id=8), Transaction(NOW),  # the transaction's id is not known yet
     "TxProfile for transaction 8"),
    (1, profile(stack_level=4), None, "stackLevel 4 outside 0..3 (ChargeProfileMaxStackLevel)"),
    (1, profile(stack_level=-1), None, "stackLevel -1 outside 0..3"),
    (1, profile(charging_schedule=schedule(0, unit=ChargingRateUnit.W)), None,
     "chargingRateUnit W not allowed (ChargingScheduleAllowedChargingRateUnit)"),
    (1, profile(charging_schedule=schedule(0, 10, 20, 30)), None,
     "4 periods, more than 3 (ChargingScheduleMaxPeriods)"),
    (1, profile(charging_schedule=schedule()), None, "no chargingSchedulePeriod"),
    (1, profile(charging_schedule=schedule(5, 10)), None,
     "the first period does not start at 0 (errata 3.45"),
    (1, profile(charging_schedule=schedule(0, 10, 10)), None, "startPeriods do not increase"),
    (1, profile(charging_schedule=schedule(0, charging_schedule_period=(ChargingSchedulePeriod(0, -1),))),
     None, "a negative limit"),
    (1, profile(charging_schedule=schedule(0, charging_schedule_period=(ChargingSchedulePeriod(0, 6, 4),))),
     None, "numberPhases outside 1..3"),
    (1, profile(charging_schedule=schedule(0, duration=-1)), None, "a negative duration"),
    (1, profile(charging_profile_kind=ChargingProfileKind.RECURRING), None,
     "a Recurring profile needs recurrencyKind and startSchedule"),
    (1, profile(charging_profile_kind=ChargingProfileKind.RECURRING, recurrency_kind=RecurrencyKind.DAILY,
                charging_schedule=schedule(0, start_schedule=None)), None,
     "a Recurring profile needs recurrencyKind and startSchedule"),
    (1, profile(recurrency_kind=RecurrencyKind.DAILY), None,
     "recurrencyKind on a profile that is not Recurring"),
    (1, profile(transaction_id=7), RUNNING, "transactionId on a profile that is not a TxProfile"),
    (1, profile(valid_from=NOW, valid_to=NOW), None, "validTo not after validFrom"),
])
def test_a_profile_against_the_rules_is_rejected_with_its_reason(
        connector: int, candidate: ChargingProfile, transaction: Transaction | None, reason: str) -> None:
    installed = (InstalledProfile(2, profile(profile_id=9)),)
    decision = set_profile(installed, connector, candidate, transaction, LIMITS)
    assert not decision.accepted
    assert decision.reason.startswith(reason)
    assert decision.installed is installed  # nothing changed


@pytest.mark.parametrize(("connector", "candidate", "transaction"), [
    (0, profile(purpose=MAX), None),
    (0, profile(purpose=DEFAULT), None),  # errata 3.53: for every connector
    (2, profile(purpose=DEFAULT), None),
    (1, profile(purpose=TX), RUNNING),  # 5.16.2: no transactionId, the connector's transaction
    (1, profile(purpose=TX, transaction_id=7), RUNNING),
    (1, profile(purpose=TX, valid_from=NOW, valid_to=NOW + timedelta(hours=1)), RUNNING),  # errata 3.65, 3.66
    (1, profile(charging_profile_kind=ChargingProfileKind.RECURRING, recurrency_kind=RecurrencyKind.WEEKLY),
     None),
    (1, profile(charging_profile_kind=ChargingProfileKind.RELATIVE, charging_schedule=schedule(0, 60, 120)),
     None),
    (1, profile(stack_level=3), None),
])
def test_profiles_within_the_rules_are_accepted(connector: int, candidate: ChargingProfile,
                                                transaction: Transaction | None) -> None:
    decision = set_profile((), connector, candidate, transaction, LIMITS)
    assert decision.accepted, decision.reason
    assert decision.installed == (InstalledProfile(connector, candidate),)


def test_the_same_purpose_and_stack_level_on_the_same_connector_is_replaced() -> None:
    """3.13.2: two profiles with one stackLevel and purpose are not allowed; the new one replaces."""
    installed = set_profile((), 1, profile(1, stack_level=2), None, LIMITS).installed
    installed = set_profile(installed, 2, profile(2, stack_level=2), None, LIMITS).installed  # elsewhere
    installed = set_profile(installed, 1, profile(3, stack_level=1), None, LIMITS).installed  # other level
    decision = set_profile(installed, 1, profile(4, stack_level=2), None, LIMITS)
    assert decision.accepted and decision.reason == "installed, replacing 1"
    kept = {(e.connector_id, e.profile.charging_profile_id) for e in decision.installed}
    assert kept == {(2, 2), (1, 3), (1, 4)}


def test_the_same_id_is_replaced_wherever_it_was() -> None:
    """5.16.3-4: a profile with the same chargingProfileId replaces the existing one."""
    installed = set_profile((), 1, profile(1, stack_level=0), None, LIMITS).installed
    decision = set_profile(installed, 2, profile(1, stack_level=1), None, LIMITS)
    assert decision.accepted
    assert decision.installed == (InstalledProfile(2, profile(1, stack_level=1)),)


def test_a_tx_default_profile_on_a_connector_leaves_connector_0s_in_place() -> None:
    """3.13.1: a TxDefaultProfile for connector >0 replaces connector 0's only for that connector (in the
    composite), so both stay installed."""
    installed = set_profile((), 0, profile(1), None, LIMITS).installed
    decision = set_profile(installed, 1, profile(2), None, LIMITS)
    assert decision.accepted and len(decision.installed) == 2


def test_a_remote_start_tx_profile_is_replaced_by_one_at_its_stack_level() -> None:
    """5.16.2 (errata 3.42): a SetChargingProfile for the transaction at the RemoteStart profile's stackLevel
    replaces it, at another level it is stacked."""
    installed = set_profile((), 1, profile(1, TX, 1), RUNNING, LIMITS).installed
    same = set_profile(installed, 1, profile(2, TX, 1, transaction_id=7), RUNNING, LIMITS)
    other = set_profile(installed, 1, profile(2, TX, 2, transaction_id=7), RUNNING, LIMITS)
    assert [e.profile.charging_profile_id for e in same.installed] == [2]
    assert [e.profile.charging_profile_id for e in other.installed] == [1, 2]


def test_more_than_max_charging_profiles_installed_is_rejected_but_a_replacement_is_not() -> None:
    installed: tuple[InstalledProfile, ...] = ()
    for level in range(4):
        installed = set_profile(installed, 1, profile(level + 1, stack_level=level), None, LIMITS).installed
    assert len(installed) == 4
    decision = set_profile(installed, 2, profile(9), None, LIMITS)
    assert not decision.accepted
    assert decision.reason == "4 profiles installed already (MaxChargingProfilesInstalled)"
    assert set_profile(installed, 1, profile(9, stack_level=0), None, LIMITS).accepted  # replaces id 1


def test_the_remote_start_profile_must_be_a_tx_profile_without_transaction_id() -> None:
    """5.16.2, errata 3.41."""
    assert check_remote_start_profile(profile(purpose=TX), LIMITS) is None
    assert check_remote_start_profile(profile(purpose=DEFAULT), LIMITS) == \
        "the profile of a RemoteStartTransaction must be a TxProfile (5.16.2)"
    assert check_remote_start_profile(profile(purpose=TX, transaction_id=7), LIMITS) == \
        "the profile of a RemoteStartTransaction has no transactionId (errata 3.41)"
    assert check_remote_start_profile(profile(purpose=TX, stack_level=9), LIMITS) is not None


def test_a_tx_profile_goes_when_its_transaction_ends() -> None:
    """3.13.1, 7.10: a TxProfile ceases to be valid when the transaction terminates; others stay."""
    installed = (InstalledProfile(1, profile(1, TX)), InstalledProfile(2, profile(2, TX)),
                 InstalledProfile(1, profile(3, DEFAULT)), InstalledProfile(0, profile(4, MAX)))
    assert [e.profile.charging_profile_id for e in end_transaction(installed, 1)] == [2, 3, 4]


INSTALLED = (InstalledProfile(0, profile(1, MAX, 0)), InstalledProfile(0, profile(2, DEFAULT, 0)),
             InstalledProfile(1, profile(3, DEFAULT, 1)), InstalledProfile(1, profile(4, TX, 1)),
             InstalledProfile(2, profile(5, DEFAULT, 1)))


@pytest.mark.parametrize(("fields", "left"), [
    ({}, []),  # errata 3.25: no field clears all
    ({"id": 3}, [1, 2, 4, 5]),
    ({"id": 3, "connector_id": 2, "purpose": MAX}, [1, 2, 4, 5]),  # errata 3.26: with id, the rest is ignored
    ({"connector_id": 1}, [1, 2, 5]),
    ({"connector_id": 0}, [3, 4, 5]),
    ({"purpose": DEFAULT}, [1, 4]),
    ({"stack_level": 1}, [1, 2]),
    ({"connector_id": 1, "purpose": DEFAULT}, [1, 2, 4, 5]),  # logical AND
    ({"purpose": DEFAULT, "stack_level": 1}, [1, 2, 4]),
    ({"connector_id": 2, "purpose": DEFAULT, "stack_level": 1}, [1, 2, 3, 4]),
])
def test_clear_charging_profile_matches_all_given_fields(fields: dict[str, object], left: list[int]) -> None:
    decision = clear_profiles(INSTALLED, **fields)  # type: ignore[arg-type]
    assert decision.accepted
    assert [e.profile.charging_profile_id for e in decision.installed] == left


@pytest.mark.parametrize("fields", [{"id": 99}, {"connector_id": 2, "purpose": TX}, {"stack_level": 3}])
def test_clear_charging_profile_matching_nothing_is_unknown(fields: dict[str, object]) -> None:
    """7.21 Unknown: no charging profile matched the request; nothing changes."""
    decision = clear_profiles(INSTALLED, **fields)  # type: ignore[arg-type]
    assert not decision.accepted and decision.reason == "no profile matches"
    assert decision.installed is INSTALLED
