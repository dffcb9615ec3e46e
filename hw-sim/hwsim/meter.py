"""A simulated kWh meter: its physics (:class:`SimMeter`) and its wire (:class:`ModbusMeterServer`
on Modbus TCP, :class:`RtuBus` on Modbus RTU over a pseudo-terminal).

The register layouts are in :mod:`hwsim.meter_models`, one per meter model, written from the data
sheets. The Modbus framing (MBAP for TCP, address + CRC-16 for RTU) is written here from the Modbus
specifications rather than borrowed from pymodbus, which the driver uses: the simulator and the
driver must not share the code whose bugs the tests are there to catch, and owning the wire is what
lets the simulator garble a CRC or fall silent on demand.
"""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import Callable, Sequence
from pathlib import Path

from hwsim.meter_models import HOLDING, INPUT, MODELS, MeterModel
from hwsim.pty import PtyLine


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
            raise ValueError("serial_number must fit in 32 bits (meters hold it as uint32)")
        self.currents = currents
        self.voltage_v = voltage_v
        self.frequency_hz = frequency_hz
        self.energy_wh = energy_wh
        self.energy_export_wh = energy_export_wh
        self.serial_number = serial_number
        #: The phases that run through the meter, from L1: a single-phase meter's model sets 1
        #: (ModbusMeterServer), and then it measures, shows and counts L1 alone.
        self.phases = 3
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
        """Amps on L1, L2, L3 through the meter (missing phases, and those it does not have, are 0)."""
        values = [float(i) for i in self.currents()][: self.phases]
        values += [0.0] * (3 - len(values))
        return (values[0], values[1], values[2])

    @property
    def power_w(self) -> float:
        return sum(self.phase_currents()) * self.voltage_v


# -- Modbus ------------------------------------------------------------------------------------------

ILLEGAL_FUNCTION = 0x01
ILLEGAL_DATA_ADDRESS = 0x02
ILLEGAL_DATA_VALUE = 0x03
DEVICE_FAILURE = 0x04


def crc16(frame: bytes) -> bytes:
    """Modbus RTU CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF), low byte first."""
    crc = 0xFFFF
    for byte in frame:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return struct.pack("<H", crc)


class ModbusMeterServer:
    """One simulated meter of ``model`` (see :data:`hwsim.meter_models.MODELS`), unit ``device_id``,
    served on Modbus TCP at ``host``:``port`` (0: any free port) and, through :class:`RtuBus`, on RTU.

    Fault switches, for tests and the control interface (they act on the next request):

    - ``silent``: requests are received but never answered (the client times out);
    - ``garbled``: answers are corrupted on the wire (RTU: a wrong CRC; TCP: a byte count that does
      not match the registers sent);
    - ``backwards``: the import energy register runs backwards from where it was when switched on;
    - ``exception``: every read is answered with Modbus exception 04 (device failure).

    ``clock`` is where the server reads time before ticking the meter; it defaults to the loop clock.
    """

    def __init__(
        self,
        meter: SimMeter,
        *,
        model: str = "sdm630",
        port: int = 0,
        host: str = "127.0.0.1",
        device_id: int = 1,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown meter model {model!r}; expected one of: {', '.join(sorted(MODELS))}")
        self.meter = meter
        self.model: MeterModel = MODELS[model]
        meter.phases = self.model.phases  # what the model is wired to is what it measures
        self.host = host
        self._requested_port = port
        self.device_id = device_id
        self._clock = clock
        self.silent = False
        self.garbled = False
        self.exception = False
        self._backwards_from: float | None = None
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.StreamWriter, asyncio.Task[None]] = {}
        #: Requests received (answered or not), for tests and diagnostics.
        self.requests = 0

    @property
    def port(self) -> int:
        """The TCP port actually listened on (useful with ``port=0``)."""
        if self._server is None:
            raise RuntimeError("ModbusMeterServer is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

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

    def set_energy(self, energy_wh: float) -> None:
        """Set the import energy register, as a meter that already counted ``energy_wh`` (a meter
        long in service, or a register read with the wrong word order); it integrates on from there."""
        if not 0 <= energy_wh < math.inf:
            raise ValueError(f"energy_wh must be a finite number of Wh >= 0, got {energy_wh!r}")
        self._tick()  # what flowed until now counts before the register moves
        self.meter.energy_wh = float(energy_wh)
        if self._backwards_from is not None:
            self._backwards_from = self.meter.energy_wh

    async def start(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve_tcp, self.host, self._requested_port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            for writer in list(self._connections):
                writer.close()  # the handler sees EOF and ends
            await asyncio.gather(*self._connections.values(), return_exceptions=True)
            await server.wait_closed()

    # -- the device ----------------------------------------------------------------------------

    def banks(self) -> dict[int, dict[int, int]]:
        """The register images now, by function code."""
        self._tick()
        energy = self.meter.energy_wh
        if self._backwards_from is not None:
            # Mirror the true register around the switch-on value, and start 100 Wh lower, so even a
            # meter with no load shows the fault on the very next read.
            energy = 2 * self._backwards_from - energy - 100.0
        return self.model.banks(self.meter, max(0.0, energy))

    def answer(self, pdu: bytes) -> bytes | None:
        """The response PDU to a request PDU, or ``None`` when the meter stays silent."""
        self.requests += 1
        if self.silent:
            return None
        function = pdu[0] if pdu else 0
        if self.exception:
            return bytes([function | 0x80, DEVICE_FAILURE])
        if function not in (HOLDING, INPUT):
            return bytes([function | 0x80, ILLEGAL_FUNCTION])  # measurements are read-only
        if len(pdu) != 5:
            return bytes([function | 0x80, ILLEGAL_DATA_VALUE])
        address, count = struct.unpack(">HH", pdu[1:5])
        if not 1 <= count <= 125:
            return bytes([function | 0x80, ILLEGAL_DATA_VALUE])
        if not self.model.answers(function, address, count):
            return bytes([function | 0x80, ILLEGAL_DATA_ADDRESS])
        image = self.banks().get(function, {})
        words = [image.get(a, 0) for a in range(address, address + count)]
        byte_count = 2 * count
        if self.garbled:
            byte_count -= 2  # fewer bytes announced than sent: no parser can trust this answer
        return bytes([function, byte_count & 0xFF]) + struct.pack(f">{count}H", *words)

    def _tick(self) -> None:
        now = self._clock() if self._clock is not None else asyncio.get_running_loop().time()
        self.meter.tick(now)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Modbus TCP (Messaging on TCP/IP Implementation Guide V1.0b, 3.1.3): MBAP header of
        # transaction id, protocol id 0, length (unit id + PDU), unit id; then the PDU.
        task = asyncio.current_task()
        assert task is not None
        self._connections[writer] = task
        try:
            while True:
                header = await reader.readexactly(7)
                tid, protocol, length, unit = struct.unpack(">HHHB", header)
                if protocol != 0 or not 2 <= length <= 254:
                    break  # not Modbus: a real server drops the connection
                pdu = await reader.readexactly(length - 1)
                if unit != self.device_id:
                    continue  # a gateway would answer 0x0B; a single meter just ignores it
                response = self.answer(pdu)
                if response is not None:
                    writer.write(struct.pack(">HHHB", tid, 0, len(response) + 1, unit) + response)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._connections.pop(writer, None)
            writer.close()


class RtuBus:
    """An RS-485 line with meters on it, as a :class:`~hwsim.pty.PtyLine` (build it inside a running
    loop): the driver opens :attr:`path`.

    Modbus over Serial Line V1.02, 2.5.1: an RTU frame is the unit address, the PDU and a CRC-16.
    Each meter answers the requests addressed to its ``device_id``; a request with a bad CRC is
    ignored, as a real slave does. A meter's ``garbled`` switch corrupts the CRC of its answers.
    """

    def __init__(self, meters: Sequence[ModbusMeterServer], *, link: str | Path | None = None) -> None:
        self.meters = {m.device_id: m for m in meters}
        self._buffer = bytearray()
        self._line = PtyLine(self._on_data, link=link)

    @property
    def path(self) -> str:
        return self._line.path

    def close(self) -> None:
        self._line.close()

    def _on_data(self, data: bytes) -> None:
        self._buffer += data
        # Read requests (functions 03/04) are 8 bytes: unit, function, address, count, CRC. A real
        # slave frames by the 3.5-character silence; on a pty, whole requests arrive together.
        while len(self._buffer) >= 8:
            frame = bytes(self._buffer[:8])
            if crc16(frame[:6]) != frame[6:]:
                del self._buffer[:1]  # noise or a partial frame: resynchronise byte by byte
                continue
            del self._buffer[:8]
            meter = self.meters.get(frame[0])
            if meter is None:
                continue  # addressed to another slave (or broadcast): not ours to answer
            response = meter.answer(frame[1:6])
            if response is None:
                continue
            body = bytes([frame[0]]) + response
            crc = crc16(body)
            if meter.garbled:
                crc = bytes([crc[0] ^ 0xFF, crc[1]])
            self._line.write(body + crc)


__all__ = ["ModbusMeterServer", "RtuBus", "SimMeter", "crc16"]
