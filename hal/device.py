"""The one lifecycle of every HAL device: ``open``/``close``, ``async with`` and fault reporting
(:class:`hal.faults.FaultSource`). Every device kind's base class derives from :class:`Device`."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

from hal.faults import FaultSource


class Device(FaultSource, abc.ABC):
    """Backends implement ``_open`` and ``_close``; ``close`` must be safe to call twice.

    Faults are reported through :meth:`~hal.faults.FaultSource.faults` (see that class).
    """

    async def open(self) -> None:
        """Acquire the device. Raises a :class:`hal.errors.HalError` if it cannot be reached."""
        await self._open()

    async def close(self) -> None:
        """Release the device. Safe to call twice."""
        await self._close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        await self.close()

    @abc.abstractmethod
    async def _open(self) -> None:
        """Acquire the device (see the subclass's docstring)."""

    @abc.abstractmethod
    async def _close(self) -> None:
        """Release the device (see the subclass's docstring)."""
