"""A modem on its serial AT port (backend ``"at"``): 3GPP TS 27.007 and 27.005 in text mode.

What it sends, and why:

- ``AT`` until answered (the modem may miss the first characters after power-up or a baud-rate
  change, V.250 5.2.1), ``ATE0`` (echo off), ``AT+CMGF=1`` (text mode, 27.005 3.2.3) and
  ``AT+CNMI=2,1,0,0,0`` (27.005 3.4.1: buffer indications while the port is busy, store each new
  message and announce it with ``+CMTI: <mem>,<index>``);
- ``AT+CMGL="ALL"`` at start (messages that arrived while the daemon was down), ``AT+CMGR=<index>``
  on each ``+CMTI``, ``AT+CMGD=<index>`` once a message is taken (so the SIM never fills up);
- ``AT+CSQ`` (27.007 8.5) for the signal, ``AT+CCID`` (or ``AT+ICCID``, the name differs between
  makers) and ``AT+CIMI`` (27.007 5.6) for the SIM's identity.

The parsers are pure functions, tested on their own.
"""

from __future__ import annotations

import asyncio
import csv
import re

from hal.errors import DeviceTimeout, DeviceUnavailable, FrameError
from hal.events import ModemIdentity, SmsReceived
from hal.modem.atchannel import AtChannel, AtCommandError
from hal.modem.base import Modem

#: ``AT`` tries before a modem counts as not answering.
SYNC_ATTEMPTS = 3
#: +CMS ERROR 321: invalid memory index (27.005 3.2.5): the slot is empty.
CMS_INVALID_INDEX = 321

_ICCID_PREFIX = re.compile(r"^\^?\+?[A-Z]*CCID:\s*")


def _fields(text: str) -> list[str]:
    """Comma-separated fields, quoted strings unquoted (a time stamp holds a comma)."""
    return next(csv.reader([text], skipinitialspace=True), [])


def _text(lines: list[str]) -> str:
    """A message's text lines; the blank line a modem puts before the final result code dropped."""
    while lines and lines[-1] == "":
        lines = lines[:-1]
    return "\n".join(lines)


def parse_listing(lines: list[str]) -> tuple[list[SmsReceived], int]:
    """``AT+CMGL`` text-mode answer -> the messages and the number of headers that were garbled.

    Each message is ``+CMGL: <index>,<stat>,<oa>,[<alpha>],[<scts>]`` then its text lines.
    """
    found: list[SmsReceived] = []
    garbled = 0
    header: list[str] | None = None
    text: list[str] = []

    def flush() -> None:
        nonlocal garbled
        if header is None:
            return
        try:
            found.append(SmsReceived(sender=header[2], text=_text(text), index=int(header[0]),
                                     sent_at=header[4] if len(header) > 4 else ""))
        except (IndexError, ValueError):
            garbled += 1

    for line in lines:
        if line.startswith("+CMGL:"):
            flush()
            header, text = _fields(line.removeprefix("+CMGL:")), []
        elif header is not None:
            text.append(line)
    flush()
    return found, garbled


def parse_message(index: int, lines: list[str]) -> SmsReceived | None:
    """``AT+CMGR`` text-mode answer: ``+CMGR: <stat>,<oa>,[<alpha>],[<scts>]`` then the text;
    ``None`` when the modem answers without a message (an empty slot)."""
    for at, line in enumerate(lines):
        if line.startswith("+CMGR:"):
            header = _fields(line.removeprefix("+CMGR:"))
            if len(header) < 2:
                raise FrameError(f"+CMGR header with {len(header)} field(s)")
            return SmsReceived(sender=header[1], text=_text(lines[at + 1:]), index=index,
                               sent_at=header[3] if len(header) > 3 else "")
    return None


def parse_indication(line: str) -> int | None:
    """``+CMTI: "SM",3`` -> 3; ``None`` for any other line."""
    if not line.startswith("+CMTI:"):
        return None
    fields = _fields(line.removeprefix("+CMTI:"))
    if len(fields) != 2 or not fields[1].strip().isdigit():
        return None
    return int(fields[1])


def parse_signal(lines: list[str]) -> tuple[int | None, int | None]:
    """``+CSQ: <rssi>,<ber>`` -> (dBm, ber class). 27.007 8.5: rssi 0..31 is -113 + 2 * rssi dBm,
    ber 0..7; 99 is "not known or not detectable" for both."""
    for line in lines:
        if line.startswith("+CSQ:"):
            fields = [f.strip() for f in line.removeprefix("+CSQ:").split(",")]
            if len(fields) != 2 or not all(f.isdigit() for f in fields):
                break
            rssi, ber = int(fields[0]), int(fields[1])
            if (rssi > 31 and rssi != 99) or (ber > 7 and ber != 99):
                break
            return (None if rssi == 99 else -113 + 2 * rssi), (None if ber == 99 else ber)
    raise FrameError(f"no signal quality in the answer to AT+CSQ ({len(lines)} line(s))")


def parse_iccid(lines: list[str]) -> str:
    """The SIM's ICCID (E.118, at most 20 digits; OCPP 7.18) from ``+CCID: ...``, ``+ICCID: ...``,
    ``^ICCID: ...`` or a bare number; a filler ``F`` some SIMs report is dropped."""
    for line in lines:
        value = _ICCID_PREFIX.sub("", line.strip()).strip('" ').rstrip("Ff")
        if value:
            if value.isdigit() and 10 <= len(value) <= 20:
                return value
            break
    raise FrameError("the modem's answer holds no ICCID of 10..20 digits")


def parse_imsi(lines: list[str]) -> str:
    """The SIM's IMSI (E.212, at most 15 digits; OCPP 7.21) from ``AT+CIMI``'s answer."""
    for line in lines:
        value = line.strip().removeprefix("+CIMI:").strip('" ')
        if value:
            if value.isdigit() and 6 <= len(value) <= 15:
                return value
            break
    raise FrameError("the modem's answer holds no IMSI of 6..15 digits")


class AtModem(Modem):
    """A modem on a serial port (backend ``"at"``), any maker's that follows 27.005 text mode.

    Options (the ``[modem]`` table): ``port`` (e.g. ``/dev/ttyUSB2``, or a stable
    ``/dev/serial/by-id/...`` name), ``baudrate`` (115200), and those of :class:`Modem`:
    ``timeout``, ``poll_interval``, ``weak_signal_dbm``, ``max_silent``, ``reopen_interval``.
    """

    def __init__(
        self, *, port: str, baudrate: int = 115200, timeout: float = 5.0, poll_interval: float = 60.0,
        weak_signal_dbm: int = -101, max_silent: int = 2, reopen_interval: float = 10.0, name: str = "modem",
    ) -> None:
        super().__init__(timeout=timeout, poll_interval=poll_interval, weak_signal_dbm=weak_signal_dbm,
                         max_silent=max_silent, reopen_interval=reopen_interval, name=name)
        self.port = port
        self._channel = AtChannel(port, baudrate, name)
        self._opening = asyncio.Lock()
        #: Message headers in a listing that could not be read (left in storage), for diagnostics.
        self.garbled_messages = 0

    def __str__(self) -> str:
        return f"{self.name} on {self.port}"

    @property
    def is_open(self) -> bool:
        return self._channel.is_open

    async def _at(self, command: str) -> list[str]:
        return await self._channel.command(command, self.timeout)

    async def _open(self) -> None:
        async with self._opening:
            if self._channel.is_open:
                return
            await self._channel.open()
            try:
                await self._initialise()
            except (DeviceTimeout, AtCommandError, DeviceUnavailable) as err:
                await self._channel.close()
                raise DeviceUnavailable(f"{self.name} on {self.port} is not answering: {err}") from err

    async def _initialise(self) -> None:
        for attempt in range(1, SYNC_ATTEMPTS + 1):
            try:
                await self._channel.command("AT", self.timeout / SYNC_ATTEMPTS)
                break
            except DeviceTimeout:
                if attempt == SYNC_ATTEMPTS:
                    raise
        for command in ("ATE0", "AT+CMGF=1", "AT+CNMI=2,1,0,0,0"):
            await self._at(command)

    async def _close(self) -> None:
        await self._channel.close()

    async def _list_messages(self) -> list[SmsReceived]:
        found, garbled = parse_listing(await self._at('AT+CMGL="ALL"'))
        self.garbled_messages += garbled
        return found

    async def _read_message(self, index: int) -> SmsReceived | None:
        try:
            return parse_message(index, await self._at(f"AT+CMGR={index}"))
        except AtCommandError as err:
            if err.code == CMS_INVALID_INDEX:
                return None
            raise

    async def _delete_message(self, index: int) -> None:
        await self._at(f"AT+CMGD={index}")

    async def _next_indication(self) -> int:
        while True:
            index = parse_indication(await self._channel.indication())
            if index is not None:
                return index

    async def _read_signal(self) -> tuple[int | None, int | None]:
        return parse_signal(await self._at("AT+CSQ"))

    async def _read_identity(self) -> ModemIdentity:
        try:
            iccid_answer = await self._at("AT+CCID")
        except AtCommandError:
            iccid_answer = await self._at("AT+ICCID")
        return ModemIdentity(iccid=parse_iccid(iccid_answer), imsi=parse_imsi(await self._at("AT+CIMI")))
