"""A modem on its serial AT port (backend ``"at"``): 3GPP TS 27.007 and 27.005 in text mode.

What it sends, and why:

- ``AT`` until answered (the modem may miss the first characters after power-up or a baud-rate
  change, V.250 5.2.1), ``ATE0`` (echo off), ``AT+CMGF=1`` (text mode, 27.005 3.2.3),
  ``AT+CPMS=?`` and ``AT+CPMS="ME","ME","ME"`` (27.005 3.2.2: one storage, ``"ME"`` where the modem
  offers it, else ``"SM"``, for reading, writing and new messages: a modem may come reading the SIM
  while it stores new messages in its own memory, and then ``AT+CMGR`` never finds what ``+CMTI``
  announced) and ``AT+CNMI=2,1,0,0,0`` (27.005 3.4.1: buffer indications while the port is busy,
  store each new message and announce it with ``+CMTI: <mem>,<index>``);
- ``AT+CMGL="ALL"`` in each of ``"SM"`` and ``"ME"`` at start (messages that arrived while the
  daemon was down, wherever the modem put them), ``AT+CMGR=<index>`` on each ``+CMTI`` in the
  storage it names (selected with ``AT+CPMS="<mem>"`` first where it is not the one selected),
  ``AT+CMGD=<index>`` once a message is taken (so the storage never fills up). Only received
  messages (``"REC UNREAD"``, ``"REC READ"``, 27.005 3.1 <stat>) are taken: the modem's stored
  outgoing ones (``"STO SENT"``, ``"STO UNSENT"``) are neither acted on nor deleted;
- ``AT+CSQ`` (27.007 8.5) for the signal; for the SIM's identity ``AT+CGMI`` (27.007 5.1, the
  maker), then the maker's ICCID command (``AT+QCCID`` for Quectel, else ``AT+CCID`` or
  ``AT+ICCID``: no standard command reads it) and ``AT+CIMI`` (27.007 5.6).

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

#: The storages for short messages (27.005 3.2.2 <mem>), the preferred one for new messages first:
#: the modem's own memory, then the (U)SIM's. "MT" (both at once, indices the maker's), "BM"
#: (broadcasts) and "SR" (status reports) are never chosen nor listed.
MESSAGE_STORAGES = ("ME", "SM")
#: <stat> of received messages in text mode (27.005 3.1); "STO UNSENT" and "STO SENT" are the
#: modem's own outgoing messages, never one for the box.
RECEIVED = ("REC UNREAD", "REC READ")
#: The ICCID commands of makers whose firmware lacks the usual ones, by a word of their AT+CGMI.
ICCID_COMMANDS = {"quectel": ("AT+QCCID",)}
#: The ICCID commands to try for any other maker, in order.
DEFAULT_ICCID_COMMANDS = ("AT+CCID", "AT+ICCID")

_ICCID_PREFIX = re.compile(r"^[\^+#]?[A-Z]*CCID:\s*")
#: E.118 ICCID: 19 or 20 digits; a 19-digit one may be padded to 20 with an F (its last nibble).
_ICCID = re.compile(r"(\d{19})F?|(\d{20})", re.IGNORECASE)


def _fields(text: str) -> list[str]:
    """Comma-separated fields, quoted strings unquoted (a time stamp holds a comma)."""
    return next(csv.reader([text], skipinitialspace=True), [])


def _text(lines: list[str]) -> str:
    """A message's text lines; the blank line a modem puts before the final result code dropped."""
    while lines and lines[-1] == "":
        lines = lines[:-1]
    return "\n".join(lines)


def parse_listing(lines: list[str], storage: str = "") -> tuple[list[SmsReceived], int]:
    """``AT+CMGL`` text-mode answer from ``storage`` -> the received messages and the number of
    headers that were garbled.

    Each message is ``+CMGL: <index>,<stat>,<oa/da>,[<alpha>],[<scts>]`` then its text lines; one
    whose <stat> is not a received one (:data:`RECEIVED`) is the modem's outgoing one and left out.
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
            index, stat, sender = int(header[0]), header[1], header[2]
        except (IndexError, ValueError):
            garbled += 1
            return
        if stat in RECEIVED:
            found.append(SmsReceived(sender=sender, text=_text(text), index=index,
                                     sent_at=header[4] if len(header) > 4 else "", storage=storage))

    for line in lines:
        if line.startswith("+CMGL:"):
            flush()
            header, text = _fields(line.removeprefix("+CMGL:")), []
        elif header is not None:
            text.append(line)
    flush()
    return found, garbled


def parse_message(index: int, lines: list[str], storage: str = "") -> SmsReceived | None:
    """``AT+CMGR`` text-mode answer: ``+CMGR: <stat>,<oa>,[<alpha>],[<scts>]`` then the text;
    ``None`` when the modem answers without a message (an empty slot) or with one of its outgoing
    ones (<stat> not in :data:`RECEIVED`)."""
    for at, line in enumerate(lines):
        if line.startswith("+CMGR:"):
            header = _fields(line.removeprefix("+CMGR:"))
            if len(header) < 2:
                raise FrameError(f"+CMGR header with {len(header)} field(s)")
            if header[0] not in RECEIVED:
                return None
            return SmsReceived(sender=header[1], text=_text(lines[at + 1:]), index=index,
                               sent_at=header[3] if len(header) > 3 else "", storage=storage)
    return None


def parse_indication(line: str) -> tuple[str, int] | None:
    """``+CMTI: "SM",3`` -> ``("SM", 3)``; ``None`` for any other line (27.005 3.4.1)."""
    if not line.startswith("+CMTI:"):
        return None
    fields = _fields(line.removeprefix("+CMTI:"))
    if len(fields) != 2 or not fields[0].isalnum() or not fields[1].strip().isdigit():
        return None
    return fields[0], int(fields[1])


def parse_storage_options(lines: list[str]) -> list[list[str]]:
    """``AT+CPMS=?`` -> the storages offered for <mem1> (reading), <mem2> (writing) and <mem3>
    (new messages), 27.005 3.2.2: ``+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")``."""
    for line in lines:
        if line.startswith("+CPMS:"):
            groups = re.findall(r"\(([^)]*)\)", line)
            if groups:
                return [_fields(group) for group in groups]
            break
    raise FrameError("no list of storages in the answer to AT+CPMS=?")


def choose_storage(options: list[list[str]]) -> str:
    """The storage for reading and for new messages alike: the first of :data:`MESSAGE_STORAGES`
    that the modem offers for both."""
    receiving = options[2] if len(options) > 2 else options[0]
    for storage in MESSAGE_STORAGES:
        if storage in options[0] and storage in receiving:
            return storage
    raise FrameError(f"the modem offers no storage of {', '.join(MESSAGE_STORAGES)} both to read "
                     f"and to receive messages in (AT+CPMS=? {options})")


def parse_manufacturer(lines: list[str]) -> str:
    """``AT+CGMI``'s answer (27.007 5.1): ``Quectel``, or ``+CGMI: "..."`` on some makers'."""
    for line in lines:
        value = line.strip().removeprefix("+CGMI:").strip('" ')
        if value:
            return value
    return ""


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
    """The SIM's ICCID (E.118: 19 or 20 digits; OCPP 7.18) from ``+CCID: ...``, ``+QCCID: ...``,
    ``+ICCID: ...``, ``^ICCID: ...``, ``ICCID: ...`` or a bare number, quoted or not; the filler
    ``F`` that pads a 19-digit one is dropped."""
    for line in lines:
        value = _ICCID_PREFIX.sub("", line.strip()).strip('" ')
        if value:
            if (match := _ICCID.fullmatch(value)) is not None:
                return match.group(1) or match.group(2)
            break
    raise FrameError("the modem's answer holds no ICCID of 19 or 20 digits")


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
        #: The storage chosen for reading and new messages, and every one listed at start (it last).
        self.storage = ""
        self._listed: list[str] = []
        self._selected = ""  # <mem1> now: where AT+CMGL, AT+CMGR and AT+CMGD act ("" unknown)

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
            except (DeviceTimeout, AtCommandError, DeviceUnavailable, FrameError) as err:
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
        for command in ("ATE0", "AT+CMGF=1"):
            await self._at(command)
        options = parse_storage_options(await self._at("AT+CPMS=?"))
        storage = choose_storage(options)
        self._selected = ""
        await self._at("AT+CPMS=" + ",".join([f'"{storage}"'] * min(3, len(options))))
        self.storage = self._selected = storage
        self._listed = [m for m in MESSAGE_STORAGES if m in options[0] and m != storage] + [storage]
        await self._at("AT+CNMI=2,1,0,0,0")

    async def _close(self) -> None:
        await self._channel.close()

    async def _select(self, storage: str) -> None:
        """Make ``storage`` the one messages are read from and deleted in (<mem1>, 27.005 3.2.2);
        where new messages go (<mem3>) stays."""
        if storage != self._selected:
            self._selected = ""  # unknown until the modem says OK
            await self._at(f'AT+CPMS="{storage}"')
            self._selected = storage

    async def _list_messages(self) -> list[SmsReceived]:
        found: list[SmsReceived] = []
        for storage in self._listed:
            await self._select(storage)
            messages, garbled = parse_listing(await self._at('AT+CMGL="ALL"'), storage)
            self.garbled_messages += garbled
            found += messages
        return found

    async def _read_message(self, storage: str, index: int) -> SmsReceived | None:
        await self._select(storage)
        try:
            return parse_message(index, await self._at(f"AT+CMGR={index}"), storage)
        except AtCommandError as err:
            if err.code == CMS_INVALID_INDEX:
                return None
            raise

    async def _delete_message(self, sms: SmsReceived) -> None:
        await self._select(sms.storage)
        await self._at(f"AT+CMGD={sms.index}")

    async def _next_indication(self) -> tuple[str, int]:
        while True:
            indication = parse_indication(await self._channel.indication())
            if indication is not None:
                return indication

    async def _read_signal(self) -> tuple[int | None, int | None]:
        return parse_signal(await self._at("AT+CSQ"))

    async def _read_identity(self) -> ModemIdentity:
        try:
            maker = parse_manufacturer(await self._at("AT+CGMI")).lower()
        except AtCommandError:
            maker = ""  # unknown: the usual commands
        commands = next((c for word, c in ICCID_COMMANDS.items() if word in maker), DEFAULT_ICCID_COMMANDS)
        return ModemIdentity(iccid=parse_iccid(await self._first_answer(commands)),
                             imsi=parse_imsi(await self._at("AT+CIMI")))

    async def _first_answer(self, commands: tuple[str, ...]) -> list[str]:
        """The answer to the first of ``commands`` that the modem knows (the last one's error else)."""
        for command in commands[:-1]:
            try:
                return await self._at(command)
            except AtCommandError:
                continue
        return await self._at(commands[-1])
