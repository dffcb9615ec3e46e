"""GPIO relay, lock and protection on libgpiod v2 (a fake gpiod module, see fake_gpiod), RPi.GPIO
refusing to load off a Pi, pin names checked with the config, and the sysfs pilot on a fake tree.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable
from pathlib import Path
from typing import Any

import pytest

from hal.backends import check_options, load_backend
from hal.errors import BackendUnavailable, ConfigurationError, DeviceUnavailable
from hal.events import DeviceFault, FaultKind, PilotState
from hal.gpio.devices import GpioLock, GpioProtection, GpioRelay, RpiGpioRelay
from hal.gpio.libgpiod import GpiodPins
from hal.gpio.pins import PinSpec, parse_pin
from hal.lock.base import LockFailure
from hal.pilot.sysfs import SysfsPilot, classify
from hal.relay.base import PowerSwitchFailure

from hal_helpers import Collector
from fake_gpiod import FakeGpiod

Collect = Callable[[AsyncIterable[Any]], Collector[Any]]
CHIP = "/dev/gpiochip0"


@pytest.fixture
def gpio() -> FakeGpiod:
    return FakeGpiod(CHIP)


def pins(gpio: FakeGpiod) -> GpiodPins:
    return GpiodPins("/dev", module=gpio)  # type: ignore[arg-type]


def test_pin_names() -> None:
    assert parse_pin("gpiochip0:17") == PinSpec("gpiochip0", 17, False)
    assert parse_pin("gpiochip4:RELAY_FB:active-low") == PinSpec("gpiochip4", "RELAY_FB", True)
    assert parse_pin("17:active-low") == PinSpec(None, 17, True)
    for bad in ("", "gpiochip0:", "a:b:c", "gpiochip0:17:inverted", "gpiochip0:1 7"):
        with pytest.raises(ConfigurationError, match="CHIP:LINE"):
            parse_pin(bad)


def test_pin_names_are_checked_with_the_config() -> None:
    assert check_options("relay", "gpiod", {"pin": "gpiochip0:17", "feedback_pin": "gpiochip0:27:active-low"}) == []
    problems = dict(check_options("relay", "gpiod", {"pin": "17", "feedback_pin": "x:y:z"}))
    assert "name the chip" in problems["pin"] and "CHIP:LINE" in problems["feedback_pin"]
    assert "BCM" in dict(check_options("relay", "rpigpio", {"pin": "gpiochip0:17"}))["pin"]
    assert check_options("protection", "gpiod", {"rcd_pin": "gpiochip0:5"}) == []


async def test_rpi_gpio_off_a_pi_is_backend_unavailable() -> None:
    relay = RpiGpioRelay(pin="17")
    with pytest.raises(BackendUnavailable, match="RPi.GPIO"):
        await relay.open()


async def test_relay_with_feedback_and_a_weld(gpio: FakeGpiod, collect: Collect) -> None:
    welded = False

    def aux_contact(path: str, offset: int, level: bool) -> None:  # the contactor's auxiliary contact
        if offset == 17:
            gpio.set_level(path, 27, level or welded)

    gpio.wiring.append(aux_contact)
    relay = GpioRelay(pin="gpiochip0:17", feedback_pin="gpiochip0:27", feedback_timeout=0.2, pins=pins(gpio))
    await relay.open()
    try:
        faults = collect(relay.faults())
        await relay.set(True)
        assert gpio.levels[(CHIP, 17)] is True
        await relay.set(False)
        welded = True
        await relay.set(True)
        with pytest.raises(PowerSwitchFailure, match="welded"):
            await relay.set(False)
        assert (await faults.next()).kind is FaultKind.POWER_SWITCH
        welded = False
        gpio.set_level(CHIP, 27, False)  # the weld breaks: the contact opens on its own
        assert await faults.next() == DeviceFault(FaultKind.POWER_SWITCH, active=False)
    finally:
        await relay.close()
    assert gpio.levels[(CHIP, 17)] is False and gpio.requests == []


async def test_active_low_relay_and_missing_chip(gpio: FakeGpiod) -> None:
    relay = GpioRelay(pin="gpiochip0:4:active-low", pins=pins(gpio))
    await relay.open()
    assert gpio.levels[(CHIP, 4)] is True  # open = inactive = high on an active-low line
    await relay.set(True)
    assert gpio.levels[(CHIP, 4)] is False
    await relay.close()
    with pytest.raises(DeviceUnavailable, match="gpiochip9"):
        await GpioRelay(pin="gpiochip9:4", pins=pins(gpio)).open()


async def test_motor_lock_pulses_and_a_jam(gpio: FakeGpiod, collect: Collect) -> None:
    jammed = False

    def motor(path: str, offset: int, level: bool) -> None:  # the lock's position switch follows the motor
        if level and not jammed and offset in (5, 6):
            gpio.set_level(path, 7, offset == 5)

    gpio.wiring.append(motor)
    lock = GpioLock(lock_pin="gpiochip0:5", unlock_pin="gpiochip0:6", feedback_pin="gpiochip0:7",
                    pulse=0.01, feedback_timeout=0.2, pins=pins(gpio))
    await lock.open()
    try:
        faults = collect(lock.faults())
        await lock.lock()
        assert gpio.levels[(CHIP, 7)] is True and gpio.levels[(CHIP, 5)] is False  # pulse ended
        jammed = True
        with pytest.raises(LockFailure, match="did not unlock"):
            await lock.unlock()
        assert (await faults.next()).kind is FaultKind.CONNECTOR_LOCK
        jammed = False
        await lock.unlock()
        assert not (await faults.next()).active
    finally:
        await lock.close()


async def test_protection_inputs_on_gpio(gpio: FakeGpiod, collect: Collect) -> None:
    protection = GpioProtection(rcd_pin="gpiochip0:8", overtemp_pin="gpiochip0:9:active-low", pins=pins(gpio))
    gpio.levels[(CHIP, 9)] = True  # active-low sensor, not too hot
    await protection.open()
    try:
        faults = collect(protection.faults())
        gpio.set_level(CHIP, 8, True)
        assert (await faults.next()) == DeviceFault(FaultKind.GROUND, True, "rcd input active")
        gpio.set_level(CHIP, 9, False)
        assert (await faults.next()).kind is FaultKind.HIGH_TEMPERATURE
        gpio.set_level(CHIP, 8, False)
        assert (await faults.next()) == DeviceFault(FaultKind.GROUND, active=False)
    finally:
        await protection.close()


def test_protection_needs_an_input() -> None:
    with pytest.raises(ConfigurationError, match="at least one"):
        GpioProtection()


@pytest.mark.parametrize("debounce", [-0.01, 1.5])
def test_every_gpio_device_refuses_a_debounce_out_of_range(debounce: float) -> None:
    for build in (lambda: GpioRelay(pin="gpiochip0:17", debounce=debounce),
                  lambda: GpioLock(lock_pin="gpiochip0:20", debounce=debounce),
                  lambda: GpioProtection(rcd_pin="gpiochip0:8", debounce=debounce)):
        with pytest.raises(ConfigurationError, match=r"^debounce: expected 0\.\.1 seconds, got "):
            build()


# -- sysfs pilot ------------------------------------------------------------------------------------


def test_classify_with_hysteresis() -> None:
    assert classify(11.8, None, 0.5) is PilotState.A
    assert classify(7.6, None, 0.5) is PilotState.B
    assert classify(7.4, PilotState.C, 0.5) is PilotState.C  # near the B/C boundary: kept
    assert classify(8.2, PilotState.C, 0.5) is PilotState.B
    assert classify(0.3, PilotState.C, 0.5) is PilotState.E
    assert classify(-11.5, None, 0.5) is PilotState.F


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pwm/pwmchip0/pwm1").mkdir(parents=True)
    for name in ("period", "duty_cycle", "enable"):
        (tmp_path / "pwm/pwmchip0/pwm1" / name).write_text("0")
    (tmp_path / "adc").mkdir()
    return tmp_path


def adc(tree: Path, volts: float, name: str = "in_voltage0_raw") -> None:
    # A 12-bit ADC behind a divider mapping -12..+12 V onto 0..4095 counts.
    (tree / "adc" / name).write_text(str(round((volts + 12.0) / 24.0 * 4095)))


async def test_sysfs_pilot_pwm_states_and_faults(tree: Path, collect: Collect) -> None:
    adc(tree, 12.0)
    adc(tree, -12.0, "in_voltage1_raw")
    options = {"pwm_root": str(tree / "pwm"), "pwm_chip": 0, "pwm_channel": 1,
               "adc_path": str(tree / "adc/in_voltage0_raw"), "adc_scale": 24.0 / 4095, "adc_offset": -12.0,
               "low_adc_path": str(tree / "adc/in_voltage1_raw"), "sample_interval": 0.005}
    assert check_options("pilot", "sysfs", options) == []
    pilot: SysfsPilot = load_backend("pilot", "sysfs")(**options)
    await pilot.open()
    duty = tree / "pwm/pwmchip0/pwm1/duty_cycle"
    assert (tree / "pwm/pwmchip0/pwm1/period").read_text() == "1000000"
    assert duty.read_text() == "1000000" and (tree / "pwm/pwmchip0/pwm1/enable").read_text() == "1"
    states = collect(pilot.states())
    faults = collect(pilot.faults())
    assert await states.next() is PilotState.A
    await pilot.offer(16.0)
    assert duty.read_text() == "266700"  # 26.67 % of 1 ms (16 A / 0.6 A)
    adc(tree, 9.0)
    assert await states.next() is PilotState.B
    adc(tree, 6.0)
    assert await states.next() is PilotState.C
    adc(tree, -1.0, "in_voltage1_raw")  # no diode: the low plateau is not -12 V
    fault = await faults.next()
    assert (fault.kind, fault.active) == (FaultKind.MODE3, True) and "diode" in fault.detail
    adc(tree, -12.0, "in_voltage1_raw")
    assert not (await faults.next()).active
    adc(tree, 0.0)  # pilot shorted
    assert await states.next() is PilotState.E
    assert "state E" in (await faults.next()).detail
    await pilot.set_unavailable()
    assert duty.read_text() == "0"
    await pilot.close()


async def test_sysfs_pilot_missing_pwm_channel(tree: Path) -> None:
    (tree / "pwm/pwmchip0/export").write_text("")
    pilot = SysfsPilot(pwm_root=str(tree / "pwm"), pwm_channel=3, adc_path=str(tree / "adc/x"), adc_scale=1.0)
    with pytest.raises(DeviceUnavailable, match="pwm3"):
        await pilot.open()
    assert (tree / "pwm/pwmchip0/export").read_text() == "3"
