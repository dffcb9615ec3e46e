"""A value that changes over time and can be waited on: a feedback contact, a protection input.

Backends feed it (GPIO edge events, messages from the simulator); device bases wait on it. Waiting
is event-driven, never polled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Signal(Generic[T]):
    """The latest value of an input; :meth:`wait_for` and :meth:`changed` wake on :meth:`set`."""

    def __init__(self, value: T) -> None:
        self.value = value
        self._waiters: set[asyncio.Future[None]] = set()

    def set(self, value: T) -> None:
        """Record a new reading. Repeats of the same value wake nobody."""
        if value == self.value:
            return
        self.value = value
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def changed(self) -> T:
        """Wait for the next change and return the value then (the latest, if several came)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await waiter
        finally:
            self._waiters.discard(waiter)
        return self.value

    async def wait_for(self, predicate: Callable[[T], bool], timeout: float) -> bool:
        """Whether the value satisfies ``predicate`` now or does within ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate(self.value):
                    await self.changed()
        except TimeoutError:
            return False
        return True
