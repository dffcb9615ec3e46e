"""125 kHz EM4100 readers of the RDM6300 kind (also RDM630, 7941E, many USB "ID card" modules).

The module sends, at 9600 8N1, one 14-byte frame per read and repeats it while the tag is in the
field::

    0x02 | 10 ASCII hex digits: 5 data bytes | 2 ASCII hex digits: checksum | 0x03
           (version/customer byte, 4-byte id)  (XOR of the 5 data bytes)

The UID reported is the 5 data bytes, byte 0 (the version byte) first, e.g. ``0A0016C3E9``.
"""

from __future__ import annotations

import functools
import operator
import re

from hal.rfid.serialport import SerialCardReader

STX = 0x02
ETX = 0x03
FRAME_LEN = 14  # STX + 10 + 2 + ETX

_HEX = re.compile(rb"[0-9A-Fa-f]{12}")
#: Some clones end each frame with CR LF as well; bytes between frames that are only these are
#: line noise of the module, not a garbled frame.
_IDLE = frozenset(b"\r\n")


def parse_frame(frame: bytes) -> bytes | None:
    """Decode a 14-byte frame into the 5-byte UID, or ``None`` if it is garbled. Pure, for tests."""
    if len(frame) != FRAME_LEN or frame[0] != STX or frame[-1] != ETX:
        return None
    body = frame[1:-1]
    if not _HEX.fullmatch(body):
        return None
    data = bytes.fromhex(body[:10].decode("ascii"))
    checksum = int(body[10:12], 16)
    if functools.reduce(operator.xor, data, 0) != checksum:
        return None
    return data


class Rdm6300Reader(SerialCardReader):
    """An RDM6300-style EM4100 reader (backend ``"rdm6300"``); options: those of
    :class:`SerialCardReader` (every such module runs at 9600 baud)."""

    async def _read_uid(self) -> bytes | None:
        while True:
            buf = self._buffer
            start = buf.find(STX)
            junk = buf[: len(buf) if start < 0 else start]
            if junk and not set(junk) <= _IDLE:
                # Bytes outside a frame (a lost STX, noise): one garbled frame, resynchronise on STX.
                del buf[: len(junk)]
                return None
            del buf[: len(junk)]
            if len(buf) >= FRAME_LEN:
                frame = bytes(buf[:FRAME_LEN])
                uid = parse_frame(frame)
                if uid is None:
                    # Drop only the STX: a frame whose ETX was lost may be followed at once by a
                    # good frame, which must not be swallowed with it.
                    del buf[:1]
                    self._skip_to_stx()
                    return None
                del buf[:FRAME_LEN]
                return uid
            await self._read_more()

    def _skip_to_stx(self) -> None:
        start = self._buffer.find(STX)
        del self._buffer[: len(self._buffer) if start < 0 else start]
