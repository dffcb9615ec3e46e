"""A simulated kWh meter: its physics (:class:`SimMeter`) and its wire (:class:`ModbusMeterServer`).

The server is a real pymodbus Modbus TCP server laid out like an Eastron SDM630. Its register table
is written out here from the SDM630 data sheet, independently of ``hal/meter/maps/sdm630.toml``: a
simulator that read the driver's map could not catch a wrong address in that map.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable, Sequence

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


def _no_current() -> Sequence[float]:
    return (0.0, 0.0, 0.0)


class SimMeter:
    """The meter's physics: an import energy register that integrates the power drawn.

    ``currents`` returns the amps per phase that flow *now*; the EV model of the simulated world
    supplies it. :meth:`tick` integrates ``sum(I) * V * dt`` exactly for currents that stayed
    constant since the previous tick, so whoever changes the current must call ``tick(now)`` just
    before the change (the Modbus server also ticks before serving every read).
    """

    def __init__(
        self,
        *,
        currents: Callable[[], Sequence[float]] = _no_current,
        voltage_v: float = 230.0,
        frequency_hz: float = 50.0,
        energy_wh: float = 0.0,
        energy_export_wh: float = 0.0,
        serial_number: int = 12345678,
    ) -> None:
        if not 0 <= serial_number <= 0xFFFFFFFF:
            raise ValueError("serial_number must fit in 32 bits (the SDM630 holds it as uint32)")
        self.currents = currents
        self.voltage_v = voltage_v
        self.frequency_hz = frequency_hz
        self.energy_wh = energy_wh
        self.energy_export_wh = energy_export_wh
        self.serial_number = serial_number
        self._last_tick: float | None = None

    def tick(self, now: float) -> None:
        """Advance the meter to loop time ``now``; the first tick only sets the starting point."""
        if self._last_tick is None or now <= self._last_tick:
            # Time that runs backwards (e.g. a stale clock) integrates nothing and moves nothing.
            if self._last_tick is None:
                self._last_tick = now
            return
        dt = now - self._last_tick
        self._last_tick = now
        self.energy_wh += sum(self.phase_currents()) * self.voltage_v * dt / 3600.0

    def phase_currents(self) -> tuple[float, float, float]:
        """Amps on L1, L2, L3 (missing phases are 0)."""
        values = [float(i) for i in self.currents()][:3]
        values += [0.0] * (3 - len(values))
        return (values[0], values[1], values[2])

    @property
    def power_w(self) -> float:
        return sum(self.phase_currents()) * self.voltage_v


# -- the SDM630's wire ----------------------------------------------------------------------------
# Input registers (function 04), IEEE 754 float32, high word first. PDU addresses (0-based).
SDM630_VOLTAGE_L1 = 0x0000
SDM630_VOLTAGE_L2 = 0x0002
SDM630_VOLTAGE_L3 = 0x0004
SDM630_CURRENT_L1 = 0x0006
SDM630_CURRENT_L2 = 0x0008
SDM630_CURRENT_L3 = 0x000A
SDM630_POWER_L1 = 0x000C
SDM630_POWER_L2 = 0x000E
SDM630_POWER_L3 = 0x0010
SDM630_AVG_VOLTAGE = 0x002A
SDM630_AVG_CURRENT = 0x002E
SDM630_SUM_CURRENT = 0x0030
SDM630_TOTAL_POWER = 0x0034
SDM630_TOTAL_VA = 0x0038
SDM630_TOTAL_PF = 0x003E
SDM630_FREQUENCY = 0x0046
SDM630_IMPORT_KWH = 0x0048
SDM630_EXPORT_KWH = 0x004A
SDM630_TOTAL_KWH = 0x0156
# The meter answers any address in 0x0000..0x017F (unused ones read as 0.0), which is what lets a
# driver fetch 0x0000..0x004F in one request.
SDM630_INPUT_END = 0x0180
# Holding registers (function 03): serial number, uint32, high word first, read-only.
SDM630_SERIAL = 0xFC00


def float32_words(value: float) -> tuple[int, int]:
    """A float as two registers, high word first."""
    raw = struct.pack(">f", value)
    return int.from_bytes(raw[0:2], "big"), int.from_bytes(raw[2:4], "big")


def uint32_words(value: int) -> tuple[int, int]:
    return (value >> 16) & 0xFFFF, value & 0xFFFF


class ModbusMeterServer:
    """A Modbus TCP server on 127.0.0.1 that looks like an SDM630 whose values come from a SimMeter.

    Fault switches, for tests and the control interface (they act on the next request):

    - ``silent``: requests are received but never answered (the client times out);
    - ``backwards``: the import energy register runs backwards from where it was when switched on;
    - ``exception``: every read is answered with Modbus exception 04 (device failure).

    ``clock`` is where the server reads time before ticking the meter; it defaults to the loop clock.
    """

    def __init__(
        self,
        meter: SimMeter,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        device_id: int = 1,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.meter = meter
        self.host = host
        self._requested_port = port
        self.device_id = device_id
        self._clock = clock
        self.silent = False
        self.exception = False
        self._backwards_from: float | None = None
        self._server: ModbusTcpServer | None = None
        self._port: int | None = None
        #: Requests served (answered or not), for tests and diagnostics.
        self.requests = 0

    @property
    def port(self) -> int:
        """The TCP port actually listened on (useful with ``port=0``)."""
        if self._port is None:
            raise RuntimeError("ModbusMeterServer is not started")
        return self._port

    @property
    def backwards(self) -> bool:
        return self._backwards_from is not None

    @backwards.setter
    def backwards(self, on: bool) -> None:
        if on and self._backwards_from is None:
            self._tick()
            self._backwards_from = self.meter.energy_wh
        elif not on:
            self._backwards_from = None

    async def start(self) -> None:
        if self._server is not None:
            return
        blocks = (
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],  # coils: none on an SDM630
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],  # discrete inputs: none
            [SimData(SDM630_SERIAL, count=2, values=0, datatype=DataType.REGISTERS, readonly=True)],
            [SimData(0, count=SDM630_INPUT_END, values=0, datatype=DataType.REGISTERS, readonly=True)],
        )
        device = SimDevice(id=self.device_id, simdata=blocks, action=self._on_request)
        server = ModbusTcpServer(
            device, address=(self.host, self._requested_port), trace_packet=self._on_packet
        )
        await server.serve_forever(background=True)
        listener = server.transport
        sockets = getattr(listener, "sockets", None)
        if not sockets:
            await server.shutdown()
            raise RuntimeError(f"Modbus server did not bind to {self.host}:{self._requested_port}")
        self._port = int(sockets[0].getsockname()[1])
        self._server = server

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()

    # -- the device ----------------------------------------------------------------------------

    def _tick(self) -> None:
        now = self._clock() if self._clock is not None else asyncio.get_running_loop().time()
        self.meter.tick(now)

    def input_registers(self) -> dict[int, int]:
        """The current input register image (address -> 16-bit value) for the values it simulates."""
        m = self.meter
        i1, i2, i3 = m.phase_currents()
        v = m.voltage_v
        energy = m.energy_wh
        if self._backwards_from is not None:
            # Mirror the true register around the switch-on value, and start 100 Wh lower, so even a
            # meter with no load shows the fault on the very next read.
            energy = 2 * self._backwards_from - energy - 100.0
        floats = {
            SDM630_VOLTAGE_L1: v,
            SDM630_VOLTAGE_L2: v,
            SDM630_VOLTAGE_L3: v,
            SDM630_CURRENT_L1: i1,
            SDM630_CURRENT_L2: i2,
            SDM630_CURRENT_L3: i3,
            SDM630_POWER_L1: i1 * v,
            SDM630_POWER_L2: i2 * v,
            SDM630_POWER_L3: i3 * v,
            SDM630_AVG_VOLTAGE: v,
            SDM630_AVG_CURRENT: (i1 + i2 + i3) / 3,
            SDM630_SUM_CURRENT: i1 + i2 + i3,
            SDM630_TOTAL_POWER: m.power_w,
            SDM630_TOTAL_VA: m.power_w,
            SDM630_TOTAL_PF: 1.0,
            SDM630_FREQUENCY: m.frequency_hz,
            SDM630_IMPORT_KWH: energy / 1000.0,
            SDM630_EXPORT_KWH: m.energy_export_wh / 1000.0,
            SDM630_TOTAL_KWH: (energy + m.energy_export_wh) / 1000.0,
        }
        image: dict[int, int] = {}
        for address, value in floats.items():
            image[address], image[address + 1] = float32_words(value)
        return image

    def holding_registers(self) -> dict[int, int]:
        hi, lo = uint32_words(self.meter.serial_number)
        return {SDM630_SERIAL: hi, SDM630_SERIAL + 1: lo}

    async def _on_request(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        # Called by pymodbus for every request, after its address checks and before it answers
        # from `registers` (the whole bank, starting at `start_address`): fill in fresh values.
        self.requests += 1
        if self.exception:
            return ExcCodes.DEVICE_FAILURE
        if set_values is not None:
            return ExcCodes.ILLEGAL_FUNCTION  # an SDM630's measurements are read-only
        if function_code == 4:
            self._tick()
            image = self.input_registers()
        elif function_code == 3:
            image = self.holding_registers()
        else:
            return ExcCodes.ILLEGAL_FUNCTION
        for addr in range(address, address + count):
            registers[addr - start_address] = image.get(addr, 0)
        return None

    def _on_packet(self, sending: bool, data: bytes) -> bytes:
        # A silent meter hears the request and says nothing: drop the answer at the wire.
        if sending and self.silent:
            return b""
        return data


__all__ = ["ModbusMeterServer", "SimMeter", "float32_words", "uint32_words"]
