"""Meter register maps: data, one TOML file per meter model, read by one generic Modbus driver.

The format is documented at the top of ``hal/meter/maps/sdm630.toml``. This module loads a map
(by built-in name or by path), checks every key and turns it into :class:`RegisterMap`. Every problem
is reported as :class:`RegisterMapError`, which names the file and the key (DESIGN.md, invariants).

The map files live in the ``maps/`` directory next to this module (package data); the module and the
directory share a name on purpose, the directory holds no Python and never shadows this module.
"""

from __future__ import annotations

import re
import struct
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from hal.errors import ConfigurationError

MAPS_DIR = Path(__file__).with_name("maps")

#: Measurand names a map may use. The first group are the fields of :class:`hal.events.MeterReading`
#: (per-phase values become its tuples); the rest go to ``MeterReading.extra`` under the same name.
#: Each maps onto an OCPP measurand, so the engine can translate without knowing the meter.
READING_FIELDS = frozenset(
    {
        "energy_import_wh",  # Energy.Active.Import.Register
        "energy_export_wh",  # Energy.Active.Export.Register
        "power_w",  # Power.Active.Import
        "current_l1", "current_l2", "current_l3",  # Current.Import, per phase
        "voltage_l1", "voltage_l2", "voltage_l3",  # Voltage, per phase (L-N)
        "frequency_hz",  # (OCPP 1.6: Frequency)
        "temperature_c",  # Temperature
    }
)
EXTRA_MEASURANDS = frozenset(
    {
        "energy_reactive_import_varh",  # Energy.Reactive.Import.Register
        "energy_reactive_export_varh",  # Energy.Reactive.Export.Register
        "power_reactive_var",  # Power.Reactive.Import
        "power_factor",  # (OCPP 1.6: Power.Factor)
        "power_l1", "power_l2", "power_l3",  # Power.Active.Import, per phase
    }
)
MEASURANDS = READING_FIELDS | EXTRA_MEASURANDS

#: The one measurand a meter map must have: without it there is nothing to bill.
REQUIRED_MEASURAND = "energy_import_wh"

#: Modbus allows at most 125 registers in one read (Modbus Application Protocol V1.1b3, 6.3/6.4).
MODBUS_MAX_READ = 125


class RegisterMapError(ConfigurationError):
    """A register map file is unreadable or wrong. ``path`` and ``key`` say where."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(where + problem)


class Function(StrEnum):
    """Which Modbus register bank a value lives in."""

    INPUT = "input"  # function 04, read input registers
    HOLDING = "holding"  # function 03, read holding registers


class ValueType(StrEnum):
    """How a value is encoded in registers."""

    FLOAT32 = "float32"
    UINT64 = "uint64"  # ABB meters keep energy counters in 64 bits
    INT64 = "int64"
    UINT32 = "uint32"
    INT32 = "int32"
    UINT16 = "uint16"
    INT16 = "int16"
    STRING = "string"  # ASCII, two characters per register; identity only, length in "registers"

    @property
    def registers(self) -> int:
        """Registers a value of this type takes (0 for strings, whose length the map gives)."""
        return _REGISTERS[self]


class WordOrder(StrEnum):
    """For 32-bit values: which 16-bit register comes first. Bytes in a register are big-endian."""

    BIG = "big"  # high word first (Eastron, ABB, most meters)
    LITTLE = "little"  # low word first ("word swapped")


_REGISTERS = {
    ValueType.FLOAT32: 2,
    ValueType.UINT64: 4,
    ValueType.INT64: 4,
    ValueType.UINT32: 2,
    ValueType.INT32: 2,
    ValueType.UINT16: 1,
    ValueType.INT16: 1,
    ValueType.STRING: 0,
}

_STRUCT = {
    ValueType.FLOAT32: ">f",
    ValueType.UINT64: ">Q",
    ValueType.INT64: ">q",
    ValueType.UINT32: ">I",
    ValueType.INT32: ">i",
    ValueType.UINT16: ">H",
    ValueType.INT16: ">h",
}


@dataclass(frozen=True, slots=True)
class Register:
    """Where one value lives and how to turn its registers into SI units (``raw * scale``)."""

    name: str
    address: int
    function: Function
    type: ValueType
    word_order: WordOrder
    scale: float
    #: For strings: how many registers the text takes.
    length: int = 0

    @property
    def count(self) -> int:
        return self.length if self.type is ValueType.STRING else self.type.registers

    def decode(self, words: list[int]) -> float:
        """Registers (16-bit ints, in wire order) -> value in SI units."""
        if len(words) != self.count:
            raise ValueError(f"{self.name}: expected {self.count} registers, got {len(words)}")
        ordered = words if self.word_order is WordOrder.BIG else list(reversed(words))
        raw = b"".join(w.to_bytes(2, "big") for w in ordered)
        (value,) = struct.unpack(_STRUCT[self.type], raw)
        return float(value) * self.scale

    def decode_text(self, words: list[int]) -> str:
        """A string register block -> text (ASCII, high byte first; NUL and space padding removed)."""
        raw = b"".join(w.to_bytes(2, "big") for w in words)
        return raw.decode("ascii", errors="replace").strip("\x00 ")


@dataclass(frozen=True, slots=True)
class RegisterMap:
    """A validated register map for one meter model."""

    source: str
    model: str
    measurands: dict[str, Register]
    serial_number: Register | None
    meter_type: Register | None
    max_registers_per_read: int
    max_gap: int


_Fail = Callable[[str, str], RegisterMapError]
_E = TypeVar("_E", bound=StrEnum)

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")

_DEFAULT_KEYS = {"function", "type", "word_order", "scale"}
_REGISTER_KEYS = _DEFAULT_KEYS | {"address", "registers"}


def builtin_maps() -> list[str]:
    """Names of the maps shipped with the HAL (``model = "<name>"``)."""
    return sorted(p.stem for p in MAPS_DIR.glob("*.toml"))


@dataclass(frozen=True, slots=True)
class ReadBlock:
    """One Modbus read request: ``count`` registers from ``address``, covering ``registers``."""

    function: Function
    address: int
    count: int
    registers: tuple[Register, ...]


def plan_reads(registers: Iterable[Register], max_registers_per_read: int, max_gap: int) -> list[ReadBlock]:
    """Group registers into as few reads as the meter allows.

    One poll of a meter over RS-485 at 9600 baud costs ~20 ms per request, so neighbouring values are
    read together. Two values share a request when they are in the same bank, at most ``max_gap``
    unused registers apart, and the request stays within ``max_registers_per_read``. Whether a meter
    answers reads that span unused addresses is a property of the meter, hence a map setting.
    """
    blocks: list[ReadBlock] = []
    for function in Function:
        regs = sorted((r for r in registers if r.function is function), key=lambda r: r.address)
        current: list[Register] = []
        start = end = 0
        for reg in regs:
            reg_end = reg.address + reg.count
            fits = max(end, reg_end) - start <= max_registers_per_read
            if current and reg.address - end <= max_gap and fits:
                current.append(reg)
                end = max(end, reg_end)
                continue
            if current:
                blocks.append(ReadBlock(function, start, end - start, tuple(current)))
            current, start, end = [reg], reg.address, reg_end
        if current:
            blocks.append(ReadBlock(function, start, end - start, tuple(current)))
    return blocks


def resolve(model: str) -> Path:
    """A ``model`` option -> the map file: a built-in name like ``"sdm630"`` or a path to a file."""
    if _NAME.fullmatch(model):
        path = MAPS_DIR / f"{model}.toml"
        if not path.is_file():
            known = ", ".join(builtin_maps()) or "none"
            raise ConfigurationError(
                f"model: no built-in register map {model!r}; expected one of: {known}, "
                "or a path to a map file"
            )
        return path
    return Path(model).expanduser()


def load_map(model: str) -> RegisterMap:
    """Load and check a register map by built-in name or path. Raises :class:`RegisterMapError`."""
    path = resolve(model)
    source = str(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as err:
        raise RegisterMapError(source, "", "no such map file") from err
    except OSError as err:
        raise RegisterMapError(source, "", f"cannot read: {err.strerror or err}") from err
    except tomllib.TOMLDecodeError as err:
        raise RegisterMapError(source, "", f"not valid TOML: {err}") from err
    return parse_map(data, source)


def parse_map(data: dict[str, Any], source: str) -> RegisterMap:
    """Check a map already parsed from TOML; ``source`` names it in errors."""

    def fail(key: str, problem: str) -> RegisterMapError:
        return RegisterMapError(source, key, problem)

    _only(data, {"meter", "defaults", "measurands", "identity"}, "", fail)

    meter = _table(data, "meter", fail, required=True)
    _only(meter, {"model", "max_registers_per_read", "max_gap"}, "meter", fail)
    model = meter.get("model")
    if not isinstance(model, str) or not model:
        raise fail("meter.model", f"expected a non-empty string, got {model!r}")
    max_read = meter.get("max_registers_per_read", MODBUS_MAX_READ)
    if not _is_int(max_read) or not 2 <= max_read <= MODBUS_MAX_READ:
        raise fail(
            "meter.max_registers_per_read", f"expected an integer 2..{MODBUS_MAX_READ}, got {max_read!r}"
        )
    max_gap = meter.get("max_gap", 0)
    if not _is_int(max_gap) or max_gap < 0:
        raise fail("meter.max_gap", f"expected an integer >= 0, got {max_gap!r}")

    defaults = _table(data, "defaults", fail)
    _only(defaults, _DEFAULT_KEYS, "defaults", fail)
    base = {"function": "input", "type": "float32", "word_order": "big", "scale": 1.0} | defaults

    measurands_table = _table(data, "measurands", fail, required=True)
    measurands: dict[str, Register] = {}
    for name, spec in measurands_table.items():
        key = f"measurands.{name}"
        if name not in MEASURANDS:
            raise fail(key, f"unknown measurand; expected one of: {', '.join(sorted(MEASURANDS))}")
        if not isinstance(spec, dict):
            raise fail(key, "expected a table with at least 'address'")
        measurands[name] = _register(name, spec, base, key, fail)
    if REQUIRED_MEASURAND not in measurands:
        raise fail(
            f"measurands.{REQUIRED_MEASURAND}", "missing; every meter map needs the import energy register"
        )

    identity = _table(data, "identity", fail)
    _only(identity, {"serial_number", "type"}, "identity", fail)
    found: dict[str, Register] = {}
    for name in ("serial_number", "type"):
        if name not in identity:
            continue
        key = f"identity.{name}"
        spec = identity[name]
        if not isinstance(spec, dict):
            raise fail(key, "expected a table with at least 'address'")
        found[name] = reg = _register(name, spec, base | {"scale": 1.0}, key, fail)
        if reg.type is ValueType.FLOAT32 or (name == "type" and reg.type is not ValueType.STRING):
            raise fail(f"{key}.type", f"expected {'string' if name == 'type' else 'an integer type or string'}, "
                                      f"got {reg.type.value}")

    _check_overlaps(measurands, fail)
    return RegisterMap(
        source=source,
        model=model,
        measurands=measurands,
        serial_number=found.get("serial_number"),
        meter_type=found.get("type"),
        max_registers_per_read=max_read,
        max_gap=max_gap,
    )


def _register(name: str, spec: dict[str, Any], base: dict[str, Any], key: str, fail: _Fail) -> Register:
    _only(spec, _REGISTER_KEYS, key, fail)
    merged = base | spec
    address = merged.get("address")
    if address is None:
        raise fail(f"{key}.address", "missing; expected the register address (0..65535, e.g. 0x0048)")
    if not _is_int(address) or not 0 <= address <= 0xFFFF:
        raise fail(f"{key}.address", f"expected an integer 0..65535, got {address!r}")
    function = _enum(Function, merged["function"], f"{key}.function", fail)
    vtype = _enum(ValueType, merged["type"], f"{key}.type", fail)
    order = _enum(WordOrder, merged["word_order"], f"{key}.word_order", fail)
    scale = merged["scale"]
    if isinstance(scale, bool) or not isinstance(scale, int | float) or scale == 0:
        raise fail(f"{key}.scale", f"expected a non-zero number, got {scale!r}")
    length = merged.get("registers", 0)
    if vtype is ValueType.STRING:
        if not key.startswith("identity.") :
            raise fail(f"{key}.type", "a measurand is a number; string is for identity registers only")
        if not _is_int(length) or not 1 <= length <= MODBUS_MAX_READ:
            raise fail(f"{key}.registers", f"expected the string's length in registers, 1..{MODBUS_MAX_READ}, "
                                           f"got {length!r}")
    elif "registers" in spec:
        raise fail(f"{key}.registers", f"only a string has a length; a {vtype.value} takes {vtype.registers}")
    reg = Register(name, address, function, vtype, order, float(scale), length)
    if address + reg.count - 1 > 0xFFFF:
        raise fail(f"{key}.address", f"a {vtype} at {address:#06x} runs past register 0xFFFF")
    return reg


def _check_overlaps(measurands: dict[str, Register], fail: _Fail) -> None:
    # Two measurands sharing registers is always a typo in the map (a copy-pasted address).
    taken: dict[tuple[Function, int], str] = {}
    for reg in measurands.values():
        for addr in range(reg.address, reg.address + reg.count):
            other = taken.setdefault((reg.function, addr), reg.name)
            if other != reg.name:
                raise fail(
                    f"measurands.{reg.name}.address",
                    f"{reg.function} register {addr:#06x} is already used by measurands.{other}",
                )


def _table(data: dict[str, Any], key: str, fail: _Fail, required: bool = False) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        if required:
            raise fail(key, "missing table")
        return {}
    if not isinstance(value, dict):
        raise fail(key, f"expected a table, got {value!r}")
    return value


def _only(table: dict[str, Any], allowed: set[str], prefix: str, fail: _Fail) -> None:
    for k in table:
        if k not in allowed:
            key = f"{prefix}.{k}" if prefix else k
            raise fail(key, f"unknown key; expected one of: {', '.join(sorted(allowed))}")


def _enum(cls: type[_E], value: Any, key: str, fail: _Fail) -> _E:
    try:
        return cls(value)
    except ValueError as err:
        raise fail(key, f"expected one of: {', '.join(m.value for m in cls)}, got {value!r}") from err


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
