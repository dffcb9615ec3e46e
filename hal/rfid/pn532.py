"""NXP PN532 over its UART (HSU) interface, polled for ISO/IEC 14443 type A cards.

The PN532 only speaks when spoken to (PN532 User Manual UM0701-02, section 6.2): the host sends a
command frame, the PN532 answers with an ACK frame and then a response frame::

    normal frame  00 00 FF | LEN | LCS | TFI PD0..PDn | DCS | 00
                  LEN = len(TFI + PD), LCS: LEN + LCS = 0 (mod 256),
                  TFI = D4 (host to PN532) or D5 (PN532 to host), DCS: sum(TFI, PD...) + DCS = 0
    ACK frame     00 00 FF 00 FF 00
    error frame   00 00 FF 01 FF 7F 81 00  (application-level error)

In HSU mode the PN532 sleeps until woken by a long preamble (0x55 0x55 then zeros, UM0701-02 section
7.2.11 "HSU wake up condition"), after which the first command must be SAMConfiguration (normal mode).
RFConfiguration(MaxRetries) makes InListPassiveTarget give up after a few tries instead of waiting
for a card for ever, so the driver can poll: InListPassiveTarget(MaxTg=1, 106 kbps type A) every
``poll_interval`` seconds; a response with one target carries the card's NFCID1 (the UID).
"""

from __future__ import annotations

import asyncio

from hal.errors import ConfigurationError, DeviceTimeout, DeviceUnavailable, FrameError
from hal.rfid.serialport import SerialCardReader

HOST_TO_PN532 = 0xD4
PN532_TO_HOST = 0xD5
ACK = bytes.fromhex("0000FF00FF00")
WAKEUP = b"\x55\x55" + bytes(14)

GET_FIRMWARE_VERSION = 0x02
SAM_CONFIGURATION = 0x14
RF_CONFIGURATION = 0x32
IN_LIST_PASSIVE_TARGET = 0x4A

#: GetFirmwareVersion's IC byte for a PN532 (UM0701-02 section 7.2.2).
IC_PN532 = 0x32

_START = b"\x00\xff"


def command_frame(command: int, params: bytes = b"") -> bytes:
    """The normal information frame carrying ``command`` from the host."""
    data = bytes([HOST_TO_PN532, command]) + params
    length = len(data)
    return b"\x00\x00\xff" + bytes([length, (-length) & 0xFF]) + data + bytes([(-sum(data)) & 0xFF, 0x00])


def take_frame(buf: bytearray) -> bytes | None:
    """Cut the next frame off ``buf``: ``b""`` for an ACK, the data (TFI...) of a normal frame, or
    ``None`` if no complete frame is there yet. Raises :class:`FrameError` for a frame with a bad
    checksum (which it removes from ``buf``). Pure, for tests.
    """
    start = buf.find(_START)
    if start < 0:
        # Keep a trailing 0x00: it may be the first byte of the next start code.
        del buf[: max(0, len(buf) - 1)]
        return None
    del buf[:start]
    if len(buf) < 4:
        return None
    length, lcs = buf[2], buf[3]
    if length == 0 and lcs == 0xFF:  # ACK
        del buf[:4]
        return b""
    if (length + lcs) & 0xFF:
        del buf[:2]
        raise FrameError(f"PN532 frame length checksum is wrong (LEN {length:#04x}, LCS {lcs:#04x})")
    if len(buf) < 4 + length + 1:
        return None
    data = bytes(buf[4 : 4 + length])
    dcs = buf[4 + length]
    del buf[: 4 + length + 1]
    if (sum(data) + dcs) & 0xFF:
        raise FrameError("PN532 frame data checksum is wrong")
    return data


class Pn532Reader(SerialCardReader):
    """A PN532 on a UART (backend ``"pn532"``), polled for ISO 14443A cards.

    Options (the ``[reader]`` table): ``port``, ``baudrate`` (115200 is the HSU default),
    ``poll_interval`` (seconds between two polls; the hold window must be longer), ``timeout``
    (seconds to wait for the ACK and for the response), ``max_silent`` (unanswered commands in a
    row after which the reader counts as gone), ``hold_window`` and ``reopen_interval``.

    A response with a bad checksum is a garbled frame (dropped, counted, next poll). A PN532 that
    stops answering ``max_silent`` times in a row raises :class:`DeviceUnavailable`, so
    :meth:`cards` reports the reader lost and reopens (and re-initialises) it until it answers.
    """

    BAUDRATE = 115200  # the HSU default (UM0701-02 section 6.2.3)

    def __init__(
        self,
        *,
        port: str,
        baudrate: int | None = None,
        poll_interval: float = 0.2,
        timeout: float = 0.5,
        max_silent: int = 3,
        hold_window: float = 1.0,
        reopen_interval: float = 1.0,
        name: str = "reader",
    ) -> None:
        super().__init__(
            port=port, baudrate=baudrate, hold_window=hold_window, reopen_interval=reopen_interval, name=name
        )
        if not poll_interval > 0:
            raise ConfigurationError(f"poll_interval must be > 0 seconds, got {poll_interval!r}")
        if not poll_interval < hold_window:
            raise ConfigurationError(
                f"poll_interval ({poll_interval} s) must be shorter than hold_window ({hold_window} s), "
                "or a held card would be seen as presented again at every poll"
            )
        if not timeout > 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, got {timeout!r}")
        if max_silent < 1:
            raise ConfigurationError(f"max_silent must be >= 1, got {max_silent!r}")
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.max_silent = max_silent
        #: Firmware version (IC, Ver, Rev, Support) read at start-up.
        self.firmware: bytes = b""
        self._silent = 0
        self._polled = False

    async def _start(self) -> None:
        """Wake the module and configure it; a module that does not answer is not there."""
        self._silent = 0
        self._polled = False
        try:
            await self._write(WAKEUP)
            await self._command(SAM_CONFIGURATION, bytes([0x01, 0x14, 0x01]))  # normal mode, 1 s, IRQ
            self.firmware = await self._command(GET_FIRMWARE_VERSION)
            # MaxRetries: MxRtyATR 0xFF, MxRtyPSL 1, MxRtyPassiveActivation 2 (UM0701-02 7.3.1 item 5).
            await self._command(RF_CONFIGURATION, bytes([0x05, 0xFF, 0x01, 0x02]))
        except (DeviceTimeout, FrameError) as err:
            await self._close()
            raise DeviceUnavailable(f"card reader {self.name!r} on {self.port}: PN532 not answering: {err}") from err
        if self.firmware[:1] != bytes([IC_PN532]):
            await self._close()
            raise DeviceUnavailable(
                f"card reader {self.name!r} on {self.port}: not a PN532 (firmware {self.firmware.hex()})"
            )

    async def _read_uid(self) -> bytes | None:
        while True:
            if self._polled:
                await asyncio.sleep(self.poll_interval)  # the poll period, on the loop clock
            self._polled = True
            try:
                answer = await self._command(IN_LIST_PASSIVE_TARGET, bytes([0x01, 0x00]))  # 1 target, 106A
            except FrameError:
                return None
            except DeviceTimeout as err:
                self._silent += 1
                if self._silent >= self.max_silent:
                    raise DeviceUnavailable(
                        f"card reader {self.name!r} on {self.port}: PN532 did not answer "
                        f"{self._silent} polls in a row ({err})"
                    ) from err
                continue
            self._silent = 0
            if answer[:1] == b"\x00":
                continue  # NbTg = 0: no card in the field
            return uid_of_target(answer)

    async def _command(self, command: int, params: bytes = b"") -> bytes:
        """Send a command; wait for its ACK and its response; return the response's parameters.

        Raises :class:`DeviceTimeout` when either does not come within ``timeout`` and
        :class:`FrameError` for a garbled or unexpected frame; both leave the input buffer empty, so
        a late answer is never taken for the answer to the next command.
        """
        await self._write(command_frame(command, params))
        try:
            ack = await self._frame_within(f"the ACK to command {command:#04x}")
            if ack != b"":
                raise FrameError(f"PN532 answered command {command:#04x} without an ACK")
            response = await self._frame_within(f"the response to command {command:#04x}")
        except (DeviceTimeout, FrameError):
            self._buffer.clear()
            raise
        if response[:1] == b"\x7f":
            self._buffer.clear()
            raise FrameError(f"PN532 reported an application error for command {command:#04x}")
        if response[:2] != bytes([PN532_TO_HOST, command + 1]):
            self._buffer.clear()
            raise FrameError(f"PN532 answered command {command:#04x} with {response[:2].hex()}")
        return response[2:]

    async def _frame_within(self, what: str) -> bytes:
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    frame = take_frame(self._buffer)
                    if frame is not None:
                        return frame
                    await self._read_more()
        except TimeoutError as err:
            raise DeviceTimeout(f"PN532 sent no {what} within {self.timeout} s") from err


def uid_of_target(answer: bytes) -> bytes | None:
    """The NFCID1 of InListPassiveTarget's first target, or ``None`` if the answer is malformed.

    106 kbps type A target data (UM0701-02 section 7.3.5): NbTg, Tg, SENS_RES (2), SEL_RES (1),
    NFCIDLength, NFCID1..., then ATS for ISO 14443-4 cards (ignored here).
    """
    if len(answer) < 6:
        return None
    length = answer[5]
    uid = answer[6 : 6 + length]
    if length not in (4, 7, 10) or len(uid) != length:
        return None
    return uid
