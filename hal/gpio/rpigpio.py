"""Pins through RPi.GPIO, for older Raspberry Pi images (not the Pi 5; use gpiod there).

RPi.GPIO refuses to import off a Pi (RuntimeError), so it is imported only when a pin factory is
built, and its absence is a clear :class:`BackendUnavailable`. Pins are BCM numbers. Edge callbacks
run on RPi.GPIO's own thread and are handed to the event loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import importlib
from types import ModuleType
from typing import Any

from hal.errors import BackendUnavailable
from hal.gpio.pins import Pin, PinFactory, PinSpec


def _import_rpi_gpio() -> ModuleType:
    try:
        return importlib.import_module("RPi.GPIO")
    except ImportError as err:
        raise BackendUnavailable(f"the rpigpio backend needs RPi.GPIO (pip install RPi.GPIO): {err}") from err
    except RuntimeError as err:  # "This module can only be run on a Raspberry Pi!"
        raise BackendUnavailable(f"RPi.GPIO does not work on this board ({err}); use the gpiod backend") from err


class RpiGpioPin(Pin):
    def __init__(self, gpio: Any, channel: int, active_low: bool, edges: asyncio.Event | None) -> None:
        self._gpio = gpio
        self._channel = channel
        self._active_low = active_low
        self._edges = edges
        self._closed = False

    def get(self) -> bool:
        return bool(self._gpio.input(self._channel)) != self._active_low

    def set(self, value: bool) -> None:
        self._gpio.output(self._channel, self._gpio.HIGH if value != self._active_low else self._gpio.LOW)

    async def edge(self) -> None:
        assert self._edges is not None, "edge() on an output pin"
        await self._edges.wait()
        self._edges.clear()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._edges is not None:
            self._gpio.remove_event_detect(self._channel)
        self._gpio.cleanup(self._channel)


class RpiGpioPins(PinFactory):
    def __init__(self, module: Any | None = None) -> None:
        self._gpio = module if module is not None else _import_rpi_gpio()
        self._gpio.setwarnings(False)
        self._gpio.setmode(self._gpio.BCM)

    def output(self, spec: PinSpec, initial: bool) -> Pin:
        channel = int(spec.line)
        level = self._gpio.HIGH if initial != spec.active_low else self._gpio.LOW
        self._gpio.setup(channel, self._gpio.OUT, initial=level)
        return RpiGpioPin(self._gpio, channel, spec.active_low, None)

    def input(self, spec: PinSpec, debounce: float) -> Pin:
        channel = int(spec.line)
        loop = asyncio.get_running_loop()
        edges = asyncio.Event()
        self._gpio.setup(channel, self._gpio.IN)
        self._gpio.add_event_detect(
            channel, self._gpio.BOTH, callback=lambda _ch: loop.call_soon_threadsafe(edges.set),
            bouncetime=max(1, int(debounce * 1000)),
        )
        return RpiGpioPin(self._gpio, channel, spec.active_low, edges)
