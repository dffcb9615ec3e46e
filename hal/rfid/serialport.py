"""What serial card readers share: the port, its lifecycle, and reading/writing bytes on it.

Each protocol (hex lines, RDM6300 frames, PN532 commands) subclasses :class:`SerialCardReader` and
implements only its framing in ``_read_uid``. A port that cannot be opened, returns EOF or fails on
read/write raises :class:`hal.errors.DeviceUnavailable`, which :meth:`CardReader.cards` turns into a
``DeviceFault(READER)`` and a reopen loop.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

import serial
import serial_asyncio_fast

from hal.checks import check_baudrate
from hal.errors import DeviceUnavailable
from hal.rfid.base import CardReader


class SerialCardReader(CardReader):
    """A card reader behind a serial port (``port``, ``baudrate``; 8N1).

    Options (the ``[reader]`` table): ``port`` (device path, e.g. ``/dev/ttyUSB0`` or a stable
    ``/dev/serial/by-id/...`` name), ``baudrate`` (default: the module's, :attr:`BAUDRATE`),
    ``hold_window`` and ``reopen_interval`` (seconds, see :class:`CardReader`).
    """

    #: The baud rate the module ships with.
    BAUDRATE: ClassVar[int] = 9600

    def __init__(
        self,
        *,
        port: str,
        baudrate: int | None = None,
        hold_window: float = 1.0,
        reopen_interval: float = 1.0,
        name: str = "reader",
    ) -> None:
        super().__init__(hold_window=hold_window, reopen_interval=reopen_interval, name=name)
        self.port = port
        self.baudrate = baudrate if baudrate is not None else self.BAUDRATE
        check_baudrate(self.baudrate)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        #: Bytes read but not yet consumed by the framing.
        self._buffer = bytearray()
        #: Set by framings that must drop input up to the next frame boundary (cleared on open).
        self._discarding = False

    def __str__(self) -> str:
        return f"card reader {self.name!r} on {self.port}"

    @property
    def is_open(self) -> bool:
        return self._reader is not None

    async def _open(self) -> None:
        if self._reader is not None:
            return
        try:
            self._reader, self._writer = await serial_asyncio_fast.open_serial_connection(
                url=self.port, baudrate=self.baudrate
            )
        except (OSError, serial.SerialException, ValueError) as err:
            raise DeviceUnavailable(f"card reader {self.name!r}: cannot open {self.port}: {err}") from err
        self._buffer.clear()
        self._discarding = False
        await self._start()

    async def _start(self) -> None:
        """Called once the port is open: protocols that must initialise the module do it here."""

    async def _close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is None:
            return
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, serial.SerialException):
            pass  # the port is going away anyway; closing must not fail on a dead adapter

    async def _read_more(self) -> None:
        """Append the next chunk from the port to :attr:`_buffer`."""
        if self._reader is None:
            raise DeviceUnavailable(f"card reader {self.name!r} is not open")
        try:
            chunk = await self._reader.read(256)
        except (OSError, serial.SerialException) as err:
            raise DeviceUnavailable(f"card reader {self.name!r} on {self.port} failed: {err}") from err
        if not chunk:
            raise DeviceUnavailable(f"card reader {self.name!r} on {self.port} went away (EOF)")
        self._buffer += chunk

    async def _write(self, data: bytes) -> None:
        if self._writer is None:
            raise DeviceUnavailable(f"card reader {self.name!r} is not open")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, serial.SerialException) as err:
            raise DeviceUnavailable(f"card reader {self.name!r} on {self.port} failed: {err}") from err
