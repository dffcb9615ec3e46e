"""GPIO pins as the devices see them: logical levels (active-low applied), edges to wait on.

A pin is named in the site config as ``"CHIP:LINE"`` with an optional ``":active-low"``:
``"gpiochip0:17"``, ``"gpiochip4:RELAY_FB:active-low"`` (libgpiod: a chip under the GPIO root or a
path, a line offset or a line name), or ``"17"`` / ``"17:active-low"`` (RPi.GPIO: a BCM number).
Backends (:mod:`hal.gpio.libgpiod`, :mod:`hal.gpio.rpigpio`) implement :class:`PinFactory`.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import re
from dataclasses import dataclass

from hal.errors import ConfigurationError
from hal.signal import Signal
from hal.tasks import cancel_and_wait

_FLAGS = {"active-low": True, "active-high": False}
_LINE = re.compile(r"[0-9]+|[A-Za-z_][A-Za-z0-9_.-]*")


@dataclass(frozen=True, slots=True)
class PinSpec:
    """A parsed pin name: ``chip`` (None for RPi.GPIO), ``line`` (offset or name), ``active_low``."""

    chip: str | None
    line: int | str
    active_low: bool = False


def parse_pin(text: str, key: str = "pin") -> PinSpec:
    """``"gpiochip0:17:active-low"`` -> PinSpec; ConfigurationError naming ``key`` if malformed."""
    parts = text.split(":")
    active_low = False
    if len(parts) > 1 and parts[-1] in _FLAGS:
        active_low = _FLAGS[parts.pop()]
    if len(parts) > 2 or not all(parts) or not _LINE.fullmatch(parts[-1]):
        raise ConfigurationError(
            f"{key}: expected \"CHIP:LINE\" or \"LINE\", optionally followed by \":active-low\" "
            f"(e.g. \"gpiochip0:17\"), got {text!r}"
        )
    line: int | str = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
    return PinSpec(parts[0] if len(parts) == 2 else None, line, active_low)


class Pin(abc.ABC):
    """One requested line. Levels are logical: True = active (after active-low inversion)."""

    @abc.abstractmethod
    def get(self) -> bool: ...

    @abc.abstractmethod
    def set(self, value: bool) -> None: ...

    @abc.abstractmethod
    async def edge(self) -> None:
        """Wait for the next (debounced) edge of an input pin."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the line. Safe to call twice."""


class PinFactory(abc.ABC):
    """Requests lines from one GPIO library."""

    @abc.abstractmethod
    def output(self, spec: PinSpec, initial: bool) -> Pin: ...

    @abc.abstractmethod
    def input(self, spec: PinSpec, debounce: float) -> Pin: ...


class PinWatch:
    """Inputs followed into :class:`Signal` values by one task per pin, until :meth:`stop`."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def follow(self, pin: Pin) -> Signal[bool]:
        signal = Signal(pin.get())
        self._tasks.append(asyncio.get_running_loop().create_task(self._run(pin, signal)))
        return signal

    @staticmethod
    async def _run(pin: Pin, signal: Signal[bool]) -> None:
        while True:
            await pin.edge()
            signal.set(pin.get())

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(*tasks)
