"""The one clock (DESIGN.md, invariants): loop time for intervals, a wall clock for OCPP timestamps.

The wall clock knows whether it has been synchronised with the Central System, whose currentTime
(BootNotification.conf, Heartbeat.conf) corrects its offset (spec 6.4, 6.16).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone


class Clock:
    """``monotonic()`` for intervals and timers; ``now()`` for timestamps on the wire.

    ``wall`` returns POSIX seconds; by default the system clock. Tests inject a wall clock driven by
    the (virtual) loop time, so hours of protocol time pass in milliseconds.
    """

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._offset = 0.0
        self.synced = False

    @staticmethod
    def monotonic() -> float:
        return asyncio.get_running_loop().time()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._wall() + self._offset, timezone.utc)

    def sync(self, central_time: datetime) -> None:
        """Adopt the Central System's time as the truth from now on."""
        self._offset = (central_time - datetime.fromtimestamp(self._wall(), timezone.utc)).total_seconds()
        self.synced = True

    @property
    def offset(self) -> timedelta:
        return timedelta(seconds=self._offset)


async def nap(seconds: float | None, wakeup: asyncio.Event) -> None:
    """Sleep ``seconds`` (None: until woken), or less when ``wakeup`` is set: a timer whose interval
    changed, or that has something new to do, starts over at once."""
    wakeup.clear()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(None if seconds is None else max(seconds, 0.0)):
            await wakeup.wait()


def loop_wall_clock(start: float) -> Callable[[], float]:
    """A wall clock that starts at POSIX time ``start`` and advances with the running loop's time."""
    origin: list[float] = []

    def wall() -> float:
        now = asyncio.get_running_loop().time()
        if not origin:
            origin.append(now)
        return start + now - origin[0]

    return wall
