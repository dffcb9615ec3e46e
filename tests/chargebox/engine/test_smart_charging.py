"""Smart charging wired into the charge point (issue 18) on a virtual clock: the profiles the Central
System sets are what the pilot offers, at the period boundaries, suspended below 6 A; a TxProfile ends
with its transaction; the profiles survive a restart; two connectors share a box limit and never offer
more in sum, not even during a change."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from hal.events import CardPresented, PilotState

from chargebox.engine.charging import to_plain
from chargebox.engine.limits import GridSupply
from chargebox.engine.smartcharging import Wiring
from chargebox.ocpp.datatypes import ChargingProfile, ChargingSchedule, ChargingSchedulePeriod
from chargebox.ocpp.enums import (
    ChargePointStatus,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearChargingProfileStatus,
    GetCompositeScheduleStatus,
    RemoteStartStopStatus,
)
from chargebox.ocpp.messages import (
    ClearChargingProfileRequest,
    GetCompositeScheduleConfirmation,
    GetCompositeScheduleRequest,
    RemoteStartTransactionRequest,
    SetChargingProfileRequest,
    StatusNotificationRequest,
)
from tests.chargebox.engine.fakes import Box, FakeCentralSystem, FakeMeter, FakePilot

pytestmark = pytest.mark.looptime(end=7 * 86400)

CARD = CardPresented(bytes.fromhex("0A0B0C0D"))
TAG = "0A0B0C0D"
DEFAULT = ChargingProfilePurposeType.TX_DEFAULT_PROFILE
MAX = ChargingProfilePurposeType.CHARGE_POINT_MAX_PROFILE
TX = ChargingProfilePurposeType.TX_PROFILE


def profile(profile_id: int, purpose: ChargingProfilePurposeType, periods: list[tuple[int, float]], *,
            start: datetime | None = None, stack_level: int = 0,
            unit: ChargingRateUnitType = ChargingRateUnitType.A) -> ChargingProfile:
    kind = ChargingProfileKindType.ABSOLUTE if start is not None else ChargingProfileKindType.RELATIVE
    return ChargingProfile(profile_id, stack_level, purpose, kind, ChargingSchedule(
        unit, [ChargingSchedulePeriod(at, limit) for at, limit in periods], start_schedule=start))


def statuses(cs: FakeCentralSystem, connector: int) -> list[str]:
    return [r.status.value for r in cs.of("StatusNotification")
            if isinstance(r, StatusNotificationRequest) and r.connector_id == connector]


async def until(condition: object, step: float = 0.05) -> None:
    """Until ``condition()`` holds, polled on the virtual clock (it ends at a virtual week)."""
    while not condition():  # type: ignore[operator]
        await asyncio.sleep(step)


def offered_now(pilot: FakePilot) -> float | None:
    return pilot.offers[-1][1] if pilot.offers else None


async def started(box: Box, connector: int = 1, card: CardPresented = CARD) -> None:
    await box.pilots[connector - 1].put(PilotState.B)
    await box.cp.cards.present(card)
    await box.pilots[connector - 1].put(PilotState.C)
    await box.relays[connector - 1].wait(True)


async def booted(box: Box) -> None:
    box.start()
    await box.cp.uplink.booted.wait()


async def test_an_absolute_profile_changes_the_offer_at_its_period_boundary() -> None:
    box = Box(FakeCentralSystem())
    await booted(box)
    await started(box)
    assert offered_now(box.pilots[0]) == 16.0  # max_current, no profile
    loop = asyncio.get_running_loop()
    begin = loop.time()
    conf = await box.cp.handle(SetChargingProfileRequest(connector_id=1, cs_charging_profiles=profile(
        1, DEFAULT, [(0, 20.0), (600, 10.0)], start=box.cp.clock.now())))
    assert conf.status is ChargingProfileStatus.ACCEPTED  # type: ignore[attr-defined]
    await until(lambda: offered_now(box.pilots[0]) == 10.0)
    changed = box.pilots[0].offers[-1][0]
    assert 600 <= changed - begin <= 601  # within 1 s of the boundary, on the loop clock
    assert [amps for _, amps in box.pilots[0].offers if amps is not None][-2:] == [16.0, 10.0]  # 20 A > max_current
    await box.stop()


async def test_a_period_below_6_a_suspends_the_session_and_a_higher_one_resumes_it() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    await booted(box)
    await started(box)
    now = box.cp.clock.now()
    conf = await box.cp.handle(SetChargingProfileRequest(connector_id=0, cs_charging_profiles=profile(
        2, DEFAULT, [(0, 4.0), (300, 12.0)], start=now)))
    assert conf.status is ChargingProfileStatus.ACCEPTED  # type: ignore[attr-defined]
    await until(lambda: statuses(cs, 1)[-1:] == ["SuspendedEVSE"])
    assert offered_now(box.pilots[0]) is None  # no PWM that means charge below 6 A
    await until(lambda: offered_now(box.pilots[0]) == 12.0)
    await until(lambda: statuses(cs, 1)[-1:] == ["Charging"])
    assert (box.pilots[0].offers[-1][0] - box.pilots[0].offers[-2][0]) <= 301
    await box.stop()


async def test_a_remote_start_profile_is_the_transactions_and_ends_with_it() -> None:
    box = Box(FakeCentralSystem())
    await booted(box)
    smart = box.management.smart_charging
    bad = profile(3, DEFAULT, [(0, 8.0)])
    conf = await box.cp.handle(RemoteStartTransactionRequest(id_tag=TAG, connector_id=1, charging_profile=bad))
    assert conf.status is RemoteStartStopStatus.REJECTED  # type: ignore[attr-defined]  # not a TxProfile
    conf = await box.cp.handle(RemoteStartTransactionRequest(id_tag=TAG, connector_id=1,
                                                             charging_profile=profile(4, TX, [(0, 8.0)])))
    assert conf.status is RemoteStartStopStatus.ACCEPTED  # type: ignore[attr-defined]
    await box.pilots[0].put(PilotState.B)
    await box.pilots[0].put(PilotState.C)
    await box.relays[0].wait(True)
    await until(lambda: offered_now(box.pilots[0]) == 8.0)
    assert [amps for _, amps in box.pilots[0].offers if amps is not None] == [8.0]  # from its first offer
    assert [e.profile.charging_profile_id for e in smart.installed] == [4]
    assert [plain["chargingProfileId"] for _, plain in box.store.profiles.load()] == [4]
    await box.pilots[0].put(PilotState.A)  # unplugged: the transaction ends
    await until(lambda: not smart.installed)
    assert box.store.profiles.load() == []
    await box.stop()


async def test_set_clear_and_composite_schedule_obey_the_configuration_keys() -> None:
    box = Box(FakeCentralSystem(), MaxChargingProfilesInstalled="1")
    await booted(box)
    first = await box.cp.handle(SetChargingProfileRequest(connector_id=0, cs_charging_profiles=profile(
        5, MAX, [(0, 40.0), (3600, 12.0)], start=box.cp.clock.now())))
    second = await box.cp.handle(SetChargingProfileRequest(connector_id=1, cs_charging_profiles=profile(
        6, DEFAULT, [(0, 10.0)], stack_level=1)))
    assert [first.status, second.status] == [ChargingProfileStatus.ACCEPTED,  # type: ignore[attr-defined]
                                             ChargingProfileStatus.REJECTED]
    too_high = await box.cp.handle(SetChargingProfileRequest(connector_id=0, cs_charging_profiles=profile(
        5, MAX, [(0, 40.0)], stack_level=99)))
    assert too_high.status is ChargingProfileStatus.REJECTED  # type: ignore[attr-defined]
    composite = await box.cp.handle(GetCompositeScheduleRequest(connector_id=0, duration=7200))
    assert isinstance(composite, GetCompositeScheduleConfirmation)
    assert composite.status is GetCompositeScheduleStatus.ACCEPTED
    assert composite.charging_schedule is not None and composite.charging_schedule.start_schedule is None
    assert [(p.start_period, p.limit) for p in composite.charging_schedule.charging_schedule_period] == [
        (0, 16.0), (3600, 12.0)]  # the supply: one connector's 16 A
    cleared = await box.cp.handle(ClearChargingProfileRequest(id=5))
    unknown = await box.cp.handle(ClearChargingProfileRequest(id=5))
    assert [cleared.status, unknown.status] == [ClearChargingProfileStatus.ACCEPTED,  # type: ignore[attr-defined]
                                                ClearChargingProfileStatus.UNKNOWN]
    assert box.store.profiles.load() == []
    await box.stop()


async def test_profiles_survive_a_restart_of_the_engine_on_the_same_store() -> None:
    box = Box(FakeCentralSystem())
    await booted(box)
    default = profile(7, DEFAULT, [(0, 8.0)])
    await box.cp.handle(SetChargingProfileRequest(connector_id=1, cs_charging_profiles=default))
    await box.power_cut()
    await box.cp.uplink.booted.wait()
    assert [(e.connector_id, to_plain(e.profile)) for e in box.management.smart_charging.installed] == [
        (1, to_plain(default))]
    await started(box)
    await until(lambda: offered_now(box.pilots[0]) == 8.0)
    assert 16.0 not in [amps for _, amps in box.pilots[0].offers]  # never more than the profile allows
    await box.stop()


def sums(pilots: list[FakePilot]) -> list[float]:
    """The sum of what the pilots offer after every change, in the order the changes happened."""
    events = sorted((t, i, n, amps) for n, pilot in enumerate(pilots) for i, (t, amps) in enumerate(pilot.offers))
    now: dict[int, float] = {}
    out = []
    for _, _, n, amps in events:
        now[n] = amps or 0.0
        out.append(sum(now.values()))
    return out


async def test_two_connectors_under_a_20_a_box_limit_never_sum_above_it() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, connectors=2, wiring=Wiring(supply=20.0))
    await booted(box)
    await started(box, 1)
    await until(lambda: offered_now(box.pilots[0]) == 16.0)
    await started(box, 2, CardPresented(bytes.fromhex("01020304")))
    await until(lambda: offered_now(box.pilots[0]) == 10.0 and offered_now(box.pilots[1]) == 10.0)
    machines = box.cp.station.connectors
    await until(lambda: machines[2].limit_in_force == (10.0, "site limit"))  # chargebox status shows it
    # The Central System lowers the box to 14 A, then the first EV leaves.
    await box.cp.handle(SetChargingProfileRequest(connector_id=0, cs_charging_profiles=profile(
        8, MAX, [(0, 14.0)], start=box.cp.clock.now())))
    await until(lambda: offered_now(box.pilots[0]) == 7.0 and offered_now(box.pilots[1]) == 7.0)
    await until(lambda: machines[1].limit_in_force == (7.0, "ChargePointMaxProfile 8"))
    await box.cp.handle(ClearChargingProfileRequest(id=8))
    await until(lambda: offered_now(box.pilots[1]) == 10.0)
    await box.pilots[0].put(PilotState.A)
    await until(lambda: offered_now(box.pilots[1]) == 16.0)
    await until(lambda: machines[2].limit_in_force == (16.0, "max_current"))
    assert max(sums(box.pilots)) <= 20.0
    assert sums(box.pilots)  # recorded
    assert all(s <= 20.0 for s in sums(box.pilots))
    await box.stop()


async def test_a_box_limit_below_6_a_per_connector_pauses_the_later_session() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, connectors=2, wiring=Wiring(supply=10.0))
    await booted(box)
    await started(box, 1)
    await until(lambda: offered_now(box.pilots[0]) == 10.0)
    await box.pilots[1].put(PilotState.B)
    await box.cp.cards.present(CardPresented(bytes.fromhex("01020304")))
    await box.pilots[1].put(PilotState.C)
    await until(lambda: statuses(cs, 2)[-1:] == [ChargePointStatus.SUSPENDED_EVSE.value])
    assert offered_now(box.pilots[1]) is None  # 4 A left: none for the later session
    await box.pilots[0].put(PilotState.A)  # the first EV leaves: the second gets the room
    await until(lambda: offered_now(box.pilots[1]) == 10.0)
    assert all(s <= 10.0 for s in sums(box.pilots))
    await box.stop()


class GridMeter(FakeMeter):
    """The building's meter: ``currents`` per line, the box's connectors' included."""

    def __init__(self) -> None:
        super().__init__()
        self.currents = (0.0, 0.0, 0.0)

    async def _read_values(self) -> dict[str, float]:
        if self.broken:
            return await super()._read_values()  # raises
        l1, l2, l3 = self.currents
        return {"energy_import_wh": self.energy_wh, "current_l1": l1, "current_l2": l2, "current_l3": l3}


async def test_the_grid_meter_leaves_room_for_the_building_and_its_silence_means_the_failsafe_current() -> None:
    grid = GridMeter()
    box = Box(FakeCentralSystem(), wiring=Wiring(supply=32.0), grid=GridSupply(grid, 8.0, timeout=10.0))
    await booted(box)
    # The building draws 20 A on L1 besides the box (whose EV draws 16 A on L1, its fake meter's).
    grid.currents = (36.0, 4.0, 4.0)
    await started(box)
    await until(lambda: offered_now(box.pilots[0]) == 12.0)  # 32 A less the other 20 A
    assert box.cp.station.connectors[1].limit_in_force == (12.0, "site limit")
    grid.currents = (44.0, 4.0, 4.0)  # 28 A of other load on L1: 4 A left, below 6 A
    await until(lambda: offered_now(box.pilots[0]) is None)
    assert box.cp.station.connectors[1].status is ChargePointStatus.SUSPENDED_EVSE
    grid.currents = (16.0, 0.0, 0.0)  # the other load is gone
    await until(lambda: offered_now(box.pilots[0]) == 16.0)
    loop = asyncio.get_running_loop()
    grid.broken = True
    quiet = loop.time()
    await until(lambda: offered_now(box.pilots[0]) == 8.0)
    assert 10.0 <= loop.time() - quiet <= 10.0 + 2 * 3.0 + 2.0  # the timeout, a poll or two (and its 2 s)
    assert box.cp.station.connectors[1].limit_in_force == (8.0, "failsafe")
    grid.broken = False
    await until(lambda: offered_now(box.pilots[0]) == 16.0)
    await box.stop()


async def test_a_power_cut_ends_the_transaction_and_its_tx_profile_with_it() -> None:
    box = Box(FakeCentralSystem())
    await booted(box)
    conf = await box.cp.handle(RemoteStartTransactionRequest(id_tag=TAG, connector_id=1,
                                                             charging_profile=profile(9, TX, [(0, 8.0)])))
    assert conf.status is RemoteStartStopStatus.ACCEPTED  # type: ignore[attr-defined]
    await box.pilots[0].put(PilotState.B)
    await box.pilots[0].put(PilotState.C)
    await until(lambda: offered_now(box.pilots[0]) == 8.0)
    await box.power_cut()  # the transaction is stopped at the start after it; its TxProfile must not outlive it
    await box.cp.uplink.booted.wait()
    assert box.management.smart_charging.installed == ()
    assert box.store.profiles.load() == []
    await box.stop()
