"""Each backend constructor refuses a numeric option it cannot work with, naming the option first
(``"key: ..."``), so ``chargebox check-config`` reports it before ``run`` would fail at it
(issue 14 item 4). Nothing here opens a device."""

from __future__ import annotations

from typing import Any

import pytest

from hal.errors import ConfigurationError
from hal.meter.modbus import ModbusMeter
from hal.modem.at import AtModem
from hal.pilot.sysfs import SysfsPilot
from hal.rfid.hexline import HexLineReader
from hal.rfid.pn532 import Pn532Reader
from hal.rfid.rdm6300 import Rdm6300Reader
from hal.simwire import SimLock, SimPilot, SimRelay

PILOT: dict[str, Any] = {"adc_path": "/sys/bus/iio/devices/iio:device0/in_voltage0_raw", "adc_scale": 0.01}
SERIAL: list[tuple[type[Any], dict[str, Any]]] = [
    (HexLineReader, {"port": "/dev/ttyUSB0"}),
    (Rdm6300Reader, {"port": "/dev/ttyUSB0"}),
    (Pn532Reader, {"port": "/dev/ttyS0"}),
    (ModbusMeter, {"model": "sdm630", "serial_port": "/dev/ttyUSB1"}),
    (AtModem, {"port": "/dev/ttyUSB2"}),
]


@pytest.mark.parametrize("baudrate", [0, -9600, 96000, 12345])
@pytest.mark.parametrize(("cls", "options"), SERIAL, ids=[cls.__name__ for cls, _ in SERIAL])
def test_a_baudrate_that_is_no_serial_rate(cls: type[Any], options: dict[str, Any], baudrate: int) -> None:
    with pytest.raises(ConfigurationError, match=rf"^baudrate: expected a standard baud rate \(50, .*, 9600, "
                                                 rf".*, 4000000\), got {baudrate}$"):
        cls(**options, baudrate=baudrate)


@pytest.mark.parametrize(("cls", "options"), SERIAL, ids=[cls.__name__ for cls, _ in SERIAL])
def test_the_usual_baudrates_and_the_defaults_are_taken(cls: type[Any], options: dict[str, Any]) -> None:
    for baudrate in (1200, 9600, 19200, 115200):
        cls(**options, baudrate=baudrate)  # does not raise
    cls(**options)


def test_the_modbus_tcp_meter_refuses_a_garbled_baudrate_too() -> None:
    with pytest.raises(ConfigurationError, match="^baudrate: "):
        ModbusMeter(model="sdm630", host="127.0.0.1", baudrate=-1)


@pytest.mark.parametrize(("option", "value", "expected"), [
    ("pwm_chip", -1, "pwm_chip: expected >= 0, got -1"),
    ("pwm_channel", -2, "pwm_channel: expected >= 0, got -2"),
    ("adc_scale", float("nan"), "adc_scale: expected a finite number other than 0, got nan"),
    ("adc_scale", float("inf"), "adc_scale: expected a finite number other than 0, got inf"),
    ("adc_scale", 0.0, "adc_scale: expected a finite number other than 0, got 0.0"),
    ("adc_offset", float("-inf"), "adc_offset: expected a finite number, got -inf"),
])
def test_a_sysfs_pilot_value_out_of_range(option: str, value: Any, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SysfsPilot(**{**PILOT, option: value})
    assert str(caught.value) == expected


def test_the_first_pwm_chip_and_channel_are_0() -> None:
    pilot = SysfsPilot(**PILOT, pwm_chip=0, pwm_channel=0, pwm_root="/sys/class/pwm")
    assert str(pilot.pwm_dir) == "/sys/class/pwm/pwmchip0/pwm0"


@pytest.mark.parametrize("cls", [SimRelay, SimLock])
@pytest.mark.parametrize("timeout", [0, -0.5, float("nan")])
def test_a_sim_relay_or_lock_feedback_timeout_out_of_range(cls: type[Any], timeout: float) -> None:
    with pytest.raises(ConfigurationError, match=r"^feedback_timeout must be > 0 seconds, got "):
        cls(address="127.0.0.1:7701", feedback_timeout=timeout)


@pytest.mark.parametrize("cls", [SimRelay, SimLock])
def test_a_sim_relay_or_lock_keeps_its_feedback_timeout(cls: type[Any]) -> None:
    assert cls(address="127.0.0.1:7701", feedback_timeout=2.5).feedback_timeout == 2.5


@pytest.mark.parametrize("address", ["127.0.0.1:0", "127.0.0.1:70000"])
def test_a_sim_address_with_no_tcp_port(address: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SimPilot(address=address)
    assert str(caught.value) == f"address: expected a port 1..65535 after the colon, got {address!r}"


def test_a_reader_hold_window_that_is_nan() -> None:
    with pytest.raises(ConfigurationError, match=r"^hold_window must be >= 0 seconds, got nan$"):
        HexLineReader(port="/dev/ttyUSB0", hold_window=float("nan"))
