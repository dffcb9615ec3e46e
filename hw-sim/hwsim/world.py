"""The simulated world around one charge box: per connector a cable with maybe an EV, the pilot,
the contactor and a kWh meter; one card reader. Devices sit at their wires: the reader on a
pseudo-terminal, meters as Modbus TCP servers, pilot and relays behind the ``sim`` GPIO wire of
``hal.simwire``. Every event is kept in :attr:`World.events` for timelines and tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from hal.events import PilotState

from hwsim.ev import EV
from hwsim.meter import ModbusMeterServer, SimMeter
from hwsim.reader import PtyCardReader

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SimConnector:
    number: int
    meter: SimMeter
    meter_server: ModbusMeterServer
    ev: EV | None = None
    duty: float | None = 100.0
    relay_closed: bool = False
    subscribers: list[asyncio.StreamWriter] = field(default_factory=list)
    state: PilotState = PilotState.A

    def pilot(self) -> PilotState:
        return self.ev.pilot(self.duty) if self.ev is not None else PilotState.A

    def currents(self) -> tuple[float, ...]:
        if self.ev is None:
            return (0.0, 0.0, 0.0)
        amps = self.ev.current(self.duty, self.relay_closed)
        return tuple(amps if phase < self.ev.phases else 0.0 for phase in range(3))


class World:
    """Build with ``World(connectors=N)``, ``await start()``, then drive it with its methods."""

    def __init__(self, connectors: int = 1, *, meter_base_port: int = 0, gpio_port: int = 0,
                 energy_wh: float = 1_234_000.0) -> None:
        self.reader = PtyCardReader()
        self.connectors: dict[int, SimConnector] = {}
        for number in range(1, connectors + 1):
            meter = SimMeter(energy_wh=energy_wh, serial_number=20240000 + number)
            server = ModbusMeterServer(meter, port=meter_base_port + number - 1 if meter_base_port else 0)
            self.connectors[number] = SimConnector(number, meter, server)
            meter.currents = self.connectors[number].currents
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
        self._gpio = await asyncio.start_server(self._serve_gpio, "127.0.0.1", self._gpio_port)

    async def stop(self) -> None:
        if self._gpio is not None:
            self._gpio.close()
            for connector in self.connectors.values():
                for writer in connector.subscribers:
                    writer.close()
        for connector in self.connectors.values():
            await connector.meter_server.stop()
        self.reader.close()

    def record(self, kind: str, **detail: Any) -> None:
        event = {"seq": len(self.events) + 1, "time": time.time(), "kind": kind, **detail}
        self.events.append(event)
        log.info("%s", event)
        self._changed.set()

    async def wait_event(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """The first event of ``kind`` whose fields equal ``match`` (past or future)."""
        async with asyncio.timeout(timeout):
            seen = 0
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

    async def present_card(self, uid: bytes, hold: float = 0.5) -> None:
        self.record("card", uid=uid.hex().upper())
        await self.reader.present(uid, hold=hold)

    # -- the physics --------------------------------------------------------------------------------

    def _settle(self, connector: SimConnector) -> None:
        """Integrate energy up to now before anything changes the current (SimMeter.tick)."""
        before = connector.meter.energy_wh
        connector.meter.tick(asyncio.get_running_loop().time())
        if connector.ev is not None:
            connector.ev.absorb(connector.meter.energy_wh - before)

    def _update(self, connector: SimConnector) -> None:
        state = connector.pilot()
        if state != connector.state:
            connector.state = state
            self.record("pilot", connector=connector.number, state=state.value)
            self._notify(connector)

    def _notify(self, connector: SimConnector) -> None:
        line = json.dumps({"ev": "pilot", "connector": connector.number, "state": connector.state.value}).encode()
        for writer in list(connector.subscribers):
            if writer.is_closing():
                connector.subscribers.remove(writer)
            else:
                writer.write(line + b"\n")

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
                    self._notify(connector)
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
                self._update(connector)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reader": self.reader.port, "gpio_port": self.gpio_port, "connectors": {}}
        for number, connector in self.connectors.items():
            self._settle(connector)
            out["connectors"][str(number)] = {
                "plugged": connector.ev is not None, "pilot": connector.state.value, "duty": connector.duty,
                "relay_closed": connector.relay_closed, "current_a": list(connector.currents()),
                "energy_wh": connector.meter.energy_wh, "meter_port": connector.meter_server.port,
                "soc": connector.ev.soc if connector.ev else None,
            }
        return out
