"""One generic Modbus meter driver (backend ``"modbus"``); what to read comes from a register map.

The meter model is data (``hal/meter/maps/<model>.toml``, DESIGN.md style 4): adding a meter means
adding a map, not code. Transport is Modbus TCP (``host``) or Modbus RTU on a serial line
(``serial_port``), both through pymodbus. Every pymodbus error is wrapped in a :mod:`hal.errors`
error at this boundary, and any failure drops the connection so the next read starts clean
(a half-read TCP stream or an RTU line with a late answer in flight cannot be trusted).
"""

from __future__ import annotations

import asyncio
import math

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType

from hal.checks import check_baudrate
from hal.errors import ConfigurationError, DeviceTimeout, DeviceUnavailable, FrameError, HalError
from hal.events import MeterIdentity
from hal.meter.base import Meter
from hal.meter.maps import Function, ReadBlock, Register, RegisterMap, ValueType, load_map, plan_reads


class ModbusExceptionError(HalError):
    """The meter answered with a Modbus exception response; ``exception_code`` is the wire code."""

    def __init__(self, exception_code: int, message: str) -> None:
        super().__init__(message)
        self.exception_code = exception_code


class ModbusRequestRejected(ModbusExceptionError, FrameError):
    """Exception codes 01-03 (illegal function/address/value): the map does not fit this meter."""


class ModbusDeviceFailure(ModbusExceptionError, DeviceUnavailable):
    """Exception code 04 (device failure) or 0A (gateway path unavailable)."""


class ModbusDeviceBusy(ModbusExceptionError, DeviceTimeout):
    """Exception code 05/06 (acknowledge, busy) or 0B (gateway target did not respond): try later."""


_EXCEPTION_CLASSES: dict[int, type[ModbusExceptionError]] = {
    0x01: ModbusRequestRejected,
    0x02: ModbusRequestRejected,
    0x03: ModbusRequestRejected,
    0x04: ModbusDeviceFailure,
    0x05: ModbusDeviceBusy,
    0x06: ModbusDeviceBusy,
    0x0A: ModbusDeviceFailure,
    0x0B: ModbusDeviceBusy,
}

_Client = AsyncModbusTcpClient | AsyncModbusSerialClient


class ModbusMeter(Meter):
    """A kWh meter on Modbus TCP or RTU, described by a register map.

    Options (the ``[meter]`` table): ``model`` (built-in map name such as ``"sdm630"``, or a path to a
    map file), ``host`` and ``port`` for Modbus TCP, or ``serial_port`` and ``baudrate`` for RTU
    (8N1) - exactly one of ``host`` / ``serial_port``; ``device_id`` (the Modbus unit/slave id),
    ``timeout``, ``max_power_w`` and ``fault_after`` (see :class:`hal.meter.base.Meter`).

    The map is loaded and checked in the constructor, so a bad map fails at start-up, with the file
    and key, before any device is touched.
    """

    def __init__(
        self,
        *,
        model: str,
        host: str | None = None,
        port: int = 502,
        serial_port: str | None = None,
        baudrate: int = 9600,
        device_id: int = 1,
        timeout: float = 2.0,
        max_power_w: float = 50000.0,
        fault_after: int = 3,
    ) -> None:
        super().__init__(timeout=timeout, max_power_w=max_power_w, fault_after=fault_after)
        if (host is None) == (serial_port is None):
            raise ConfigurationError(
                "host / serial_port: exactly one is needed (host for Modbus TCP, serial_port for RTU)"
            )
        if not 1 <= port <= 65535:
            raise ConfigurationError(f"port: expected 1..65535, got {port!r}")
        # 0 is the broadcast address (no answer ever comes); 248-255 are reserved on RTU, but TCP
        # gateways commonly use 255 for "the device itself".
        if not 1 <= device_id <= 255:
            raise ConfigurationError(f"device_id: expected 1..255, got {device_id!r}")
        check_baudrate(baudrate)
        self.host = host
        self.port = port
        self.serial_port = serial_port
        self.baudrate = baudrate
        self.device_id = device_id
        self.map: RegisterMap = load_map(model)
        self._blocks = plan_reads(
            self.map.measurands.values(), self.map.max_registers_per_read, self.map.max_gap
        )
        self._client: _Client | None = None
        # One request at a time: the reconnect-on-failure logic must not close a client that
        # another caller is in the middle of using.
        self._lock = asyncio.Lock()

    @property
    def where(self) -> str:
        """The meter's address, for messages."""
        if self.serial_port is not None:
            return f"{self.serial_port} unit {self.device_id}"
        return f"{self.host}:{self.port} unit {self.device_id}"

    # -- hooks ---------------------------------------------------------------------------------

    async def _open(self) -> None:
        async with self._lock:
            await self._connected()

    async def _close(self) -> None:
        self._drop()

    async def _read_values(self) -> dict[str, float]:
        async with self._lock:
            values: dict[str, float] = {}
            for block in self._blocks:
                words = await self._read_block(block)
                for reg in block.registers:
                    values[reg.name] = _decode(reg, block, words)
            return values

    async def _read_identity(self) -> MeterIdentity:
        serial = await self._read_text(self.map.serial_number)
        meter_type = await self._read_text(self.map.meter_type)
        return MeterIdentity(model=meter_type or self.map.model, serial_number=serial)

    async def _read_text(self, reg: Register | None) -> str | None:
        """An identity register as text: strings as they are, integers in decimal."""
        if reg is None:
            return None
        block = ReadBlock(reg.function, reg.address, reg.count, (reg,))
        async with self._lock:
            words = await self._read_block(block)
        if reg.type is ValueType.STRING:
            return reg.decode_text(words) or None
        value = _decode(reg, block, words)
        if not math.isfinite(value):
            raise FrameError(f"meter at {self.where}: {reg.name} register holds {value!r}")
        return str(int(value))

    # -- internals -----------------------------------------------------------------------------

    def _make_client(self) -> _Client:
        # retries=0: the base class owns the time budget; reconnect_delay=0: no background reconnect
        # task, we reconnect ourselves on the next read (nothing runs while nobody polls).
        if self.serial_port is not None:
            return AsyncModbusSerialClient(
                self.serial_port,
                framer=FramerType.RTU,
                baudrate=self.baudrate,
                timeout=self.timeout,
                retries=0,
                reconnect_delay=0,
            )
        assert self.host is not None  # checked in __init__
        return AsyncModbusTcpClient(
            self.host, port=self.port, timeout=self.timeout, retries=0, reconnect_delay=0
        )

    async def _connected(self) -> _Client:
        if self._client is not None and self._client.connected:
            return self._client
        self._drop()
        client = self._make_client()
        self._client = client
        try:
            ok = await client.connect()
        except (OSError, ModbusException) as err:
            self._drop()
            raise DeviceUnavailable(f"meter at {self.where}: cannot connect: {err}") from err
        except BaseException:
            self._drop()
            raise
        if not ok:
            self._drop()
            raise DeviceUnavailable(f"meter at {self.where}: cannot connect")
        return client

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def _read_block(self, block: ReadBlock) -> list[int]:
        what = f"{block.function} registers {block.address:#06x}+{block.count}"
        try:
            client = await self._connected()
            if block.function is Function.INPUT:
                response = await client.read_input_registers(
                    block.address, count=block.count, device_id=self.device_id
                )
            else:
                response = await client.read_holding_registers(
                    block.address, count=block.count, device_id=self.device_id
                )
            if response.isError():
                code = int(getattr(response, "exception_code", 0))
                cls = _EXCEPTION_CLASSES.get(code, ModbusRequestRejected)
                raise cls(code, f"meter at {self.where}: Modbus exception {code:#04x} reading {what}")
            words = list(response.registers)
            if len(words) != block.count:
                raise FrameError(
                    f"meter at {self.where}: asked for {block.count} registers ({what}), got {len(words)}"
                )
            return words
        except HalError:
            self._drop()
            raise
        except ConnectionException as err:
            self._drop()
            raise DeviceUnavailable(f"meter at {self.where}: connection lost reading {what}: {err}") from err
        except ModbusIOException as err:
            # No (valid) answer in time: a silent meter, a wrong unit id, or CRC errors on RTU (pymodbus
            # drops frames with a bad CRC and waits on).
            self._drop()
            raise DeviceTimeout(f"meter at {self.where}: no answer reading {what}: {err}") from err
        except ModbusException as err:
            self._drop()
            raise FrameError(f"meter at {self.where}: bad answer reading {what}: {err}") from err
        except OSError as err:
            self._drop()
            raise DeviceUnavailable(f"meter at {self.where}: I/O error reading {what}: {err}") from err
        except BaseException:
            # Cancelled (the base class's timeout) with a request in flight: its answer may still
            # arrive and would be taken for the answer to the next request. Start clean.
            self._drop()
            raise


def _decode(reg: Register, block: ReadBlock, words: list[int]) -> float:
    offset = reg.address - block.address
    return reg.decode(words[offset : offset + reg.count])
