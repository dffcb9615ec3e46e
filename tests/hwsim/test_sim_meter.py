"""The simulated meter: its physics on explicit times, and its SDM630 wire read by a plain client.

The wire test decodes registers by hand from the SDM630 data sheet addresses, without the HAL's map,
so the simulator and the map are checked against the data sheet independently.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

import pytest
from hwsim.meter import ModbusMeterServer, SimMeter
from pymodbus.client import AsyncModbusTcpClient


def test_first_tick_sets_the_start() -> None:
    m = SimMeter(currents=lambda: (16.0, 16.0, 16.0), energy_wh=500.0)
    m.tick(100.0)
    assert m.energy_wh == 500.0


def test_energy_integrates_current_exactly() -> None:
    amps = [16.0, 16.0, 16.0]
    m = SimMeter(currents=lambda: amps, voltage_v=230.0)
    m.tick(0.0)
    m.tick(3600.0)  # an hour at 3 x 16 A x 230 V
    assert m.energy_wh == pytest.approx(11040.0)
    amps[:] = [6.0, 0.0, 0.0]  # the EV steps down (a tick just before the change closed the interval)
    m.tick(3600.0 + 1800.0)
    assert m.energy_wh == pytest.approx(11040.0 + 6 * 230.0 / 2)


def test_time_going_backwards_integrates_nothing() -> None:
    m = SimMeter(currents=lambda: (10.0,), energy_wh=0.0)
    m.tick(10.0)
    m.tick(5.0)
    assert m.energy_wh == 0.0
    m.tick(11.0)  # measured from 10.0, the latest time seen
    assert m.energy_wh == pytest.approx(10 * 230.0 / 3600)


def test_single_phase_currents() -> None:
    m = SimMeter(currents=lambda: (10.0,))
    assert m.phase_currents() == (10.0, 0.0, 0.0)
    assert m.power_w == 2300.0


def test_serial_number_must_fit_the_register() -> None:
    with pytest.raises(ValueError):
        SimMeter(serial_number=2**32)


@pytest.fixture
async def server() -> AsyncIterator[ModbusMeterServer]:
    now = [0.0]
    srv = ModbusMeterServer(
        SimMeter(currents=lambda: (10.0, 20.0, 30.0), energy_wh=4321.5, serial_number=0x01234567),
        clock=lambda: now[0],
    )
    await srv.start()
    yield srv
    await srv.stop()


def _f32(hi: int, lo: int) -> float:
    return float(struct.unpack(">f", struct.pack(">HH", hi, lo))[0])


async def test_sdm630_wire_layout(server: ModbusMeterServer) -> None:
    client = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=1.0, retries=0, reconnect_delay=0)
    assert await client.connect()
    try:
        rr = await client.read_input_registers(0x0000, count=12, device_id=1)
        values = [_f32(rr.registers[i], rr.registers[i + 1]) for i in range(0, 12, 2)]
        assert values == [230.0, 230.0, 230.0, 10.0, 20.0, 30.0]
        rr = await client.read_input_registers(0x0034, count=2, device_id=1)
        assert _f32(*rr.registers) == pytest.approx(60 * 230.0)
        rr = await client.read_input_registers(0x0046, count=4, device_id=1)
        assert _f32(*rr.registers[0:2]) == 50.0
        assert _f32(*rr.registers[2:4]) == pytest.approx(4.3215)  # kWh on the wire
        rr = await client.read_holding_registers(0xFC00, count=2, device_id=1)
        assert rr.registers == [0x0123, 0x4567]
        # Unused addresses inside the input bank read as zero, as on the real meter.
        rr = await client.read_input_registers(0x0100, count=2, device_id=1)
        assert rr.registers == [0, 0]
    finally:
        client.close()


async def test_fault_switches_at_the_wire(server: ModbusMeterServer) -> None:
    client = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=0.3, retries=0, reconnect_delay=0)
    assert await client.connect()
    try:
        server.exception = True
        rr = await client.read_input_registers(0x0048, count=2, device_id=1)
        assert rr.isError() and rr.exception_code == 0x04
        server.exception = False
        server.backwards = True
        rr = await client.read_input_registers(0x0048, count=2, device_id=1)
        assert _f32(*rr.registers) * 1000 == pytest.approx(4321.5 - 100.0, abs=0.01)
        server.backwards = False
        rr = await client.read_input_registers(0x0048, count=2, device_id=1)
        assert _f32(*rr.registers) * 1000 == pytest.approx(4321.5, abs=0.01)
    finally:
        client.close()


async def test_sdm120_counts_the_energy_of_the_one_phase_it_shows() -> None:
    # A single-phase meter on a box whose EV draws on three phases measures L1 alone: the energy
    # register integrates the very power it shows (Eastron SDM120 input registers, float32).
    now = [0.0]
    meter = SimMeter(currents=lambda: (10.0, 20.0, 30.0), energy_wh=1000.0)
    server = ModbusMeterServer(meter, model="sdm120", clock=lambda: now[0])
    await server.start()
    client = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=1.0, retries=0, reconnect_delay=0)
    assert await client.connect()
    try:
        async def power_and_energy() -> tuple[float, float]:
            rr = await client.read_input_registers(0x0000, count=0x4A, device_id=1)
            words = rr.registers
            assert _f32(*words[0x06:0x08]) == 10.0 and words[0x08:0x0C] == [0, 0, 0, 0]  # L1 only
            return _f32(*words[0x0C:0x0E]), _f32(*words[0x48:0x4A]) * 1000  # W (30013), Wh (30073)

        power, before = await power_and_energy()
        assert power == pytest.approx(2300.0)
        now[0] += 1800.0  # half an hour
        _, after = await power_and_energy()
        assert after - before == pytest.approx(power / 2, abs=0.1)
        assert server.meter.power_w == pytest.approx(power)
    finally:
        client.close()
        await server.stop()


def test_the_energy_register_can_be_set_and_integrates_on() -> None:
    clock = [0.0]
    server = ModbusMeterServer(SimMeter(currents=lambda: (10.0, 0.0, 0.0)), clock=lambda: clock[0])
    server.set_energy(2**31 + 5.0)
    clock[0] = 3600.0  # an hour at 10 A and 230 V
    server.banks()
    assert server.meter.energy_wh == 2**31 + 5.0 + 2300.0
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="energy_wh"):
            server.set_energy(bad)
