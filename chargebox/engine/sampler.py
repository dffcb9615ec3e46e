"""Meter values on loop handles (DESIGN.md, style 10): a running transaction's samples every
MeterValueSampleInterval from its start, with its register and sign of life in the journal every
journal_interval (4.7, 6.9.1); and clock-aligned values at every ClockAlignedDataInterval boundary
from midnight (6.9.1, 1.6 3.16.2). A new interval applies at once. Each timer that fires reads the
meter in a task of the shell's and then sets the next one; what is read is recorded by the
:class:`~chargebox.engine.recorder.Recorder`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hal.events import MeterReading

from chargebox.clock import Clock
from chargebox.engine.configuration import Configuration
from chargebox.engine.hardware import Port, Timers
from chargebox.engine.metering import meter_value, next_aligned
from chargebox.engine.recorder import Recorder
from chargebox.engine.uplink import Uplink
from chargebox.ocpp.enums import ReadingContext
from chargebox.ocpp.errors import BindingError
from chargebox.ocpp.messages import MeterValuesRequest


@dataclass(slots=True)
class _Session:
    """A running transaction's sampling: from ``start`` (loop time); ``last``, the last moment due."""

    local_tx: int
    start: float
    last: float
    due: float = 0.0
    periodic: bool = False  # whether ``due`` is a MeterValueSampleInterval sample, not only the journal's
    handle: asyncio.TimerHandle | None = None


class Sampler:
    def __init__(self, *, ports: dict[int, Port], read: Callable[[Port], Awaitable[MeterReading | None]],
                 recorder: Recorder, uplink: Uplink, config: Configuration, clock: Clock, timers: Timers,
                 wake: Callable[[], None], spawn: Callable[[Awaitable[Any]], None]) -> None:
        self.ports = ports
        self._read = read
        self.recorder = recorder
        self.uplink = uplink
        self.config = config
        self.clock = clock
        self.timers = timers
        self._wake = wake
        self._spawn = spawn
        self._sessions: dict[int, _Session] = {}
        self._aligned: asyncio.TimerHandle | None = None
        self._started = False
        config.watch("ClockAlignedDataInterval", self._schedule_aligned)

    def start(self) -> None:
        self._started = True
        self._schedule_aligned()

    def stop(self) -> None:
        """Every timer cancelled (the shell stops; a read under way ends with its task)."""
        self._started = False
        for number in list(self._sessions):
            self.end(number)
        if self._aligned is not None:
            self._aligned.cancel()
            self._aligned = None

    # -- a transaction's samples (4.7) ---------------------------------------------------------

    def begin(self, number: int, local_tx: int) -> None:
        now = self.clock.monotonic()
        self._sessions[number] = session = _Session(local_tx, now, now)
        self._schedule_sample(session, number)

    def end(self, number: int) -> None:
        session = self._sessions.pop(number, None)
        if session is not None and session.handle is not None:
            session.handle.cancel()

    def _schedule_sample(self, session: _Session, number: int) -> None:
        interval = self.config.integer("MeterValueSampleInterval")  # a new value applies at once
        # The next multiple of the interval from the start; `last` guards against a timer that
        # fires a hair early and would sample the same moment twice.
        elapsed = max(self.clock.monotonic(), session.last) - session.start + 1e-6
        next_sample = (session.start + (math.floor(elapsed / interval) + 1) * interval if interval > 0
                       else math.inf)
        session.due = min(next_sample, session.last + self.timers.journal_interval)
        session.periodic = session.due == next_sample
        session.handle = asyncio.get_running_loop().call_later(
            session.due - self.clock.monotonic(), self._sample_due, session, number)

    def _sample_due(self, session: _Session, number: int) -> None:
        session.handle = None
        session.last = session.due
        self._spawn(self._sample(session, number))

    async def _sample(self, session: _Session, number: int) -> None:
        reading = await self._read(self.ports[number])
        if self._sessions.get(number) is not session:
            return  # the transaction ended meanwhile: its End sample is its own
        if reading is not None:
            self.recorder.sample(number, session.local_tx, reading, periodic=session.periodic)
            self._wake()
        self._schedule_sample(session, number)

    # -- clock-aligned values (6.9.1) ----------------------------------------------------------

    def _schedule_aligned(self, boundary: datetime | None = None) -> None:
        if self._aligned is not None:
            self._aligned.cancel()
            self._aligned = None
        interval = self.config.integer("ClockAlignedDataInterval")
        if not self._started or interval <= 0:
            return
        boundary = boundary or next_aligned(self.clock.now(), interval)
        self._aligned = asyncio.get_running_loop().call_later(
            max((boundary - self.clock.now()).total_seconds(), 0.0), self._aligned_due, boundary)

    def _aligned_due(self, boundary: datetime) -> None:
        self._aligned = None
        if self.clock.now() < boundary:  # the clock was set back meanwhile: the boundary is still ahead
            self._schedule_aligned(boundary)
            return
        self._spawn(self._aligned_all(boundary))

    async def _aligned_all(self, boundary: datetime) -> None:
        for port in self.ports.values():
            await self._aligned_sample(port, boundary)
        self._schedule_aligned()

    async def _aligned_sample(self, port: Port, boundary: datetime) -> None:
        """The reading taken for ``boundary``: it carries the boundary itself as its time, not the
        moment the meter answered (1.6 3.16.2: readings at clock-aligned times; 1.5 6.9.1)."""
        reading = await self._read(port)
        if reading is None:
            return
        start, port.aligned_from = port.aligned_from, reading
        if port.local_tx is not None:
            self.recorder.aligned(port.machine.number, port.local_tx, reading, start, boundary)
            self._wake()
            return
        # Outside a transaction the values are not transaction messages: sent when online, else dropped.
        value = meter_value(reading, self.config.measurands("MeterValuesAlignedData"), ReadingContext.SAMPLE_CLOCK,
                            boundary, start, per_phase=self.config.version != "1.5",
                            offered=port.hardware.pilot.offered)
        if value is not None and self.uplink.booted.is_set() and self.uplink.online:
            with contextlib.suppress(BindingError):
                await self.uplink.send(MeterValuesRequest(connector_id=port.machine.number, values=[value]))
