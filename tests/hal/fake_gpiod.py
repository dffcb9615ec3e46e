"""A stand-in for the ``gpiod`` v2 module: chips with lines whose physical levels the test sets.

No kernel GPIO simulator exists on these machines, so this fake plays the kernel's part: it applies
active-low, keeps output levels, and signals input edges on a real file descriptor (a pipe) so the
driver's event-loop wait is exercised as with libgpiod.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any


class Value(enum.Enum):
    INACTIVE = 0
    ACTIVE = 1


class Direction(enum.Enum):
    AS_IS = 1
    INPUT = 2
    OUTPUT = 3


class Edge(enum.Enum):
    NONE = 1
    RISING = 2
    FALLING = 3
    BOTH = 4


@dataclass
class LineSettings:
    direction: Direction = Direction.AS_IS
    edge_detection: Edge = Edge.NONE
    active_low: bool = False
    debounce_period: timedelta = timedelta()
    output_value: Value = Value.INACTIVE


class FakeRequest:
    def __init__(self, gpio: FakeGpiod, path: str, offset: int, settings: LineSettings) -> None:
        self.gpio, self.key, self.settings = gpio, (path, offset), settings
        self.offset = offset
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        self.fd = self._r
        if settings.direction is Direction.OUTPUT:
            gpio.levels[self.key] = (settings.output_value is Value.ACTIVE) != settings.active_low

    def get_value(self, offset: int) -> Value:
        return Value.ACTIVE if self.gpio.levels.get(self.key, False) != self.settings.active_low else Value.INACTIVE

    def set_value(self, offset: int, value: Value) -> None:
        self.gpio.set_level(self.key[0], offset, (value is Value.ACTIVE) != self.settings.active_low)

    def read_edge_events(self) -> list[Any]:
        try:
            return list(os.read(self._r, 4096))
        except BlockingIOError:
            return []

    def edge(self) -> None:
        if self.settings.edge_detection is not Edge.NONE:
            os.write(self._w, b"e")

    def release(self) -> None:
        self.gpio.requests.remove(self)
        os.close(self._r)
        os.close(self._w)


class FakeGpiod:
    """Use as the ``module`` of :class:`hal.gpio.libgpiod.GpiodPins`. ``chips``: existing chip paths."""

    __version__ = "2.5.0"
    LineSettings = LineSettings
    line = SimpleNamespace(Value=Value, Direction=Direction, Edge=Edge)

    def __init__(self, *chips: str) -> None:
        self.chips = set(chips)
        self.levels: dict[tuple[str, int], bool] = {}
        self.requests: list[FakeRequest] = []
        #: Called with (path, offset, level) when anything sets a level: wiring between lines.
        self.wiring: list[Any] = []

    def request_lines(self, path: str, config: dict[Any, LineSettings], consumer: str | None = None) -> FakeRequest:
        if path not in self.chips:
            raise FileNotFoundError(2, "No such file or directory")
        ((offset, settings),) = config.items()
        if not isinstance(offset, int) or offset > 63:
            raise ValueError(f"invalid line {offset!r}")
        if any(r.key == (path, offset) for r in self.requests):
            raise OSError(16, "Device or resource busy")
        request = FakeRequest(self, path, offset, settings)
        self.requests.append(request)
        return request

    def set_level(self, path: str, offset: int, level: bool) -> None:
        """A physical level changes (an output driven, or the test moving an input)."""
        if self.levels.get((path, offset), False) == level:
            return
        self.levels[(path, offset)] = level
        for request in self.requests:
            if request.key == (path, offset):
                request.edge()
        for wire in self.wiring:
            wire(path, offset, level)
