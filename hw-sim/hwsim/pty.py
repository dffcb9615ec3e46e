"""One end of a serial line for a simulated device: a pseudo-terminal whose slave a driver opens
exactly as it would open ``/dev/ttyUSB0``.

The simulator keeps both ends open, so the driver closing and reopening the port never hangs the
line up (a real USB adapter keeps its tty while plugged in). Writes never block the event loop: what
the tty cannot take now waits and goes out from ``loop.add_writer``, up to a bound, as a UART's
buffer would drop bytes nobody reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import tty
from collections.abc import Callable
from pathlib import Path

#: Unsent bytes kept while nobody reads; older ones are dropped.
MAX_PENDING = 64 * 1024


class PtyLine:
    """A raw pseudo-terminal, built inside a running loop; ``on_data`` gets what the driver writes.

    ``link``, if given, is made a symlink to the pty (a fixed path for a config file).
    """

    def __init__(self, on_data: Callable[[bytes], None], *, link: str | Path | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_data = on_data
        self.link = Path(link) if link is not None else None
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR/LF translation: the bytes arrive as written
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self._pending = bytearray()
        self._writing = False
        self.closed = False
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
            self.link.symlink_to(self.port)
        self._loop.add_reader(self._master, self._readable)

    @property
    def path(self) -> str:
        """What a driver should open: the link if there is one, else the pty itself."""
        return str(self.link) if self.link is not None else self.port

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        self._pending += data
        del self._pending[: max(0, len(self._pending) - MAX_PENDING)]
        self._flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if not self._loop.is_closed():
            self._loop.remove_reader(self._master)
            if self._writing:
                self._loop.remove_writer(self._master)
        os.close(self._master)
        os.close(self._slave)
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()

    def _readable(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except BlockingIOError:
            return
        except OSError as err:
            if err.errno != errno.EIO:
                raise
            return  # EIO: nobody has the slave open right now; nothing to read
        if data:
            self._on_data(data)

    def _flush(self) -> None:
        try:
            while self._pending:
                del self._pending[: os.write(self._master, self._pending)]
        except BlockingIOError:
            pass  # the tty's buffer is full: the rest goes when the master is writable again
        except OSError as err:
            if err.errno != errno.EIO:
                raise
            self._pending.clear()  # hung up: a UART would lose the bytes too (and no busy writer)
        if self._pending and not self._writing:
            self._loop.add_writer(self._master, self._flush)
            self._writing = True
        elif not self._pending and self._writing:
            self._loop.remove_writer(self._master)
            self._writing = False
