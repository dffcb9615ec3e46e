"""Relay, cable lock and protection inputs on GPIO pins (backends ``gpiod`` and ``rpigpio``).

One class per device; the ``Rpi*`` subclasses only choose the RPi.GPIO library. Pins are named as
in :mod:`hal.gpio.pins` and checked when the config is checked (``check``), before any device is
touched. ``pins`` (a :class:`~hal.gpio.pins.PinFactory`) can be injected in code and tests.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from hal.errors import ConfigurationError, HalError
from hal.gpio.libgpiod import GpiodPins
from hal.gpio.pins import Pin, PinFactory, PinSpec, PinWatch, parse_pin
from hal.gpio.rpigpio import RpiGpioPins
from hal.lock.base import CableLock
from hal.protection.base import Protection
from hal.relay.base import Relay


class GpioBackend:
    """What the GPIO devices share: the pin library, the pins they were given, input watching."""

    LIBRARY: ClassVar[str] = "gpiod"
    #: Options that name pins (checked by :meth:`check`).
    PIN_OPTIONS: ClassVar[tuple[str, ...]] = ()
    INJECTED: ClassVar[tuple[str, ...]] = ("connector", "pins")

    def _setup_pins(
        self, options: dict[str, str | None], *, debounce: float, gpio_root: str, connector: int,
        pins: PinFactory | None,
    ) -> None:
        """Check and keep the options every GPIO device has; ``options`` are its pin options."""
        if not 0 <= debounce <= 1:
            raise ConfigurationError(f"debounce: expected 0..1 seconds, got {debounce!r}")
        self.debounce = debounce
        self.connector = connector
        self.gpio_root = gpio_root
        self._pins = pins
        self._inputs_watch = PinWatch()
        self._held: list[Pin] = []
        needs_chip = self.LIBRARY == "gpiod"
        self.specs: dict[str, PinSpec] = {}
        for key, text in options.items():
            if text is not None:
                spec = parse_pin(text, key)
                _check_spec(spec, key, needs_chip)
                self.specs[key] = spec

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[tuple[str, str]]:
        """Pin-name problems in a config table, as ``(key, problem)`` (used by check_options)."""
        problems = []
        for key in cls.PIN_OPTIONS:
            text = options.get(key)
            if isinstance(text, str):
                try:
                    _check_spec(parse_pin(text, key), key, cls.LIBRARY == "gpiod")
                except ConfigurationError as err:
                    problems.append((key, str(err).partition(": ")[2]))
        return problems

    def _factory(self) -> PinFactory:
        if self._pins is None:
            self._pins = GpiodPins(self.gpio_root) if self.LIBRARY == "gpiod" else RpiGpioPins()
        return self._pins

    def _output(self, key: str, initial: bool) -> Pin:
        pin = self._factory().output(self.specs[key], initial)
        self._held.append(pin)
        return pin

    def _input(self, key: str, debounce: float) -> Pin:
        pin = self._factory().input(self.specs[key], debounce)
        self._held.append(pin)
        return pin

    async def _release(self) -> None:
        await self._inputs_watch.stop()
        held, self._held = self._held, []
        for pin in held:
            pin.close()


def _check_spec(spec: PinSpec, key: str, needs_chip: bool) -> None:
    if needs_chip and spec.chip is None:
        raise ConfigurationError(f"{key}: name the chip, e.g. \"gpiochip0:{spec.line}\"")
    if not needs_chip and (spec.chip is not None or not isinstance(spec.line, int)):
        raise ConfigurationError(f"{key}: RPi.GPIO pins are BCM numbers, e.g. \"17\" or \"17:active-low\"")


class GpioRelay(GpioBackend, Relay):
    """The contactor on ``pin`` (active = closed), its auxiliary contact on ``feedback_pin``.

    Options (``[connector.relay]``): ``pin``, ``feedback_pin`` (optional; active = contact closed),
    ``feedback_timeout`` (seconds the contact may take to follow), ``debounce`` (seconds),
    ``gpio_root`` (where the gpiochip nodes are; gpiod only).
    """

    PIN_OPTIONS = ("pin", "feedback_pin")

    def __init__(
        self,
        *,
        pin: str,
        feedback_pin: str | None = None,
        feedback_timeout: float = 0.5,
        debounce: float = 0.01,
        gpio_root: str = "/dev",
        connector: int = 1,
        pins: PinFactory | None = None,
    ) -> None:
        super().__init__(feedback_timeout=feedback_timeout)
        self._setup_pins({"pin": pin, "feedback_pin": feedback_pin},
                         debounce=debounce, gpio_root=gpio_root, connector=connector, pins=pins)
        self._out: Pin | None = None

    async def _open(self) -> None:
        if self._out is not None:
            return
        self._out = self._output("pin", False)  # never closed by starting up
        self.closed = False
        if "feedback_pin" in self.specs:
            self.feedback = self._inputs_watch.follow(self._input("feedback_pin", self.debounce))

    async def _close(self) -> None:
        if self._out is not None:
            self._out.set(False)
            self._out = None
        await self._release()

    async def _write(self, closed: bool) -> None:
        if self._out is None:
            raise HalError("relay is not open")
        self._out.set(closed)


class GpioLock(GpioBackend, CableLock):
    """A cable lock: a motor driven by ``lock_pin``/``unlock_pin`` pulses, or a solenoid on ``lock_pin``.

    Options (``[connector.lock]``): ``lock_pin``; ``unlock_pin`` (optional: with it, each move is a
    ``pulse`` seconds pulse on the pin of its direction, as H-bridge motor locks need; without it,
    ``lock_pin`` is held active while locked); ``feedback_pin`` (optional; active = locked);
    ``feedback_timeout``, ``debounce``, ``gpio_root``.
    """

    PIN_OPTIONS = ("lock_pin", "unlock_pin", "feedback_pin")

    def __init__(
        self,
        *,
        lock_pin: str,
        unlock_pin: str | None = None,
        feedback_pin: str | None = None,
        pulse: float = 0.3,
        feedback_timeout: float = 1.0,
        debounce: float = 0.01,
        gpio_root: str = "/dev",
        connector: int = 1,
        pins: PinFactory | None = None,
    ) -> None:
        super().__init__(feedback_timeout=feedback_timeout)
        if not 0 < pulse <= 5:
            raise ConfigurationError(f"pulse: expected 0..5 seconds, got {pulse!r}")
        self._setup_pins({"lock_pin": lock_pin, "unlock_pin": unlock_pin, "feedback_pin": feedback_pin},
                         debounce=debounce, gpio_root=gpio_root, connector=connector, pins=pins)
        self.pulse = pulse
        self._drives: dict[bool, Pin] = {}

    async def _open(self) -> None:
        if self._drives:
            return
        self._drives[True] = self._output("lock_pin", False)
        if "unlock_pin" in self.specs:
            self._drives[False] = self._output("unlock_pin", False)
        if "feedback_pin" in self.specs:
            self.feedback = self._inputs_watch.follow(self._input("feedback_pin", self.debounce))

    async def _close(self) -> None:
        self._drives = {}
        await self._release()

    async def _drive(self, locked: bool) -> None:
        if not self._drives:
            raise HalError("cable lock is not open")
        if False not in self._drives:
            self._drives[True].set(locked)  # a solenoid: held while locked
            return
        pin = self._drives[locked]
        pin.set(True)
        try:
            await asyncio.sleep(self.pulse)  # the motor's run time, on the loop clock
        finally:
            pin.set(False)


class GpioProtection(GpioBackend, Protection):
    """RCD trip contact on ``rcd_pin`` and over-temperature input on ``overtemp_pin`` (active = fault).

    Options (``[connector.protection]``): ``rcd_pin``, ``overtemp_pin`` (each optional, at least one),
    ``debounce`` (seconds), ``gpio_root``.
    """

    PIN_OPTIONS = ("rcd_pin", "overtemp_pin")

    def __init__(
        self,
        *,
        rcd_pin: str | None = None,
        overtemp_pin: str | None = None,
        debounce: float = 0.02,
        gpio_root: str = "/dev",
        connector: int = 1,
        pins: PinFactory | None = None,
    ) -> None:
        super().__init__()
        if rcd_pin is None and overtemp_pin is None:
            raise ConfigurationError("rcd_pin / overtemp_pin: a protection table needs at least one of them")
        self._setup_pins({"rcd_pin": rcd_pin, "overtemp_pin": overtemp_pin},
                         debounce=debounce, gpio_root=gpio_root, connector=connector, pins=pins)

    async def _open(self) -> None:
        for name in ("rcd", "overtemp"):
            if f"{name}_pin" in self.specs and name not in self.inputs:
                self.inputs[name] = self._inputs_watch.follow(self._input(f"{name}_pin", self.debounce))

    async def _close(self) -> None:
        self.inputs = {}
        await self._release()


class RpiGpioRelay(GpioRelay):
    LIBRARY = "rpigpio"


class RpiGpioLock(GpioLock):
    LIBRARY = "rpigpio"


class RpiGpioProtection(GpioProtection):
    LIBRARY = "rpigpio"
