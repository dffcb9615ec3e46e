"""The register layouts of the simulated meters, written out from each meter's data sheet.

Independent of ``hal/meter/maps/*.toml`` on purpose: a simulator that read the driver's maps could
not catch a wrong address in them. Each model turns the meter's physics into register images
(address -> 16-bit word) per bank, and says which addresses the meter answers at all (a read
outside them gets exception 02, illegal data address, as on the real device).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

INPUT = 4  # function code: read input registers
HOLDING = 3  # function code: read holding registers


class Physics(Protocol):
    """What a model reads from the simulated meter."""

    voltage_v: float
    frequency_hz: float
    energy_export_wh: float
    serial_number: int

    def phase_currents(self) -> tuple[float, float, float]: ...


Image = dict[int, int]


def f32(value: float) -> tuple[int, ...]:
    """IEEE 754 float32, high word first."""
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return hi, lo


def u32(value: int) -> tuple[int, ...]:
    return (value >> 16) & 0xFFFF, value & 0xFFFF


def i32(value: float) -> tuple[int, ...]:
    return u32(int(round(value)) & 0xFFFFFFFF)


def u64(value: int) -> tuple[int, ...]:
    return tuple((value >> shift) & 0xFFFF for shift in (48, 32, 16, 0))


def u16(value: float) -> tuple[int, ...]:
    return (int(round(value)) & 0xFFFF,)


def text(value: str, registers: int) -> tuple[int, ...]:
    raw = value.encode("ascii").ljust(2 * registers, b"\x00")[: 2 * registers]
    return struct.unpack(f">{registers}H", raw)


def lsw_first(words: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(reversed(words))


def _put(image: Image, address: int, words: tuple[int, ...]) -> None:
    for offset, word in enumerate(words):
        image[address + offset] = word


@dataclass(frozen=True)
class MeterModel:
    """One meter model's wire: ``banks(physics, import_wh)`` -> {function: image}; ``answers``."""

    name: str
    banks: Callable[[Physics, float], dict[int, Image]]
    #: (function, first, last) address ranges the meter answers; unused addresses inside read as 0.
    ranges: tuple[tuple[int, int, int], ...]
    phases: int = 3

    def answers(self, function: int, address: int, count: int) -> bool:
        last = address + count - 1
        return any(f == function and first <= address and last <= end for f, first, end in self.ranges)


def _eastron(m: Physics, import_wh: float, phases: int) -> dict[int, Image]:
    # Eastron SDM630 / SDM120 Modbus protocol: input registers 3xxxx, float32, kWh.
    i = m.phase_currents()[:phases]
    v = m.voltage_v
    inputs: Image = {}
    for n in range(phases):
        _put(inputs, 0x0000 + 2 * n, f32(v))  # phase N line to neutral volts
        _put(inputs, 0x0006 + 2 * n, f32(i[n]))  # phase N current
        _put(inputs, 0x000C + 2 * n, f32(i[n] * v))  # phase N active power
    power = sum(i) * v
    if phases == 3:
        _put(inputs, 0x002A, f32(v))  # average line to neutral volts
        _put(inputs, 0x002E, f32(sum(i) / 3))  # average line current
        _put(inputs, 0x0030, f32(sum(i)))  # sum of line currents
        _put(inputs, 0x0034, f32(power))  # total system power
        _put(inputs, 0x0038, f32(power))  # total system VA
        _put(inputs, 0x003E, f32(1.0))  # total system power factor
    else:
        _put(inputs, 0x0012, f32(power))  # apparent power
        _put(inputs, 0x001E, f32(1.0))  # power factor
    _put(inputs, 0x0046, f32(m.frequency_hz))
    _put(inputs, 0x0048, f32(import_wh / 1000))  # import active energy, kWh
    _put(inputs, 0x004A, f32(m.energy_export_wh / 1000))  # export active energy, kWh
    _put(inputs, 0x0156, f32((import_wh + m.energy_export_wh) / 1000))  # total active energy, kWh
    holding: Image = {}
    _put(holding, 0xFC00, u32(m.serial_number))
    return {INPUT: inputs, HOLDING: holding}


def _abb_b23(m: Physics, import_wh: float) -> dict[int, Image]:
    # ABB B23 Modbus register map (2CMC485003M0201): holding registers, integers, high word first.
    i = m.phase_currents()
    v = m.voltage_v
    regs: Image = {}
    _put(regs, 0x5000, u64(int(import_wh // 10)))  # active import, 0.01 kWh (whole steps)
    _put(regs, 0x5004, u64(int(m.energy_export_wh // 10)))  # active export, 0.01 kWh
    for n in range(3):
        _put(regs, 0x5B00 + 2 * n, u32(int(round(v * 10))))  # voltage Ln-N, 0.1 V
        _put(regs, 0x5B06 + 2 * n, u32(int(round(v * 3**0.5 * 10))))  # voltage L-L, 0.1 V
        _put(regs, 0x5B0C + 2 * n, u32(int(round(i[n] * 100))))  # current Ln, 0.01 A
        _put(regs, 0x5B16 + 2 * n, i32(i[n] * v * 100))  # active power Ln, 0.01 W
    _put(regs, 0x5B14, i32(sum(i) * v * 100))  # active power total, 0.01 W
    _put(regs, 0x5B2C, u16(m.frequency_hz * 100))  # frequency, 0.01 Hz
    _put(regs, 0x5B3A, u16(1000))  # power factor total, 0.001
    _put(regs, 0x8900, u32(m.serial_number))  # serial number
    _put(regs, 0x8960, text("B23 312-100", 6))  # type designation
    return {HOLDING: regs}


def _em340(m: Physics, import_wh: float) -> dict[int, Image]:
    # Carlo Gavazzi EM330/EM340 communication protocol: INT32 with the low word first.
    i = m.phase_currents()
    v = m.voltage_v
    regs: Image = {}
    for n in range(3):
        _put(regs, 0x0000 + 2 * n, lsw_first(i32(v * 10)))  # V Ln-N, x10
        _put(regs, 0x0006 + 2 * n, lsw_first(i32(v * 3**0.5 * 10)))  # V L-L, x10
        _put(regs, 0x000C + 2 * n, lsw_first(i32(i[n] * 1000)))  # A Ln, x1000
        _put(regs, 0x0012 + 2 * n, lsw_first(i32(i[n] * v * 10)))  # W Ln, x10
    _put(regs, 0x0028, lsw_first(i32(sum(i) * v * 10)))  # W sys, x10
    _put(regs, 0x0031, u16(1000))  # PF sys, x1000
    _put(regs, 0x0033, u16(m.frequency_hz * 10))  # Hz, x10
    # Energy counters count whole steps: truncated, never rounded up.
    _put(regs, 0x0034, lsw_first(u32(int(import_wh // 100))))  # kWh (+) TOT, x10
    _put(regs, 0x004E, lsw_first(u32(int(m.energy_export_wh // 100))))  # kWh (-) TOT, x10
    _put(regs, 0x5000, text(f"{m.serial_number:014d}", 7))  # serial number, 14 characters
    # The EM340 answers functions 03 and 04 from the same registers.
    return {HOLDING: regs, INPUT: regs}


MODELS: dict[str, MeterModel] = {
    "sdm630": MeterModel(
        "sdm630", lambda m, e: _eastron(m, e, 3), ((INPUT, 0x0000, 0x017F), (HOLDING, 0xFC00, 0xFC03))
    ),
    "sdm120": MeterModel(
        "sdm120", lambda m, e: _eastron(m, e, 1), ((INPUT, 0x0000, 0x017F), (HOLDING, 0xFC00, 0xFC03)), phases=1
    ),
    "abb-b23": MeterModel(
        "abb-b23", _abb_b23, ((HOLDING, 0x5000, 0x50FF), (HOLDING, 0x5B00, 0x5BFF), (HOLDING, 0x8900, 0x89FF))
    ),
    "em340": MeterModel(
        "em340", _em340, ((HOLDING, 0x0000, 0x00FF), (INPUT, 0x0000, 0x00FF), (HOLDING, 0x5000, 0x5006))
    ),
}
