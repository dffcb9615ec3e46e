"""The contactor that switches power to the connector."""

from __future__ import annotations

import abc


class Relay(abc.ABC):
    """``set(closed)`` switches the contactor; backends implement ``_write``.

    The device lifecycle is ``connect()``/``disconnect()``, never open/close, which would read as
    switching the contact.
    """

    def __init__(self) -> None:
        self.closed = False

    async def connect(self) -> None:
        """Open the device; default: nothing to open."""

    async def disconnect(self) -> None:
        """Release the device; default: nothing to release."""

    async def set(self, closed: bool) -> None:
        await self._write(closed)
        self.closed = closed

    @abc.abstractmethod
    async def _write(self, closed: bool) -> None: ...
