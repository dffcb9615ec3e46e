"""Simulated serial RFID readers: a pseudo-terminal that speaks a real reader's protocol.

The driver under test opens :attr:`PtyCardReader.path` exactly as it would open ``/dev/ttyUSB0``.
Three protocols, chosen by name (``hwsim run --reader-protocol``):

- ``hexline``: the UID as upper-case hex digits and CR LF, repeated while the card is held;
- ``rdm6300``: 125 kHz EM4100 module frames, STX, 10 hex digits (5 data bytes), 2 hex digits of
  XOR checksum, ETX, repeated while the tag is held; UIDs are 5 bytes;
- ``pn532``: an NXP PN532 on its UART (HSU): it answers the host's command frames with an ACK and a
  response; InListPassiveTarget reports the card in the field while one is held.

The frame formats are written out here from the modules' data sheets on purpose rather than imported
from ``hal``: a simulator that shared the driver's framing code could not catch the driver's bugs.
"""

from __future__ import annotations

import asyncio
import functools
import operator
from pathlib import Path

from hwsim.pty import PtyLine

PROTOCOLS = ("hexline", "rdm6300", "pn532")

#: What a hex-line module sends after the hex digits.
TERMINATOR = b"\r\n"


def hex_frame(uid: bytes) -> bytes:
    """The frame a hex-line reader sends for ``uid``: upper-case hex digits, CR LF."""
    return uid.hex().upper().encode("ascii") + TERMINATOR


def rdm6300_frame(uid: bytes) -> bytes:
    """The frame an RDM6300 sends for a 5-byte EM4100 tag id."""
    if len(uid) != 5:
        raise ValueError(f"an EM4100 tag id is 5 bytes, got {len(uid)}")
    checksum = functools.reduce(operator.xor, uid, 0)
    return b"\x02" + uid.hex().upper().encode("ascii") + b"%02X" % checksum + b"\x03"


# -- PN532 (UM0701-02: section 6.2.1 frames, 7.2 commands) ------------------------------------------

PN532_ACK = bytes.fromhex("0000FF00FF00")
PN532_ERROR = bytes.fromhex("0000FF01FF7F8100")
PN532_FIRMWARE = bytes([0x32, 0x01, 0x06, 0x07])  # IC PN532, version 1.6, supports ISO A/B and 18092


def pn532_frame(data: bytes) -> bytes:
    """A normal information frame from the PN532 (``data`` starts with TFI 0xD5)."""
    n = len(data)
    return bytes([0x00, 0x00, 0xFF, n, (0x100 - n) & 0xFF]) + data + bytes([(0x100 - sum(data)) & 0xFF, 0x00])


def pn532_target(uid: bytes) -> bytes:
    """InListPassiveTarget's answer for one ISO 14443A card (SENS_RES / SEL_RES of a MIFARE card)."""
    sens_res = b"\x00\x04" if len(uid) == 4 else b"\x00\x44"
    return bytes([0x01, 0x01]) + sens_res + b"\x08" + bytes([len(uid)]) + uid


class PtyCardReader:
    """A card reader at the wire: a :class:`~hwsim.pty.PtyLine` whose slave the driver opens.

    Build it inside a running loop. While the reader is plugged its line stays open at both ends (see
    :class:`~hwsim.pty.PtyLine`). :meth:`unplug` closes the line (the driver's reads fail, as with a
    USB adapter pulled out) and removes ``link``; :meth:`replug` makes a new line and points ``link``
    at it, as udev does with a ``/dev/serial/by-id`` name. What the host writes is answered by a
    PN532 and ignored by the modules that only send.
    """

    def __init__(self, protocol: str = "hexline", *, link: str | Path | None = None) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown reader protocol {protocol!r}; expected one of: {', '.join(PROTOCOLS)}")
        self.protocol = protocol
        self._link = link
        self._received = bytearray()
        self._closed = False
        #: Frames written (including raw writes), for tests and the control interface.
        self.frames_sent = 0
        #: PN532: commands answered; the card in the field (None: none); garble the next response.
        self.commands = 0
        self.card: bytes | None = None
        self.garble_next = False
        self._plug()

    @property
    def path(self) -> str:
        """What a driver should open: the link if there is one, else the pty itself."""
        return self._line.path

    @property
    def port(self) -> str:
        """The pty itself (the latest one, once unplugged)."""
        return self._line.port

    @property
    def plugged(self) -> bool:
        return not self._line.closed

    # -- the outside world ------------------------------------------------------------------------

    async def present(self, uid: bytes, hold: float = 0.5, repeat_every: float = 0.2) -> None:
        """Hold card ``uid`` on the reader for ``hold`` seconds. Returns when the card is taken away.

        Hex-line and RDM6300 modules send the first frame at once and repeat it every
        ``repeat_every`` seconds while the card is held; a PN532 reports it whenever polled.
        """
        if repeat_every <= 0:
            raise ValueError("repeat_every must be > 0")
        loop = asyncio.get_running_loop()
        start = loop.time()
        if self.protocol == "pn532":
            self.card = uid
            try:
                await asyncio.sleep(hold)
            finally:
                if self.card == uid:
                    self.card = None
            return
        frame = hex_frame(uid) if self.protocol == "hexline" else rdm6300_frame(uid)
        n = 0
        while True:
            if self.plugged:
                self.write_raw(frame)
            n += 1
            # Schedule from the start time, not from "now", so the cadence does not drift.
            due = start + n * repeat_every
            if due >= start + hold:
                break
            await asyncio.sleep(max(0.0, due - loop.time()))

    def write_raw(self, data: bytes) -> None:
        """Put bytes on the wire as they are: for garbled frames, noise, partial lines."""
        if not self.plugged:
            raise RuntimeError("PtyCardReader is unplugged")
        self.frames_sent += 1
        self._line.write(data)

    def unplug(self) -> None:
        """Pull the reader out: its pty goes away (the driver's reads fail) and so does ``link``."""
        self._line.close()
        self._received.clear()

    def replug(self) -> None:
        """Plug the reader back in: a new pty, and ``link`` pointing at it."""
        if self._closed:
            raise RuntimeError("PtyCardReader is closed")
        if not self.plugged:
            self._plug()

    def close(self) -> None:
        """Unplug for good."""
        self.unplug()
        self._closed = True

    # -- internals --------------------------------------------------------------------------------

    def _plug(self) -> None:
        self._line = PtyLine(self._on_data, link=self._link)

    def _on_data(self, data: bytes) -> None:
        if self.protocol != "pn532":
            return  # hex-line and RDM6300 modules only send: their receive line goes nowhere
        self._received += data
        while (command := self._take_command()) is not None:
            self._answer(command)

    def _take_command(self) -> bytes | None:
        """The next host command frame's data (TFI onwards), skipping wake-up bytes and garbage."""
        buf = self._received
        while True:
            start = buf.find(b"\x00\xff")
            if start < 0:
                del buf[: max(0, len(buf) - 1)]
                return None
            del buf[:start]
            if len(buf) < 4:
                return None
            n, lcs = buf[2], buf[3]
            if n == 0 and lcs == 0xFF:  # an ACK from the host (abort): nothing to answer
                del buf[:4]
                continue
            if (n + lcs) & 0xFF or len(buf) >= 5 and buf[4] != 0xD4:
                del buf[:2]
                continue
            if len(buf) < 4 + n + 1:
                return None
            data, dcs = bytes(buf[4 : 4 + n]), buf[4 + n]
            del buf[: 4 + n + 1]
            if (sum(data) + dcs) & 0xFF == 0:
                return data
            # A bad checksum: a real PN532 answers with a NACK; the host's retry is its own business.
            self.write_raw(bytes.fromhex("0000FFFF0000"))

    def _answer(self, data: bytes) -> None:
        self.commands += 1
        command, params = data[1], data[2:]
        if command == 0x02:  # GetFirmwareVersion
            response = PN532_FIRMWARE
        elif command in (0x14, 0x32):  # SAMConfiguration, RFConfiguration
            response = b""
        elif command == 0x4A and params[:2] == b"\x01\x00":  # InListPassiveTarget, 1 target, 106 kbps A
            response = pn532_target(self.card) if self.card is not None else b"\x00"
        else:
            self.write_raw(PN532_ACK + PN532_ERROR)
            return
        frame = pn532_frame(bytes([0xD5, command + 1]) + response)
        if self.garble_next:
            self.garble_next = False
            frame = frame[:-2] + bytes([frame[-2] ^ 0x5A]) + frame[-1:]  # a wrong DCS
        self.write_raw(PN532_ACK + frame)
