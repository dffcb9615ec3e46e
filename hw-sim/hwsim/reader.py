"""A simulated serial RFID reader: a pseudo-terminal that emits a hex-line reader's real frames.

The driver under test opens :attr:`PtyCardReader.port` exactly as it would open ``/dev/ttyUSB0``.
The frame format is written out here on purpose rather than imported from ``hal``: a simulator that
shared the driver's framing code could not catch the driver's framing bugs.
"""

from __future__ import annotations

import asyncio
import errno
import os
import tty

#: What a real module sends after the hex digits.
TERMINATOR = b"\r\n"

#: A UART FIFO/tty buffer is finite: when nobody reads, a real reader's frames are lost. Keep at most
#: this many unsent bytes so an unread simulator never grows without bound.
MAX_PENDING = 64 * 1024


def hex_frame(uid: bytes) -> bytes:
    """The frame a hex-line reader sends for ``uid``: upper-case hex digits, CR LF."""
    return uid.hex().upper().encode("ascii") + TERMINATOR


class PtyCardReader:
    """A card reader at the wire: write frames into a pty, the driver reads the other side.

    Both ends of the pty stay open for the object's lifetime: the master is where frames are written;
    the slave is kept open too so that the driver closing and re-opening :attr:`port` never hangs the
    line up (a real USB reader keeps its tty while plugged in). Writes never block the event loop:
    what the tty cannot take now is queued and flushed from ``loop.add_writer``.
    """

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        # Raw mode: no echo, no CR/LF translation, no line editing; the bytes arrive as written.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.port: str = os.ttyname(self._slave)
        self._pending = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        #: Frames written (including raw writes), for tests and the control interface.
        self.frames_sent = 0

    async def present(self, uid: bytes, hold: float = 0.5, repeat_every: float = 0.2) -> None:
        """Hold card ``uid`` on the reader for ``hold`` seconds, repeating its frame like a real module.

        The first frame goes out at once, then one every ``repeat_every`` seconds while the card is
        held. Returns when the card is taken away.
        """
        if repeat_every <= 0:
            raise ValueError("repeat_every must be > 0")
        loop = asyncio.get_running_loop()
        start = loop.time()
        frame = hex_frame(uid)
        n = 0
        while True:
            self.write_raw(frame)
            n += 1
            # Schedule from the start time, not from "now", so the cadence does not drift.
            due = start + n * repeat_every
            if due >= start + hold:
                break
            await asyncio.sleep(max(0.0, due - loop.time()))

    def write_raw(self, data: bytes) -> None:
        """Put bytes on the wire as they are: for garbled frames, noise, partial lines."""
        if self._closed:
            raise RuntimeError("PtyCardReader is closed")
        self.frames_sent += 1
        self._pending += data
        if len(self._pending) > MAX_PENDING:
            del self._pending[: len(self._pending) - MAX_PENDING]
        self._flush()

    def close(self) -> None:
        """Unplug the reader: the driver's next read fails."""
        if self._closed:
            return
        self._closed = True
        if self._loop is not None:
            self._loop.remove_writer(self._master)
            self._loop = None
        self._pending.clear()
        os.close(self._master)
        os.close(self._slave)

    def _flush(self) -> None:
        while self._pending:
            try:
                written = os.write(self._master, self._pending)
            except BlockingIOError:
                break  # tty buffer full: the rest goes out when the master is writable again
            except OSError as err:
                if err.errno != errno.EIO:
                    raise
                # EIO: the line is hung up. A real UART would just lose the bytes; so do we, rather
                # than keep a writer registered on an fd that stays "writable" (a busy loop).
                self._pending.clear()
                break
            del self._pending[:written]
        if self._pending and self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop.add_writer(self._master, self._flush)
        elif not self._pending and self._loop is not None:
            self._loop.remove_writer(self._master)
            self._loop = None
