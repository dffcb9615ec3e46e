"""Register map loading and checking: every error names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.errors import ConfigurationError
from hal.meter.maps import (
    Function,
    Register,
    RegisterMapError,
    ValueType,
    WordOrder,
    builtin_maps,
    load_map,
    plan_reads,
)

GOOD = """
[meter]
model = "Test meter"

[measurands.energy_import_wh]
address = 0x0100
scale = 1000.0
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "meter.toml"
    path.write_text(text)
    return path


def test_sdm630_is_built_in_and_valid() -> None:
    assert "sdm630" in builtin_maps()
    m = load_map("sdm630")
    assert m.model == "SDM630"
    energy = m.measurands["energy_import_wh"]
    assert (energy.address, energy.function, energy.type, energy.scale) == (
        0x0048,
        Function.INPUT,
        ValueType.FLOAT32,
        1000.0,
    )
    assert m.measurands["energy_export_wh"].address == 0x004A
    assert m.measurands["power_w"].address == 0x0034
    assert m.measurands["frequency_hz"].address == 0x0046
    assert [m.measurands[f"voltage_l{i}"].address for i in (1, 2, 3)] == [0x0000, 0x0002, 0x0004]
    assert [m.measurands[f"current_l{i}"].address for i in (1, 2, 3)] == [0x0006, 0x0008, 0x000A]
    assert m.serial_number is not None
    assert (m.serial_number.address, m.serial_number.function, m.serial_number.type) == (
        0xFC00,
        Function.HOLDING,
        ValueType.UINT32,
    )
    # The whole SDM630 poll is one request within the meter's 80-register limit.
    blocks = plan_reads(m.measurands.values(), m.max_registers_per_read, m.max_gap)
    assert [(b.function, b.address, b.count) for b in blocks] == [(Function.INPUT, 0x0000, 0x0050)]


def test_a_map_by_path(tmp_path: Path) -> None:
    m = load_map(str(write(tmp_path, GOOD)))
    assert m.model == "Test meter"
    assert m.serial_number is None
    assert m.measurands["energy_import_wh"].word_order is WordOrder.BIG


def test_decode_word_orders_and_types() -> None:
    big = Register("x", 0, Function.INPUT, ValueType.FLOAT32, WordOrder.BIG, 1000.0)
    assert big.decode([0x4145, 0x851F]) == pytest.approx(12.345e3, rel=1e-6)
    little = Register("x", 0, Function.INPUT, ValueType.FLOAT32, WordOrder.LITTLE, 1.0)
    assert little.decode([0x851F, 0x4145]) == pytest.approx(12.345, rel=1e-6)
    int16 = Register("x", 0, Function.INPUT, ValueType.INT16, WordOrder.BIG, 0.1)
    assert int16.decode([0xFFFF]) == pytest.approx(-0.1)
    uint32 = Register("x", 0, Function.HOLDING, ValueType.UINT32, WordOrder.BIG, 1.0)
    assert uint32.decode([0x0001, 0x0002]) == 65538


E = "measurands.energy_import_wh"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (GOOD.replace("address = 0x0100", 'address = "0x100"'), f"{E}.address", "integer"),
        (GOOD.replace("address = 0x0100", "address = 70000"), f"{E}.address", "0..65535"),
        (GOOD.replace("address = 0x0100\n", ""), f"{E}.address", "missing"),
        (GOOD + 'type = "float64"\n', f"{E}.type", "float32"),
        (GOOD + 'function = "coil"\n', f"{E}.function", "input"),
        (GOOD + 'word_order = "middle"\n', f"{E}.word_order", "big"),
        (GOOD.replace("scale = 1000.0", "scale = 0"), f"{E}.scale", "non-zero"),
        (GOOD + "adress = 5\n", f"{E}.adress", "unknown key"),
        (GOOD + "[measurands.energy_imprt_wh]\naddress = 4\n", "measurands.energy_imprt_wh", "unknown"),
        (GOOD.replace("energy_import_wh", "power_w"), E, "missing"),
        (GOOD.replace('model = "Test meter"', "model = 5"), "meter.model", "string"),
        (
            GOOD.replace("[meter]\n", "[meter]\nmax_registers_per_read = 500\n"),
            "meter.max_registers_per_read",
            "2..125",
        ),
        (GOOD + "[measurands.power_w]\naddress = 0x0101\n", "measurands.power_w.address", "already used"),
        (
            GOOD + '[identity.serial_number]\naddress = 1\nfunction = "holding"\n',
            "identity.serial_number.type",
            "integer",
        ),
        ("[measurands.energy_import_wh]\naddress = 1\n", "meter", "missing table"),
        (GOOD + "[extras]\n", "extras", "unknown key"),
    ],
)
def test_bad_map_names_file_and_key(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RegisterMapError) as info:
        load_map(str(path))
    err = info.value
    assert (err.path, err.key) == (str(path), key)
    assert problem in err.problem
    assert str(path) in str(err) and key in str(err)
    assert isinstance(err, ConfigurationError)


def test_not_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[meter\nmodel = 1\n")
    with pytest.raises(RegisterMapError, match=r"not valid TOML.*line 1") as info:
        load_map(str(path))
    assert info.value.path == str(path)


def test_missing_map_file(tmp_path: Path) -> None:
    with pytest.raises(RegisterMapError, match="no such map file"):
        load_map(str(tmp_path / "nope.toml"))


def test_unknown_builtin_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="expected one of: .*sdm630"):
        load_map("sdm999")


def test_plan_reads_respects_gap_and_size() -> None:
    def reg(name: str, address: int, function: Function = Function.INPUT) -> Register:
        return Register(name, address, function, ValueType.FLOAT32, WordOrder.BIG, 1.0)

    regs = [reg("a", 0), reg("b", 2), reg("c", 10), reg("d", 100), reg("s", 0xFC00, Function.HOLDING)]
    spans = [(b.function, b.address, b.count) for b in plan_reads(regs, 125, 0)]
    assert spans == [(Function.INPUT, 0, 4), (Function.INPUT, 10, 2), (Function.INPUT, 100, 2),
                     (Function.HOLDING, 0xFC00, 2)]
    spans = [(b.function, b.address, b.count) for b in plan_reads(regs, 125, 8)]
    assert spans[:2] == [(Function.INPUT, 0, 12), (Function.INPUT, 100, 2)]
    spans = [(b.function, b.address, b.count) for b in plan_reads(regs, 20, 200)]
    assert spans[:2] == [(Function.INPUT, 0, 12), (Function.INPUT, 100, 2)]
