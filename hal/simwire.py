"""The ``sim`` backend of pilot and relay: they talk to the simulator process over TCP.

No kernel GPIO simulator exists on desktop machines, so this backend stands where GPIO pins would
(DESIGN.md, "The simulated world"). The wire is JSON lines on one TCP connection per device:

- device -> sim: ``{"op": "subscribe", "connector": N}``, ``{"op": "pwm", "connector": N, "duty": D}``
  (D in percent, ``null`` for state F), ``{"op": "relay", "connector": N, "closed": bool}``
- sim -> device: ``{"ev": "pilot", "connector": N, "state": "A".."F"}``, sent at once after
  ``subscribe`` and on every change.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from hal.errors import ConfigurationError, DeviceUnavailable
from hal.events import PilotState
from hal.pilot.base import Pilot
from hal.relay.base import Relay

log = logging.getLogger(__name__)


def parse_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigurationError(f"address {address!r} is not host:port")
    return host or "127.0.0.1", int(port)


class SimLink:
    """One JSON-lines connection to the simulator."""

    def __init__(self, address: str) -> None:
        self.host, self.port = parse_address(address)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        try:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        except OSError as err:
            raise DeviceUnavailable(f"simulator at {self.host}:{self.port}: {err}") from err

    async def send(self, message: dict[str, Any]) -> None:
        if self._writer is None:
            await self.connect()
        assert self._writer is not None
        try:
            self._writer.write(json.dumps(message).encode() + b"\n")
            await self._writer.drain()
        except OSError as err:
            self._writer = None
            raise DeviceUnavailable(f"simulator at {self.host}:{self.port}: {err}") from err

    async def receive(self) -> dict[str, Any]:
        if self._reader is None:
            await self.connect()
        assert self._reader is not None
        line = await self._reader.readline()
        if not line:
            self._reader = self._writer = None
            raise DeviceUnavailable(f"simulator at {self.host}:{self.port} closed the connection")
        message: dict[str, Any] = json.loads(line)
        return message

    async def disconnect(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None


class _SimDevice:
    """A connector's device in the simulator at ``address`` (host:port), on its own link."""

    INJECTED = ("connector",)

    def __init__(self, *, address: str, connector: int = 1) -> None:
        super().__init__()
        self.connector = connector
        self._link = SimLink(address)

    async def connect(self) -> None:
        await self._link.connect()

    async def disconnect(self) -> None:
        await self._link.disconnect()


class SimPilot(_SimDevice, Pilot):
    """The pilot of connector ``connector``: PWM out, pilot states in."""

    async def connect(self) -> None:
        await super().connect()
        await self._link.send({"op": "subscribe", "connector": self.connector})

    async def _write_duty(self, duty: float | None) -> None:
        await self._link.send({"op": "pwm", "connector": self.connector, "duty": duty})

    async def _next_state(self) -> PilotState:
        while True:
            message = await self._link.receive()
            if message.get("ev") == "pilot" and message.get("connector") == self.connector:
                try:
                    return PilotState(message["state"])
                except (KeyError, ValueError):
                    log.warning("simulator sent a bad pilot state: %r", message)


class SimRelay(_SimDevice, Relay):
    """The contactor of connector ``connector``."""

    async def _write(self, closed: bool) -> None:
        await self._link.send({"op": "relay", "connector": self.connector, "closed": closed})
