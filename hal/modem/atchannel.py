"""The AT command channel of a modem's serial port (ITU-T V.250, 3GPP TS 27.007 / 27.005).

One port carries both the answers to the host's commands and the modem's unsolicited result codes
(URCs, such as ``+CMTI`` for a new short message), which may arrive at any time, even between the
lines of an answer. :class:`AtChannel` reads every line, routes the URCs it knows to
:meth:`AtChannel.indication` and the rest to the command in flight, and runs one command at a time.

An answer ends with a final result code: ``OK``, ``ERROR``, ``+CME ERROR: <n>`` or
``+CMS ERROR: <n>`` (V.250 5.7.1, 27.007 9.2, 27.005 3.2.5). Lines that arrive while no command is
in flight (a late answer to a command that timed out) are dropped, never taken for the next one's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import serial
import serial_asyncio_fast

from hal.checks import check_baudrate
from hal.errors import DeviceTimeout, DeviceUnavailable, HalError
from hal.tasks import cancel_and_wait

log = logging.getLogger(__name__)

#: URC prefixes routed to :meth:`AtChannel.indication` (27.005 3.4.1: a new message in storage).
URC_PREFIXES = ("+CMTI:",)
#: The longest line kept; a modem babbling without line ends is cut here, so memory stays bounded.
MAX_LINE = 4096
#: URCs kept while nobody takes them; older ones are dropped (the next listing finds their messages).
MAX_INDICATIONS = 64


class AtCommandError(HalError, RuntimeError):
    """The modem answered ``ERROR`` (``code`` None) or ``+CME/+CMS ERROR: <code>``."""

    def __init__(self, command: str, answer: str) -> None:
        super().__init__(f"modem answered {answer!r} to {command}")
        self.answer = answer
        _, _, number = answer.partition(":")
        self.code = int(number) if number.strip().isdigit() else None


def _final(line: str) -> bool:
    return line in ("OK", "ERROR") or line.startswith(("+CME ERROR:", "+CMS ERROR:"))


class AtChannel:
    """A modem's AT port: ``await open()``, then :meth:`command` and :meth:`indication`.

    ``port`` and ``baudrate`` as for pyserial (8N1). A port that cannot be opened, reaches EOF or
    fails raises :class:`DeviceUnavailable`; an answer that does not come within the command's
    timeout raises :class:`DeviceTimeout`.
    """

    def __init__(self, port: str, baudrate: int, name: str = "modem") -> None:
        self.port = port
        check_baudrate(baudrate)
        self.baudrate = baudrate
        self.name = name
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._sent = ""  # the command in flight, to drop its echo (a modem reset turns echo back on)
        self._answer: list[str] | None = None  # lines of the command in flight
        self._done: asyncio.Future[str] | None = None  # its final result code
        self._indications: asyncio.Queue[str] = asyncio.Queue(MAX_INDICATIONS)
        self._lost: DeviceUnavailable | None = None

    @property
    def is_open(self) -> bool:
        return self._writer is not None

    async def open(self) -> None:
        if self._writer is not None:
            return
        try:
            reader, self._writer = await serial_asyncio_fast.open_serial_connection(
                url=self.port, baudrate=self.baudrate
            )
        except (OSError, serial.SerialException, ValueError) as err:
            raise DeviceUnavailable(f"{self.name}: cannot open {self.port}: {err}") from err
        self._lost = None
        while not self._indications.empty():
            self._indications.get_nowait()
        self._reading = asyncio.create_task(self._read_lines(reader), name=f"{self.name}-at-reader")

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        reading, self._reading = self._reading, None
        await cancel_and_wait(reading)
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, serial.SerialException):
                await writer.wait_closed()  # a dead adapter must not make closing fail

    async def command(self, text: str, timeout: float) -> list[str]:
        """Send ``AT...`` ``text`` and return the lines of its answer before ``OK`` (blank lines inside
        kept, for message texts). Raises :class:`AtCommandError` for an error result code."""
        async with self._lock:
            if self._writer is None:
                raise self._lost or DeviceUnavailable(f"{self.name} is not open")
            loop = asyncio.get_running_loop()
            self._sent, self._answer, self._done = text, [], loop.create_future()
            try:
                self._writer.write(text.encode("ascii") + b"\r")  # S3, the command line terminator
                await self._writer.drain()
                async with asyncio.timeout(timeout):
                    final = await self._done
            except TimeoutError as err:
                raise DeviceTimeout(f"{self.name} did not answer {text} within {timeout} s") from err
            except (OSError, serial.SerialException) as err:
                raise DeviceUnavailable(f"{self.name} on {self.port} failed: {err}") from err
            finally:
                answer, self._answer, self._done = self._answer, None, None
        if final != "OK":
            raise AtCommandError(text, final)
        while answer and answer[-1] == "":
            answer.pop()  # and a blank line before the final result code
        return answer

    async def indication(self) -> str:
        """The next URC (a whole line such as ``+CMTI: "SM",3``). Raises :class:`DeviceUnavailable`
        if the port goes away while waiting."""
        while True:
            if not self._indications.empty():
                return self._indications.get_nowait()
            reading = self._reading
            if reading is None or reading.done():
                raise self._lost or DeviceUnavailable(f"{self.name} is not open")
            # Wait for a URC or for the reader to end (EOF, port error), whichever comes first.
            getter = asyncio.ensure_future(self._indications.get())
            try:
                await asyncio.wait({getter, reading}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not getter.done():
                    getter.cancel()
            if getter.done() and not getter.cancelled():
                return getter.result()

    async def _read_lines(self, reader: asyncio.StreamReader) -> None:
        pending = bytearray()
        try:
            while True:
                chunk = await reader.read(1024)
                if not chunk:
                    raise DeviceUnavailable(f"{self.name} on {self.port} went away (EOF)")
                pending += chunk
                *lines, rest = pending.split(b"\n")
                pending = bytearray(rest[-MAX_LINE:])
                for raw in lines:
                    self._line(raw.rstrip(b"\r").decode("utf-8", errors="replace"))
        except (OSError, serial.SerialException) as err:
            self._fail(DeviceUnavailable(f"{self.name} on {self.port} failed: {err}"))
        except DeviceUnavailable as err:
            self._fail(err)

    def _fail(self, err: DeviceUnavailable) -> None:
        self._lost = err
        if self._done is not None and not self._done.done():
            self._done.set_exception(err)

    def _line(self, line: str) -> None:
        if line.startswith(URC_PREFIXES):
            if self._indications.full():
                self._indications.get_nowait()
            self._indications.put_nowait(line)
            return
        if self._answer is None or self._done is None or self._done.done():
            if line:
                log.debug("%s: dropped a line outside any command (%d characters)", self.name, len(line))
            return
        if _final(line):
            self._done.set_result(line)
        elif line != self._sent and (line or self._answer):  # V.250 puts a blank line before an answer
            self._answer.append(line)
