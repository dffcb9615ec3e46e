"""The generic Modbus meter driver with the SDM630 map, against the simulator's Modbus TCP server.

Real driver, real pymodbus client and server, real TCP on 127.0.0.1. The simulated meter reads its
time from an injected clock, so the energy it integrates is exact and the test decides how much
time has passed for the meter; the driver's plausibility check runs on the loop clock as in the daemon.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hwsim.meter import ModbusMeterServer, SimMeter

from hal.backends import check_options
from hal.errors import ConfigurationError, DeviceTimeout, DeviceUnavailable, HalError, ImplausibleValue
from hal.events import MeterIdentity
from hal.meter.maps import RegisterMapError
from hal.meter.modbus import ModbusDeviceFailure, ModbusMeter

SERIAL = 19150123
START_WH = 12345.0


def f32(value: float) -> float:
    """What a float32 register holds for ``value``."""
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


class Clock:
    """The simulated meter's notion of time, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def amps() -> list[float]:
    return [0.0, 0.0, 0.0]


@pytest.fixture
async def server(clock: Clock, amps: list[float]) -> AsyncIterator[ModbusMeterServer]:
    sim = SimMeter(currents=lambda: amps, energy_wh=START_WH, serial_number=SERIAL)
    srv = ModbusMeterServer(sim, port=0, clock=clock)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def meter(server: ModbusMeterServer) -> AsyncIterator[ModbusMeter]:
    m = ModbusMeter(model="sdm630", host="127.0.0.1", port=server.port, timeout=0.3)
    await m.open()
    yield m
    await m.close()


async def test_reading_equals_the_registers(meter: ModbusMeter, amps: list[float]) -> None:
    amps[:] = [16.0, 10.0, 0.0]
    reading = await meter.read()
    # The wire holds kWh as float32; the driver reports Wh.
    assert reading.energy_import_wh == pytest.approx(f32(START_WH / 1000) * 1000, abs=1e-9)
    assert reading.energy_export_wh == 0.0
    assert reading.current_a == (16.0, 10.0, 0.0)
    assert reading.voltage_v == (230.0, 230.0, 230.0)
    assert reading.power_w == pytest.approx(26 * 230.0)
    assert reading.frequency_hz == 50.0
    assert reading.extra["power_l1"] == pytest.approx(16 * 230.0)
    assert meter.last_good == reading


async def test_identity_has_the_serial_number(meter: ModbusMeter) -> None:
    assert await meter.identity() == MeterIdentity(model="SDM630", serial_number=str(SERIAL))


async def test_energy_follows_the_current(
    server: ModbusMeterServer, meter: ModbusMeter, clock: Clock, amps: list[float]
) -> None:
    amps[:] = [32.0, 32.0, 32.0]  # 22.08 kW
    first = await meter.read()
    clock.now += 1.0  # one second of meter time: 6.133 Wh, within what 50 kW allows
    second = await meter.read()
    assert second.energy_import_wh - first.energy_import_wh == pytest.approx(96 * 230.0 / 3600, abs=0.01)
    assert server.meter.energy_wh == pytest.approx(START_WH + 96 * 230.0 / 3600)


async def test_jump_beyond_max_power_is_refused(meter: ModbusMeter, clock: Clock, amps: list[float]) -> None:
    amps[:] = [32.0, 32.0, 32.0]
    good = await meter.read()
    clock.now += 3600.0  # an hour of meter time in a few ms of real time: 22 kWh cannot be true
    with pytest.raises(ImplausibleValue, match="jumped"):
        await meter.read()
    assert meter.last_good is good


async def test_silent_meter_times_out_then_recovers(server: ModbusMeterServer, meter: ModbusMeter) -> None:
    await meter.read()
    server.silent = True
    with pytest.raises(DeviceTimeout):
        await meter.read()
    server.silent = False
    reading = await meter.read()  # reconnects: a late answer to the lost request cannot confuse it
    assert reading.energy_import_wh == pytest.approx(START_WH, abs=0.01)


async def test_backwards_energy_is_refused_and_last_good_kept(
    server: ModbusMeterServer, meter: ModbusMeter
) -> None:
    good = await meter.read()
    server.backwards = True
    with pytest.raises(ImplausibleValue, match="backwards"):
        await meter.read()
    assert meter.last_good is good
    assert meter.implausible_readings == 1
    server.backwards = False
    assert (await meter.read()).energy_import_wh == good.energy_import_wh


async def test_a_register_beyond_what_a_transaction_record_carries_is_refused(
    server: ModbusMeterServer, meter: ModbusMeter
) -> None:
    server.set_energy(2**31 - 1 + 1000)  # Wh; float32 kWh: the register is ~2,147,484.6 kWh
    with pytest.raises(ImplausibleValue, match="above 2147483647 Wh"):
        await meter.read()
    assert meter.last_good is None and meter.implausible_readings == 1
    server.set_energy(2**31 - 1 - 1000)
    assert (await meter.read()).energy_import_wh <= 2**31 - 1


async def test_modbus_exception_is_a_hal_error_then_recovers(
    server: ModbusMeterServer, meter: ModbusMeter
) -> None:
    await meter.read()
    server.exception = True
    with pytest.raises(HalError) as info:
        await meter.read()
    assert isinstance(info.value, ModbusDeviceFailure)
    assert info.value.exception_code == 0x04
    with pytest.raises(HalError):
        await meter.identity()
    server.exception = False
    await meter.read()
    assert (await meter.identity()).serial_number == str(SERIAL)


async def test_meter_that_goes_away_and_comes_back(
    server: ModbusMeterServer, meter: ModbusMeter, clock: Clock
) -> None:
    await meter.read()
    port = server.port
    await server.stop()
    with pytest.raises((DeviceUnavailable, DeviceTimeout)):
        await meter.read()
    # The same meter back on the same port: the next read reconnects by itself.
    restarted = ModbusMeterServer(server.meter, port=port, clock=clock)
    await restarted.start()
    try:
        await meter.read()
    finally:
        await restarted.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_nothing_listening_raises_device_unavailable() -> None:
    m = ModbusMeter(model="sdm630", host="127.0.0.1", port=_free_port(), timeout=0.3)
    with pytest.raises(DeviceUnavailable):
        await m.open()
    with pytest.raises(DeviceUnavailable):
        await m.read()
    await m.close()


async def test_missing_serial_port_raises_device_unavailable() -> None:
    m = ModbusMeter(model="sdm630", serial_port="/dev/chargebox-no-such-tty", timeout=0.3)
    with pytest.raises(DeviceUnavailable):
        await m.read()
    await m.close()


def test_exactly_one_of_host_and_serial_port() -> None:
    with pytest.raises(ConfigurationError, match="exactly one"):
        ModbusMeter(model="sdm630")
    with pytest.raises(ConfigurationError, match="exactly one"):
        ModbusMeter(model="sdm630", host="10.0.0.5", serial_port="/dev/ttyUSB0")


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="sdm630"):
        ModbusMeter(model="sdm999", host="10.0.0.5")


def test_bad_map_file_fails_in_the_constructor(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[meter]\nmodel = "X"\n[measurands.energy_import_wh]\naddress = "0x48"\n')
    with pytest.raises(RegisterMapError) as info:
        ModbusMeter(model=str(path), host="10.0.0.5")
    assert info.value.path == str(path)
    assert info.value.key == "measurands.energy_import_wh.address"


def test_options_match_the_meter_config_table() -> None:
    options = {"model": "sdm630", "host": "192.168.1.20", "port": 502, "device_id": 1, "timeout": 1.5}
    assert check_options("meter", "modbus", options) == []
    problems = dict(check_options("meter", "modbus", {"host": 5, "slave": 1}))
    assert set(problems) == {"host", "slave", "model"}

