"""The simulated world around one charge box: per connector a cable with maybe an EV, the pilot,
the contactor, the cable lock, the protection inputs and a kWh meter; one card reader. Devices sit
at their wires: the reader on a pseudo-terminal, meters as Modbus TCP servers (and, optionally, on
one Modbus RTU line on a pseudo-terminal, unit id = connector number), pilot, relays, lock and
protection behind the ``sim`` GPIO wire of ``hal.simwire``. Every event is kept in
:attr:`World.events` for timelines and tests.

Faults are injected with :meth:`World.set_fault` (names in :data:`FAULTS`) and cleared the same way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from hal.events import PilotState

from hwsim.ev import EV, allowed_current
from hwsim.meter import ModbusMeterServer, RtuBus, SimMeter
from hwsim.modem import DEFAULT_STORAGES, UNREAD, PtyModem
from hwsim.reader import PtyCardReader

#: Injectable faults: name -> what it does. Reader faults are box-wide; the others per connector.
FAULTS = {
    "reader_unplugged": "the card reader's serial device disappears (replugged when cleared)",
    "meter_silent": "the meter hears requests and never answers",
    "meter_garbled": "the meter's answers are corrupted (RTU: bad CRC; TCP: bad byte count)",
    "meter_backwards": "the meter's import energy register runs backwards",
    "meter_exception": "the meter answers every read with Modbus exception 04",
    "relay_welded": "the contactor stays closed whatever it is told",
    "lock_jammed": "the cable lock stays where it is whatever it is told",
    "rcd_trip": "the residual current device trips (power off, RCD contact active)",
    "overtemp": "the over-temperature input is active",
    "pilot_short": "the pilot is shorted to PE: state E (0 V)",
    "modem_silent": "the modem stops answering AT commands and announcing messages (which it still stores)",
}
BOX_FAULTS = frozenset({"reader_unplugged", "modem_silent"})
log = logging.getLogger(__name__)


@dataclass(slots=True)
class SimConnector:
    number: int
    meter: SimMeter
    meter_server: ModbusMeterServer
    ev: EV | None = None
    duty: float | None = 100.0
    relay_closed: bool = False  # as commanded
    lock_locked: bool = False  # as commanded
    subscribers: list[asyncio.StreamWriter] = field(default_factory=list)
    state: PilotState = PilotState.A
    faults: set[str] = field(default_factory=set)
    contact: bool = False  # the contactor as it really is (a welded one stays closed)
    locked: bool = False  # the lock as it really is (a jammed one stays put)
    load: tuple[float, float] = (0.0, 0.0)  # (offered, drawn) A per phase, as last recorded

    def pilot(self) -> PilotState:
        if "pilot_short" in self.faults:
            return PilotState.E
        return self.ev.pilot(self.duty) if self.ev is not None else PilotState.A

    def powered(self) -> bool:
        return self.contact and "rcd_trip" not in self.faults

    def currents(self) -> tuple[float, ...]:
        if self.ev is None:
            return (0.0, 0.0, 0.0)
        amps = self.ev.current(self.duty, self.powered())
        return tuple(amps if phase < self.ev.phases else 0.0 for phase in range(3))

    def inputs(self) -> list[dict[str, Any]]:
        """What the box's inputs show now, as sim-wire events."""
        n = self.number
        return [
            {"ev": "pilot", "connector": n, "state": self.state.value},
            {"ev": "relay", "connector": n, "closed": self.contact},
            {"ev": "lock", "connector": n, "locked": self.locked},
            {"ev": "protection", "connector": n, "rcd": "rcd_trip" in self.faults,
             "overtemp": "overtemp" in self.faults},
        ]


class World:
    """Build with ``World(connectors=N)``, ``await start()``, then drive it with its methods."""

    def __init__(self, connectors: int = 1, *, meter_base_port: int = 0, gpio_port: int = 0,
                 energy_wh: float = 1_234_000.0, reader_protocol: str = "hexline",
                 reader_link: str | None = None, meter_model: str = "sdm630",
                 meter_rtu_link: str | None = None, modem_link: str | None = None,
                 modem_profile: str = "generic",
                 modem_storages: tuple[str, str, str] = DEFAULT_STORAGES) -> None:
        """Build inside a running loop (the card reader and the modem listen on it)."""
        self.reader = PtyCardReader(reader_protocol, link=reader_link)
        self.modem = PtyModem(link=modem_link, profile=modem_profile, storages=modem_storages)
        self.connectors: dict[int, SimConnector] = {}
        for number in range(1, connectors + 1):
            meter = SimMeter(energy_wh=energy_wh, serial_number=20240000 + number)
            server = ModbusMeterServer(meter, model=meter_model, device_id=number,
                                       port=meter_base_port + number - 1 if meter_base_port else 0)
            self.connectors[number] = SimConnector(number, meter, server)
            meter.currents = self.connectors[number].currents
        # One RS-485 line for all meters, as on a multi-connector box: unit id = connector number.
        self._rtu_link = meter_rtu_link
        self.rtu: RtuBus | None = None
        self._gpio_port = gpio_port
        self._gpio: asyncio.Server | None = None
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    @property
    def gpio_port(self) -> int:
        assert self._gpio is not None
        port: int = self._gpio.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        for connector in self.connectors.values():
            await connector.meter_server.start()
        if self._rtu_link is not None:
            self.rtu = RtuBus([c.meter_server for c in self.connectors.values()], link=self._rtu_link)
        self._gpio = await asyncio.start_server(self._serve_gpio, "127.0.0.1", self._gpio_port)

    async def stop(self) -> None:
        if self._gpio is not None:
            self._gpio.close()
            for connector in self.connectors.values():
                for writer in connector.subscribers:
                    writer.close()
        for connector in self.connectors.values():
            await connector.meter_server.stop()
        if self.rtu is not None:
            self.rtu.close()
        self.reader.close()
        self.modem.close()

    def record(self, kind: str, **detail: Any) -> None:
        event = {"seq": len(self.events) + 1, "time": time.time(), "kind": kind, **detail}
        self.events.append(event)
        # A card's UID is an idTag: the log shows its last four characters, as the box's does (the
        # event itself, for the control interface, keeps it whole).
        log.info("%s", {**event, "uid": "…" + event["uid"][-4:]} if "uid" in event else event)
        self._changed.set()

    async def wait_event(self, kind: str, timeout: float = 10.0, after: int = 0, **match: Any) -> dict[str, Any]:
        """The first event of ``kind`` after event number ``after`` whose fields equal ``match``
        (past or future)."""
        async with asyncio.timeout(timeout):
            seen = after
            while True:
                for event in self.events[seen:]:
                    if event["kind"] == kind and all(event.get(k) == v for k, v in match.items()):
                        return event
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

    # -- the outside world's actions ------------------------------------------------------------

    def plug(self, number: int = 1, ev: EV | None = None) -> None:
        connector = self.connectors[number]
        self._settle(connector)
        connector.ev = ev or EV()
        self.record("plug", connector=number)
        self._update(connector)

    def unplug(self, number: int = 1) -> None:
        connector = self.connectors[number]
        self._settle(connector)
        connector.ev = None
        self.record("unplug", connector=number)
        self._update(connector)

    def set_ev_wants(self, number: int, wants: bool) -> None:
        connector = self.connectors[number]
        if connector.ev is not None:
            self._settle(connector)
            connector.ev.wants_energy = wants
            self.record("ev", connector=number, wants_energy=wants)
            self._update(connector)

    def set_fault(self, name: str, active: bool = True, number: int = 1) -> None:
        """Inject (or clear, ``active=False``) fault ``name`` (see :data:`FAULTS`) on connector ``number``."""
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; expected one of: {', '.join(FAULTS)}")
        connector = self.connectors[number]
        self._settle(connector)
        before = connector.inputs()
        if name == "reader_unplugged":
            if active:
                self.reader.unplug()
            else:
                self.reader.replug()
        elif name.startswith("meter_"):
            setattr(connector.meter_server, name.removeprefix("meter_"), active)
        elif name == "modem_silent":
            self.modem.set_silent(active)
        if active:
            connector.faults.add(name)
        else:
            connector.faults.discard(name)
        self.record("fault", connector=number, fault=name, active=active)
        self._update(connector, before)

    def active_faults(self) -> list[dict[str, Any]]:
        return [{"connector": c.number, "fault": f} for c in self.connectors.values() for f in sorted(c.faults)]

    async def present_card(self, uid: bytes, hold: float = 0.5) -> None:
        self.record("card", uid=uid.hex().upper())
        await self.reader.present(uid, hold=hold)
        self.record("card_removed", uid=uid.hex().upper())

    def receive_sms(self, text: str, sender: str, status: str = UNREAD) -> int | None:
        """A short message reaches the modem; its storage index (``None``: the storage is full).
        With ``status`` "STO SENT" or "STO UNSENT" it is an outgoing message (to ``sender``) that
        the modem keeps in storage instead, unannounced (:meth:`PtyModem.store`). The event carries
        the text's length, not the text (it may hold a wake-up secret)."""
        if status == UNREAD:
            index = self.modem.receive_sms(text, sender)
        else:
            index = self.modem.store(text, sender, status)
        self.record("sms", sender=sender, length=len(text), index=index, status=status)
        return index

    def set_signal(self, rssi: int, ber: int = 0) -> None:
        """What the modem's AT+CSQ reports from now on (27.007 8.5)."""
        self.modem.set_signal(rssi, ber)
        self.record("signal", rssi=rssi, ber=ber)

    # -- the physics --------------------------------------------------------------------------------

    def _settle(self, connector: SimConnector) -> None:
        """Integrate energy up to now before anything changes the current (SimMeter.tick)."""
        before = connector.meter.energy_wh
        connector.meter.tick(asyncio.get_running_loop().time())
        if connector.ev is not None:
            connector.ev.absorb(connector.meter.energy_wh - before)

    def _update(self, connector: SimConnector, before: list[dict[str, Any]] | None = None) -> None:
        """Let the physics follow the commands and faults; tell the box what its inputs now show.

        ``before``: the inputs before the change, if the caller changed something they show directly.
        """
        before = before if before is not None else connector.inputs()
        if "relay_welded" not in connector.faults or connector.relay_closed:
            connector.contact = connector.relay_closed
        if "lock_jammed" not in connector.faults:
            connector.locked = connector.lock_locked
        state = connector.pilot()
        if state != connector.state:
            connector.state = state
            self.record("pilot", connector=connector.number, state=state.value)
        changed = [event for event, old in zip(connector.inputs(), before, strict=True) if event != old]
        self._notify(connector, changed)
        # What the duty offers and what the EV draws (per phase), at every change: the record against
        # which load balancing is checked (issue 18).
        load = (allowed_current(connector.duty), max(connector.currents()))
        if load != connector.load:
            connector.load = load
            self.record("current", connector=connector.number, offered=load[0], drawn=load[1])

    def _notify(self, connector: SimConnector, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        lines = b"".join(json.dumps(event).encode() + b"\n" for event in events)
        for writer in list(connector.subscribers):
            if writer.is_closing():
                connector.subscribers.remove(writer)
            else:
                writer.write(lines)

    async def _serve_gpio(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    message = json.loads(line)
                    connector = self.connectors[int(message["connector"])]
                    op = message["op"]
                except (ValueError, KeyError, TypeError):
                    log.warning("bad GPIO wire message: %r", line[:200])
                    continue
                self._settle(connector)
                if op == "subscribe":
                    connector.subscribers.append(writer)
                    writer.write(b"".join(json.dumps(e).encode() + b"\n" for e in connector.inputs()))
                elif op == "pwm":
                    duty = message.get("duty")
                    if duty != connector.duty:
                        connector.duty = duty
                        self.record("pwm", connector=connector.number, duty=duty)
                elif op == "relay":
                    closed = bool(message.get("closed"))
                    if closed != connector.relay_closed:
                        connector.relay_closed = closed
                        self.record("relay", connector=connector.number, closed=closed)
                elif op == "lock":
                    locked = bool(message.get("locked"))
                    if locked != connector.lock_locked:
                        connector.lock_locked = locked
                        self.record("lock", connector=connector.number, locked=locked)
                self._update(connector)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reader": self.reader.path, "reader_protocol": self.reader.protocol,
                               "gpio_port": self.gpio_port, "meter_rtu": self.rtu.path if self.rtu else None,
                               "modem": self.modem.snapshot(),
                               "faults": self.active_faults(), "connectors": {}}
        for number, connector in self.connectors.items():
            self._settle(connector)
            out["connectors"][str(number)] = {
                "plugged": connector.ev is not None, "pilot": connector.state.value, "duty": connector.duty,
                "relay_closed": connector.relay_closed, "contact_closed": connector.contact,
                "lock_locked": connector.lock_locked, "locked": connector.locked,
                "faults": sorted(connector.faults), "current_a": list(connector.currents()),
                "energy_wh": connector.meter.energy_wh, "meter_port": connector.meter_server.port,
                "soc": connector.ev.soc if connector.ev else None,
            }
        return out
