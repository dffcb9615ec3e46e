"""The sim backends of pilot, relay, cable lock and protection against the simulated world, with
every fault the world can inject at them, and the recovery from each. Waits on events only.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

import pytest
from hwsim.ev import EV
from hwsim.world import World

from hal.events import DeviceFault, FaultKind, PilotState
from hal.lock.base import LockFailure
from hal.relay.base import PowerSwitchFailure
from hal.simwire import SimLock, SimPilot, SimProtection, SimRelay

from hal_helpers import Collector

Collect = Callable[[AsyncIterable[Any]], Collector[Any]]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World(1)
    await w.start()
    yield w
    await w.stop()


def address(world: World) -> str:
    return f"127.0.0.1:{world.gpio_port}"


async def test_relay_follows_and_a_welded_relay_is_a_power_switch_fault(world: World, collect: Collect) -> None:
    relay = SimRelay(address=address(world), feedback_timeout=0.3)
    await relay.open()
    try:
        faults = collect(relay.faults())
        await relay.set(True)
        await relay.set(False)
        assert world.snapshot()["connectors"]["1"]["contact_closed"] is False
        await relay.set(True)
        world.set_fault("relay_welded")
        with pytest.raises(PowerSwitchFailure, match="welded"):
            await relay.set(False)
        fault = await faults.next()
        assert (fault.kind, fault.active) == (FaultKind.POWER_SWITCH, True)
        world.set_fault("relay_welded", False)  # the contact opens on its own: the watch clears it
        assert await faults.next() == DeviceFault(FaultKind.POWER_SWITCH, active=False)
    finally:
        await relay.close()


async def test_lock_jammed_is_a_connector_lock_fault(world: World, collect: Collect) -> None:
    lock = SimLock(address=address(world), feedback_timeout=0.3)
    await lock.open()
    try:
        faults = collect(lock.faults())
        await lock.lock()
        await lock.unlock()
        world.set_fault("lock_jammed")
        with pytest.raises(LockFailure, match="did not lock"):
            await lock.lock()
        assert (await faults.next()).kind is FaultKind.CONNECTOR_LOCK
        world.set_fault("lock_jammed", False)
        await lock.lock()
        assert await faults.next() == DeviceFault(FaultKind.CONNECTOR_LOCK, active=False)
    finally:
        await lock.close()


@pytest.mark.parametrize(("fault", "kind"), [("rcd_trip", FaultKind.GROUND), ("overtemp", FaultKind.HIGH_TEMPERATURE)])
async def test_protection_inputs(world: World, collect: Collect, fault: str, kind: FaultKind) -> None:
    protection = SimProtection(address=address(world))
    await protection.open()
    try:
        faults = collect(protection.faults())
        world.set_fault(fault)
        got = await faults.next()
        assert (got.kind, got.active) == (kind, True)
        world.set_fault(fault, False)
        assert (await faults.next()) == DeviceFault(kind, active=False)
    finally:
        await protection.close()


async def test_protection_active_at_connect_is_reported_at_once(world: World, collect: Collect) -> None:
    world.set_fault("rcd_trip")
    protection = SimProtection(address=address(world))
    await protection.open()
    try:
        assert (await collect(protection.faults()).next()).kind is FaultKind.GROUND
    finally:
        await protection.close()


async def test_rcd_trip_cuts_the_current(world: World) -> None:
    relay = SimRelay(address=address(world))
    pilot = SimPilot(address=address(world))
    await relay.open()
    await pilot.open()
    try:
        world.plug(1, EV())
        await pilot.offer(16.0)
        await world.wait_event("pilot", state="C")
        await relay.set(True)
        assert world.snapshot()["connectors"]["1"]["current_a"][0] == pytest.approx(16.0, abs=0.01)
        world.set_fault("rcd_trip")
        assert world.snapshot()["connectors"]["1"]["current_a"][0] == 0.0
    finally:
        await relay.close()
        await pilot.close()


async def test_pilot_short_is_state_e_and_a_mode3_fault(world: World, collect: Collect) -> None:
    pilot = SimPilot(address=address(world))
    await pilot.open()
    try:
        states = collect(pilot.states())
        faults = collect(pilot.faults())
        assert await states.next() is PilotState.A
        world.set_fault("pilot_short")
        assert await states.next() is PilotState.E
        fault = await faults.next()
        assert (fault.kind, fault.active) == (FaultKind.MODE3, True)
        world.set_fault("pilot_short", False)
        assert await states.next() is PilotState.A
        assert not (await faults.next()).active
    finally:
        await pilot.close()
