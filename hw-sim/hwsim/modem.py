"""A simulated cellular modem: a pseudo-terminal that answers the AT commands of 3GPP TS 27.007 and
27.005 (text mode) that a charge box needs, and two storages for short messages.

Its subset: ``AT``, ``ATE0``/``ATE1``, ``ATI``, ``AT+CGMI``, ``AT+CMGF=0|1`` (``?``),
``AT+CNMI=<mode>,<mt>,...``, ``AT+CPMS`` (``=?``, ``?``, ``=<mem1>[,<mem2>[,<mem3>]]``),
``AT+CMGL[=<stat>]``, ``AT+CMGR=<index>``, ``AT+CMGD=<index>[,<delflag>]``, ``AT+CSQ``, the maker's
ICCID command and ``AT+CIMI``; anything else is answered ``ERROR``. The formats are written here
from the standards and the makers' manuals, not imported from ``hal``: a simulator that shared the
driver's parser could not catch its bugs.

Storages (27.005 3.2.2): the SIM's ``"SM"`` and the modem's own ``"ME"``. <mem1> is where
``AT+CMGL``/``AT+CMGR``/``AT+CMGD`` act, <mem2> where outgoing messages are written (as
``AT+CMGW`` would), <mem3> where a new message is stored and then announced, with ``AT+CNMI``
mt=1, as ``+CMTI: "<mem3>",<index>``. The storages at power-up are a constructor argument: a modem
that reads the SIM while it stores new messages in its own memory is ``("SM", "SM", "ME")``.

Makers (:data:`PROFILES`): ``"generic"`` reads the ICCID with ``AT+CCID``; ``"quectel"`` answers
``AT+CGMI`` with ``Quectel`` and knows only ``AT+QCCID`` (``+QCCID: <iccid>``, Quectel EC2x/BG9x AT
manuals), not ``AT+CCID``.

Faults: :meth:`PtyModem.set_silent` makes it stop answering (it hears nothing and announces
nothing, as a hung modem firmware does) while messages still arrive into storage.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from hwsim.pty import PtyLine

#: The status of a message in storage, in text mode (27.005 3.1 <stat>): received ones, and the
#: outgoing ones the modem keeps (unsent, or already sent).
UNREAD, READ, UNSENT, SENT = "REC UNREAD", "REC READ", "STO UNSENT", "STO SENT"
STATUSES = (UNREAD, READ, UNSENT, SENT)
#: The message storages (27.005 3.2.2 <mem>): the (U)SIM's and the modem's own.
STORAGES = ("SM", "ME")
#: <mem1>, <mem2>, <mem3> at power-up unless told otherwise: the SIM's for all, as many modems come.
DEFAULT_STORAGES = ("SM", "SM", "SM")
#: The longest command line taken; a longer one is dropped (no modem buffers without bound).
MAX_COMMAND = 1024


@dataclass(frozen=True, slots=True)
class Profile:
    """What one maker's firmware says it is (``AT+CGMI``, ``ATI``) and how it reads the ICCID."""

    manufacturer: str
    model: str
    revision: str
    iccid_command: str


PROFILES = {
    "generic": Profile("hwsim", "generic 27.005 modem", "1.0", "AT+CCID"),
    "quectel": Profile("Quectel", "EC25", "EC25EFAR06A06M4G", "AT+QCCID"),
}


@dataclass(slots=True)
class StoredSms:
    #: The sender of a received message, the recipient of an outgoing one (27.005 <oa>/<da>).
    address: str
    text: str
    sent_at: str  # the service centre time stamp of a received message; "" for an outgoing one
    status: str = UNREAD


def _timestamp() -> str:
    """The service centre time stamp, 27.005 3.1 <scts>: "yy/MM/dd,hh:mm:ss+zz" (zz: quarter hours)."""
    return time.strftime("%y/%m/%d,%H:%M:%S+00", time.gmtime())


class PtyModem:
    """Build inside a running loop; the driver opens :attr:`path`.

    ``profile`` is the maker (:data:`PROFILES`); ``iccid_command`` overrides its ICCID command
    (``"AT+ICCID"``...); the other commands are unknown. ``storages`` are <mem1>, <mem2> and <mem3>
    at power-up (:data:`STORAGES`); ``capacity`` the messages each storage holds.
    """

    def __init__(self, *, link: str | Path | None = None, iccid: str = "89314404000123456789",
                 imsi: str = "204043123456789", profile: str = "generic", iccid_command: str | None = None,
                 storages: tuple[str, str, str] = DEFAULT_STORAGES, capacity: int = 30,
                 rssi: int = 20, ber: int = 0) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown modem profile {profile!r}; expected one of: {', '.join(PROFILES)}")
        if len(storages) != 3 or not set(storages) <= set(STORAGES):
            raise ValueError(f"storages must be three of {', '.join(STORAGES)} (<mem1>,<mem2>,<mem3>), "
                             f"got {storages!r}")
        self.profile = profile
        self.maker = PROFILES[profile]
        self.iccid, self.imsi = iccid, imsi
        self.iccid_command = iccid_command or self.maker.iccid_command
        self.capacity = capacity
        self.memories: dict[str, dict[int, StoredSms]] = {name: {} for name in STORAGES}
        #: <mem1> (read, list, delete), <mem2> (write), <mem3> (new messages), 27.005 3.2.2.
        self.preferred = list(storages)
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

    @property
    def storage(self) -> dict[int, StoredSms]:
        """Where a new message is stored (<mem3>)."""
        return self.memories[self.preferred[2]]

    # -- the outside world ------------------------------------------------------------------------

    def receive_sms(self, text: str, sender: str = "+31600000000") -> int | None:
        """A message arrives: stored in <mem3> at the lowest free index (returned; ``None`` if the
        storage is full) and announced when the host asked for indications and the modem is answering."""
        index = self.store(text, sender, UNREAD)
        if index is not None and self.indications and not self.silent:
            self.line.write(f'\r\n+CMTI: "{self.preferred[2]}",{index}\r\n'.encode())
        return index

    def store(self, text: str, address: str, status: str = UNREAD) -> int | None:
        """Put a message in storage, unannounced: a received one in <mem3>, an outgoing one (``STO
        SENT``/``STO UNSENT``, ``address`` its recipient) in <mem2>, as ``AT+CMGW`` writes it. Its
        index, or ``None`` if that storage is full."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of: {', '.join(STATUSES)}; got {status!r}")
        received = status in (UNREAD, READ)
        memory = self.memories[self.preferred[2] if received else self.preferred[1]]
        index = next((i for i in range(1, self.capacity + 1) if i not in memory), None)
        if index is None:
            self.refused += 1
            return None
        memory[index] = StoredSms(address, text, _timestamp() if received else "", status)
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
        stored = [sms for memory in self.memories.values() for sms in memory.values()]
        return {"path": self.path, "profile": self.profile, "rssi": self.rssi, "ber": self.ber,
                "silent": self.silent, "storages": list(self.preferred),
                "stored": len(stored), "unread": sum(s.status == UNREAD for s in stored),
                "outgoing": sum(s.status in (SENT, UNSENT) for s in stored),
                "by_storage": {name: len(memory) for name, memory in self.memories.items()},
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
        if name == "ATI":  # V.250 6.1.3; Quectel's shows maker, model and revision
            return [self.maker.manufacturer, self.maker.model, f"Revision: {self.maker.revision}"], "OK"
        if name == "AT+CGMI":  # 27.007 5.1
            return [self.maker.manufacturer], "OK"
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
        if name in ("AT+CPMS", "AT+CPMS?"):
            return self._storages(command[len("AT+CPMS"):])
        if name == "AT+CSQ":
            return [f"+CSQ: {self.rssi},{self.ber}"], "OK"
        if name == self.iccid_command:
            return [f"{name.removeprefix('AT')}: {self.iccid}"], "OK"
        if name == "AT+CIMI":
            return [self.imsi], "OK"
        if name in ("AT+CMGL", "AT+CMGR", "AT+CMGD"):
            return self._messages(name, argument)
        return [], "ERROR"

    def _storages(self, rest: str) -> tuple[list[str], str]:
        """AT+CPMS (27.005 3.2.2): ``=?`` the storages offered, ``?`` the preferred ones with used
        and total slots, ``=<mem1>[,<mem2>[,<mem3>]]`` selects them."""
        def usage(name: str) -> str:
            return f"{len(self.memories[name])},{self.capacity}"

        offered = "(" + ",".join(f'"{name}"' for name in STORAGES) + ")"
        if rest == "=?":
            return [f"+CPMS: {offered},{offered},{offered}"], "OK"
        if rest == "?":
            return ["+CPMS: " + ",".join(f'"{name}",{usage(name)}' for name in self.preferred)], "OK"
        wanted = [value.strip().strip('"') for value in rest.removeprefix("=").split(",")]
        if not 1 <= len(wanted) <= 3 or not set(wanted) <= set(STORAGES):
            return [], "+CMS ERROR: 302"  # operation not allowed
        self.preferred[: len(wanted)] = wanted
        return ["+CPMS: " + ",".join(usage(name) for name in self.preferred)], "OK"

    def _messages(self, name: str, argument: str) -> tuple[list[str], str]:
        if not self.text_mode and name != "AT+CMGD":
            return [], "+CMS ERROR: 303"  # operation not supported: this modem has no PDU mode
        memory = self.memories[self.preferred[0]]
        if name == "AT+CMGL":
            wanted = argument.strip('"') or UNREAD
            if wanted not in ("ALL", *STATUSES):
                return [], "+CMS ERROR: 302"
            lines: list[str] = []
            for index, sms in sorted(memory.items()):
                if wanted in ("ALL", sms.status):
                    # 27.005 3.4.2: +CMGL: <index>,<stat>,<oa/da>,[<alpha>],[<scts>]; no <scts> for
                    # an outgoing message (an SMS-SUBMIT).
                    scts = f'"{sms.sent_at}"' if sms.sent_at else ""
                    lines += [f'+CMGL: {index},"{sms.status}","{sms.address}",,{scts}', sms.text]
                    if sms.status == UNREAD:
                        sms.status = READ
            return lines, "OK"
        first = argument.split(",")[0]
        if not first.isdigit():
            return [], "+CMS ERROR: 321"
        index = int(first)
        if name == "AT+CMGD":
            if argument.split(",")[1:] == ["4"]:  # delflag 4: every message
                memory.clear()
            else:
                memory.pop(index, None)
            return [], "OK"
        found = memory.get(index)
        if found is None:
            return [], "+CMS ERROR: 321"  # invalid memory index
        status = found.status
        if status == UNREAD:
            found.status = READ
        if status in (SENT, UNSENT):  # 27.005 3.4.3, SMS-SUBMIT: +CMGR: <stat>,<da>,[<alpha>]
            return [f'+CMGR: "{status}","{found.address}",', found.text], "OK"
        return [f'+CMGR: "{status}","{found.address}",,"{found.sent_at}"', found.text], "OK"
