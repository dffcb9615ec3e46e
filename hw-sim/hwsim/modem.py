"""A simulated cellular modem: a pseudo-terminal that answers the AT commands of 3GPP TS 27.007 and
27.005 (text mode) that a charge box needs, and a SIM storage for short messages.

Its subset: ``AT``, ``ATE0``/``ATE1``, ``AT+CMGF=0|1`` (``?``), ``AT+CNMI=<mode>,<mt>,...``,
``AT+CMGL[=<stat>]``, ``AT+CMGR=<index>``, ``AT+CMGD=<index>[,<delflag>]``, ``AT+CSQ``, ``AT+CCID``
or ``AT+ICCID`` (makers differ: which one it knows is a constructor argument) and ``AT+CIMI``;
anything else is answered ``ERROR``. A message that arrives is stored and, with ``AT+CNMI`` mt=1,
announced with ``+CMTI: "SM",<index>``. The formats are written here from the standards, not
imported from ``hal``: a simulator that shared the driver's parser could not catch its bugs.

Faults: :meth:`PtyModem.set_silent` makes it stop answering (it hears nothing and announces
nothing, as a hung modem firmware does) while messages still arrive into storage.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from hwsim.pty import PtyLine

#: What 27.005 text mode calls the status of a received message (3.1 <stat>).
UNREAD, READ = "REC UNREAD", "REC READ"
#: The longest command line taken; a longer one is dropped (no modem buffers without bound).
MAX_COMMAND = 1024


@dataclass(slots=True)
class StoredSms:
    sender: str
    text: str
    sent_at: str
    status: str = UNREAD


def _timestamp() -> str:
    """The service centre time stamp, 27.005 3.1 <scts>: "yy/MM/dd,hh:mm:ss+zz" (zz: quarter hours)."""
    return time.strftime("%y/%m/%d,%H:%M:%S+00", time.gmtime())


class PtyModem:
    """Build inside a running loop; the driver opens :attr:`path`.

    ``iccid_command`` is the command this maker's firmware knows for the ICCID (``"AT+CCID"`` or
    ``"AT+ICCID"``); the other is an unknown command. ``capacity`` is the SIM's message storage.
    """

    def __init__(self, *, link: str | Path | None = None, iccid: str = "89314404000123456789",
                 imsi: str = "204043123456789", iccid_command: str = "AT+CCID", capacity: int = 30,
                 rssi: int = 20, ber: int = 0) -> None:
        self.iccid, self.imsi, self.iccid_command = iccid, imsi, iccid_command
        self.capacity = capacity
        self.storage: dict[int, StoredSms] = {}
        self.echo = True  # V.250 default
        self.text_mode = False  # 27.005 default: PDU mode
        self.indications = False  # AT+CNMI mt=0 until the host asks
        self.silent = False
        self.rssi, self.ber = 99, 99
        self.set_signal(rssi, ber)
        #: Commands answered, and the latest ones (for tests and the control interface).
        self.answered = 0
        self.history: deque[str] = deque(maxlen=50)
        #: Messages that found the storage full (the network keeps them; here they are gone).
        self.refused = 0
        self._input = bytearray()
        self.line = PtyLine(self._on_data, link=link)

    @property
    def path(self) -> str:
        return self.line.path

    # -- the outside world ------------------------------------------------------------------------

    def receive_sms(self, text: str, sender: str = "+31600000000") -> int | None:
        """A message arrives: stored at the lowest free index (returned; ``None`` if the storage is
        full) and announced when the host asked for indications and the modem is answering."""
        index = next((i for i in range(1, self.capacity + 1) if i not in self.storage), None)
        if index is None:
            self.refused += 1
            return None
        self.storage[index] = StoredSms(sender, text, _timestamp())
        if self.indications and not self.silent:
            self.line.write(f'\r\n+CMTI: "SM",{index}\r\n'.encode())
        return index

    def set_signal(self, rssi: int, ber: int = 0) -> None:
        """What AT+CSQ reports: rssi 0..31 or 99 (unknown), ber 0..7 or 99 (27.007 8.5)."""
        if not (0 <= rssi <= 31 or rssi == 99):
            raise ValueError(f"rssi must be 0..31 or 99 (unknown), got {rssi!r}")
        if not (0 <= ber <= 7 or ber == 99):
            raise ValueError(f"ber must be 0..7 or 99 (unknown), got {ber!r}")
        self.rssi, self.ber = rssi, ber

    def set_silent(self, silent: bool) -> None:
        """Stop (or resume) answering: the firmware hangs, the radio still stores messages."""
        self.silent = silent
        self._input.clear()

    def close(self) -> None:
        self.line.close()

    def snapshot(self) -> dict[str, object]:
        return {"path": self.path, "rssi": self.rssi, "ber": self.ber, "silent": self.silent,
                "stored": len(self.storage), "unread": sum(s.status == UNREAD for s in self.storage.values()),
                "refused": self.refused, "answered": self.answered, "echo": self.echo,
                "text_mode": self.text_mode, "indications": self.indications}

    # -- the AT port --------------------------------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        if self.silent:
            return  # a hung modem hears nothing
        self._input += data
        while (end := self._input.find(b"\r")) >= 0:
            raw = bytes(self._input[:end])
            del self._input[: end + 1]
            command = raw.decode("ascii", errors="replace").strip()
            if command:
                self._execute(command)
        if len(self._input) > MAX_COMMAND:
            self._input.clear()

    def _execute(self, command: str) -> None:
        if self.echo:
            self.line.write(command.encode() + b"\r")
        self.answered += 1
        self.history.append(command)
        lines, final = self._answer(command)
        out = "".join(f"\r\n{line}" for line in lines) + ("\r\n" if lines else "")
        self.line.write(f"{out}\r\n{final}\r\n".encode())

    def _answer(self, command: str) -> tuple[list[str], str]:
        """(information lines, final result code) for one command line."""
        name, _, argument = command.partition("=")
        name = name.upper()
        if name == "AT":
            return [], "OK"
        if name in ("ATE0", "ATE1", "ATE"):
            self.echo = name == "ATE1"
            return [], "OK"
        if name == "AT+CMGF":
            if argument not in ("0", "1"):
                return [], "ERROR"
            self.text_mode = argument == "1"
            return [], "OK"
        if name == "AT+CMGF?":
            return [f"+CMGF: {int(self.text_mode)}"], "OK"
        if name == "AT+CNMI":
            values = argument.split(",")
            if not argument or not all(v.strip().isdigit() for v in values):
                return [], "ERROR"
            self.indications = len(values) > 1 and int(values[1]) == 1
            return [], "OK"
        if name == "AT+CSQ":
            return [f"+CSQ: {self.rssi},{self.ber}"], "OK"
        if name == self.iccid_command:
            return [f"{name.removeprefix('AT')}: {self.iccid}"], "OK"
        if name == "AT+CIMI":
            return [self.imsi], "OK"
        if name in ("AT+CMGL", "AT+CMGR", "AT+CMGD"):
            return self._messages(name, argument)
        return [], "ERROR"

    def _messages(self, name: str, argument: str) -> tuple[list[str], str]:
        if not self.text_mode and name != "AT+CMGD":
            return [], "+CMS ERROR: 303"  # operation not supported: this modem has no PDU mode
        if name == "AT+CMGL":
            wanted = argument.strip('"') or UNREAD
            if wanted not in ("ALL", UNREAD, READ):
                return [], "+CMS ERROR: 302"
            lines: list[str] = []
            for index, sms in sorted(self.storage.items()):
                if wanted in ("ALL", sms.status):
                    lines += [f'+CMGL: {index},"{sms.status}","{sms.sender}",,"{sms.sent_at}"', sms.text]
                    sms.status = READ
            return lines, "OK"
        first = argument.split(",")[0]
        if not first.isdigit():
            return [], "+CMS ERROR: 321"
        index = int(first)
        if name == "AT+CMGD":
            if argument.split(",")[1:] == ["4"]:  # delflag 4: every message
                self.storage.clear()
            else:
                self.storage.pop(index, None)
            return [], "OK"
        found = self.storage.get(index)
        if found is None:
            return [], "+CMS ERROR: 321"  # invalid memory index
        status, found.status = found.status, READ
        return [f'+CMGR: "{status}","{found.sender}",,"{found.sent_at}"', found.text], "OK"
