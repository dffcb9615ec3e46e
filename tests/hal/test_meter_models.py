"""The generic Modbus driver with every built-in map, over Modbus TCP and Modbus RTU on a pty,
against the simulator's meter of the same model, including every fault and the recovery from it.

The simulator's register layouts are written from the data sheets independently of the maps, so a
wrong address, type, word order or scale in a map shows up here as a wrong value.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hwsim.meter import ModbusMeterServer, RtuBus, SimMeter

from hal.errors import DeviceTimeout, FrameError, HalError, ImplausibleValue
from hal.events import DeviceFault, FaultKind
from hal.meter.modbus import ModbusDeviceFailure, ModbusMeter

from hal_helpers import Collector

Collect = Callable[[AsyncIterable[Any]], Collector[Any]]
START_WH = 1_234_560.0
SERIAL = 20240017
AMPS = [16.0, 15.0, 14.0]
#: model -> (phases, meterType reported, serial number reported, energy resolution in Wh)
MODELS = {
    "sdm630": (3, "SDM630", str(SERIAL), 0.2),  # float32 kWh near 1235 kWh
    "sdm120": (1, "SDM120", str(SERIAL), 0.2),
    "abb-b23": (3, "B23 312-100", str(SERIAL), 10.0),  # 0.01 kWh
    "em340": (3, "EM340", f"{SERIAL:014d}", 100.0),  # 0.1 kWh
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=sorted(MODELS))
def model(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["tcp", "rtu"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def server(model: str, clock: Clock) -> AsyncIterator[ModbusMeterServer]:
    # Three phases flow; a single-phase meter measures (and counts) L1 alone.
    sim = SimMeter(currents=lambda: AMPS, energy_wh=START_WH, serial_number=SERIAL)
    srv = ModbusMeterServer(sim, model=model, device_id=7, clock=clock)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def meter(server: ModbusMeterServer, model: str, transport: str, tmp_path: Path) -> AsyncIterator[ModbusMeter]:
    bus = None
    if transport == "tcp":
        m = ModbusMeter(model=model, host="127.0.0.1", port=server.port, device_id=7, timeout=0.3, fault_after=2)
    else:
        bus = RtuBus([server], link=tmp_path / "rs485")
        m = ModbusMeter(model=model, serial_port=bus.path, baudrate=9600, device_id=7, timeout=0.3, fault_after=2)
    yield m
    await m.close()
    if bus is not None:
        bus.close()


async def test_reading_matches_the_simulated_meter(meter: ModbusMeter, model: str, clock: Clock) -> None:
    phases, _, _, resolution = MODELS[model]
    first = await meter.read()
    assert START_WH - resolution <= first.energy_import_wh <= START_WH + 0.2
    assert first.voltage_v == pytest.approx((230.0,) * phases, abs=0.1)
    assert first.current_a == pytest.approx(tuple(AMPS[:phases]), abs=0.01)
    assert first.power_w == pytest.approx(230.0 * sum(AMPS[:phases]), abs=0.1)
    assert first.frequency_hz == pytest.approx(50.0, abs=0.01)
    clock.now += 3600.0  # an hour of charging, as the meter sees it (in no time on the loop clock,
    meter.max_power_w = 1e9  # so the driver's jump check would rightly refuse it)
    second = await meter.read()
    expected = 230.0 * sum(AMPS[:phases])
    assert second.energy_import_wh - first.energy_import_wh == pytest.approx(expected, abs=resolution + 0.2)


async def test_identity_for_boot_notification(meter: ModbusMeter, model: str) -> None:
    identity = await meter.identity()
    assert (identity.model, identity.serial_number) == MODELS[model][1:3]


@pytest.mark.parametrize("switch", ["silent", "garbled", "exception"])
async def test_wire_fault_is_reported_once_then_clears(
    meter: ModbusMeter, server: ModbusMeterServer, transport: str, switch: str, collect: Collect
) -> None:
    good = await meter.read()
    faults = collect(meter.faults())
    setattr(server, switch, True)
    expected: type[HalError] = {"silent": DeviceTimeout, "exception": ModbusDeviceFailure}.get(
        switch, DeviceTimeout if transport == "rtu" else FrameError  # RTU: a bad CRC is no answer
    )
    for _ in range(3):
        with pytest.raises(expected):
            await meter.read()
    fault = await faults.next()
    assert (fault.kind, fault.active) == (FaultKind.METER, True)
    assert meter.last_good == good  # a refused read never becomes the reference
    setattr(server, switch, False)
    await meter.read()
    assert await faults.next() == DeviceFault(FaultKind.METER, active=False)
    assert faults.pending() == []


async def test_backwards_energy_is_refused_at_once(
    meter: ModbusMeter, server: ModbusMeterServer, collect: Collect
) -> None:
    good = await meter.read()
    faults = collect(meter.faults())
    server.backwards = True
    with pytest.raises(ImplausibleValue, match="backwards"):
        await meter.read()
    assert (await faults.next()).active
    assert meter.last_good == good
    server.backwards = False
    assert (await meter.read()).energy_import_wh >= good.energy_import_wh
    assert not (await faults.next()).active
