"""Serial RFID readers that print the UID as an ASCII hex line: ``04A2B3C4D5E680\\r\\n``.

Many USB/serial 13.56 MHz modules do this (often behind a CH340/CP210x/FTDI bridge). The module
repeats the line every ~100-300 ms while the card stays in the field; :class:`CardReader` folds the
repeats into one presentation.
"""

from __future__ import annotations

import re

from hal.rfid.serialport import SerialCardReader

#: A line longer than this without a newline is noise (or a wrong baud rate), not a frame.
#: The longest valid frame is 20 hex digits + CR LF; 64 leaves room for modules that pad.
MAX_LINE = 64

#: ISO/IEC 14443-3 UIDs are 4, 7 or 10 bytes; some modules report other lengths (e.g. 5-byte
#: EM4100 ids behind the same interface), so accept anything in between.
MIN_UID_BYTES = 4
MAX_UID_BYTES = 10

_HEX = re.compile(rb"[0-9A-Fa-f]+")


def parse_line(line: bytes) -> bytes | None:
    """Decode one line (terminator already removed) into a UID, or ``None`` if it is garbled.

    Kept a pure function so the frame rules can be tested without a serial port.
    """
    text = line.strip(b"\r")
    # fullmatch, not bytes.fromhex alone: fromhex accepts embedded spaces, which no reader sends.
    if not _HEX.fullmatch(text) or len(text) % 2:
        return None
    uid = bytes.fromhex(text.decode("ascii"))
    if not MIN_UID_BYTES <= len(uid) <= MAX_UID_BYTES:
        return None
    return uid


class HexLineReader(SerialCardReader):
    """A reader on a serial port that sends one hex line per frame (backend ``"hexline"``).

    Options: those of :class:`SerialCardReader`. After an overlong line, bytes are dropped up to the
    next newline: the rest of that line is the same garbage and must not be counted a second time.
    """

    async def _read_uid(self) -> bytes | None:
        while True:
            frame = self._take_line()
            if frame is not None:
                line, overlong = frame
                if overlong:
                    return None
                if not line.strip(b"\r"):
                    continue  # a bare terminator (e.g. CR LF split as LF CR) carries no frame
                return parse_line(line)
            await self._read_more()
    def _take_line(self) -> tuple[bytes, bool] | None:
        """Cut the next line off the buffer: ``(line, overlong)``, or ``None`` if none is complete."""
        while True:
            end = self._buffer.find(b"\n")
            if self._discarding:
                if end < 0:
                    self._buffer.clear()
                    return None
                del self._buffer[: end + 1]
                self._discarding = False
                continue
            if end < 0:
                if len(self._buffer) > MAX_LINE:
                    # Report it now rather than at the newline that may never come; bounded memory.
                    self._buffer.clear()
                    self._discarding = True
                    return b"", True
                return None
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            return line, len(line) > MAX_LINE
