"""Pins through libgpiod v2 (the ``gpiod`` Python bindings >= 2): every Linux board, Raspberry Pi 5
included. Lines are requested from ``<gpio_root>/<chip>``; inputs use the kernel's edge detection
and debouncing, and edges are waited for on the request's file descriptor (no polling).
"""

from __future__ import annotations

import asyncio
import importlib
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from hal.errors import BackendUnavailable, ConfigurationError, DeviceUnavailable
from hal.gpio.pins import Pin, PinFactory, PinSpec

CONSUMER = "chargebox"


def _import_gpiod() -> ModuleType:
    try:
        module = importlib.import_module("gpiod")
    except ImportError as err:
        raise BackendUnavailable(f"the gpiod backend needs the gpiod (libgpiod v2) bindings: {err}") from err
    version = str(getattr(module, "__version__", "0"))
    if int(version.split(".")[0] or 0) < 2:
        raise BackendUnavailable(f"the gpiod backend needs gpiod >= 2 (the v2 API), found {version}")
    return module


class GpiodPin(Pin):
    def __init__(self, request: Any, spec: PinSpec, gpiod: ModuleType) -> None:
        self._request = request
        self._line = spec.line
        self._gpiod = gpiod

    def get(self) -> bool:
        return bool(self._request.get_value(self._line) == self._gpiod.line.Value.ACTIVE)

    def set(self, value: bool) -> None:
        v = self._gpiod.line.Value
        self._request.set_value(self._line, v.ACTIVE if value else v.INACTIVE)

    async def edge(self) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        fd = self._request.fd

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, wake)
        try:
            await ready
        finally:
            loop.remove_reader(fd)
        self._request.read_edge_events()  # drain: the level is read with get()

    def close(self) -> None:
        request, self._request = self._request, None
        if request is not None:
            request.release()


class GpiodPins(PinFactory):
    """Pins on ``<gpio_root>/<chip>``; ``module`` replaces the ``gpiod`` module (tests)."""

    def __init__(self, gpio_root: str = "/dev", module: ModuleType | None = None) -> None:
        self.root = Path(gpio_root)
        self._gpiod = module if module is not None else _import_gpiod()

    def output(self, spec: PinSpec, initial: bool) -> Pin:
        g = self._gpiod
        value = g.line.Value.ACTIVE if initial else g.line.Value.INACTIVE
        settings = g.LineSettings(direction=g.line.Direction.OUTPUT, active_low=spec.active_low, output_value=value)
        return GpiodPin(self._request(spec, settings), spec, g)

    def input(self, spec: PinSpec, debounce: float) -> Pin:
        g = self._gpiod
        settings = g.LineSettings(
            direction=g.line.Direction.INPUT,
            active_low=spec.active_low,
            edge_detection=g.line.Edge.BOTH,
            debounce_period=timedelta(seconds=debounce),
        )
        return GpiodPin(self._request(spec, settings), spec, g)

    def _request(self, spec: PinSpec, settings: Any) -> Any:
        assert spec.chip is not None  # check() was called by the device
        path = Path(spec.chip) if "/" in spec.chip else self.root / spec.chip
        try:
            return self._gpiod.request_lines(str(path), consumer=CONSUMER, config={spec.line: settings})
        except (FileNotFoundError, PermissionError) as err:
            raise DeviceUnavailable(f"GPIO chip {path}: {err.strerror or err}") from err
        except (ValueError, OSError) as err:
            raise ConfigurationError(f"GPIO line {spec.line!r} on {path}: {err}") from err
