"""Helpers for driver tests (a module of its own: test modules import it, never a conftest)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from typing import Generic, TypeVar

T = TypeVar("T")


class Collector(Generic[T]):
    """Iterates an async iterable in the background, as the daemon does; tests wait on :meth:`next`."""

    def __init__(self, source: AsyncIterable[T]) -> None:
        self.queue: asyncio.Queue[T] = asyncio.Queue()
        self.task = asyncio.create_task(self._run(source))

    async def _run(self, source: AsyncIterable[T]) -> None:
        async for item in source:
            self.queue.put_nowait(item)

    async def next(self, timeout: float = 3.0) -> T:
        async with asyncio.timeout(timeout):
            return await self.queue.get()

    def pending(self) -> list[T]:
        out = []
        while not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out

    async def stop(self) -> None:
        """Stop iterating; an error the source ended with (a device closed under it) is the test's
        business through what it asserted, not the teardown's."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
