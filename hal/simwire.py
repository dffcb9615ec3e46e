"""The ``sim`` backend of pilot and relay: they talk to the simulator process over TCP.

No kernel GPIO simulator exists on desktop machines, so this backend stands where GPIO pins would
(DESIGN.md, "The simulated world"). The wire is JSON lines on one TCP connection per device:

- device -> sim: ``{"op": "subscribe", "connector": N}``, ``{"op": "pwm", "connector": N, "duty": D}``
  (D in percent, ``null`` for state F), ``{"op": "relay", "connector": N, "closed": bool}``,
  ``{"op": "lock", "connector": N, "locked": bool}``
- sim -> device, each sent at once after ``subscribe`` and on every change:
  ``{"ev": "pilot", "connector": N, "state": "A".."F"}``,
  ``{"ev": "relay", "connector": N, "closed": bool}`` (the contact as it is: a welded one stays closed),
  ``{"ev": "lock", "connector": N, "locked": bool}`` (the position switch),
  ``{"ev": "protection", "connector": N, "rcd": bool, "overtemp": bool}`` (true = tripped / too hot).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from hal.errors import ConfigurationError, DeviceUnavailable
from hal.events import PilotState
from hal.lock.base import CableLock
from hal.pilot.base import Pilot
from hal.protection.base import Protection
from hal.relay.base import Relay
from hal.signal import Signal
from hal.tasks import cancel_and_wait

log = logging.getLogger(__name__)


def parse_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigurationError(f"address {address!r} is not host:port")
    if not 1 <= int(port) <= 65535:
        raise ConfigurationError(f"address: expected a port 1..65535 after the colon, got {address!r}")
    return host or "127.0.0.1", int(port)


class SimLink:
    """One JSON-lines connection to the simulator."""

    def __init__(self, address: str) -> None:
        self.host, self.port = parse_address(address)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        try:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        except OSError as err:
            raise DeviceUnavailable(f"simulator at {self.host}:{self.port}: {err}") from err

    async def send(self, message: dict[str, Any]) -> None:
        if self._writer is None:
            await self.open()
        assert self._writer is not None
        try:
            self._writer.write(json.dumps(message).encode() + b"\n")
            await self._writer.drain()
        except OSError as err:
            self._writer = None
            raise DeviceUnavailable(f"simulator at {self.host}:{self.port}: {err}") from err

    async def receive(self) -> dict[str, Any]:
        if self._reader is None:
            await self.open()
        assert self._reader is not None
        line = await self._reader.readline()
        if not line:
            self._reader = self._writer = None
            raise DeviceUnavailable(f"simulator at {self.host}:{self.port} closed the connection")
        message: dict[str, Any] = json.loads(line)
        return message

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None


class _SimDevice:
    """A connector's device in the simulator at ``address`` (host:port), on its own link.

    Devices with inputs (relay feedback, lock position, protection) subscribe and follow the
    simulator's events in a background task from ``open`` to ``close``; ``open`` returns
    once the first event of its kind has set the initial value.
    """

    INJECTED = ("connector",)
    #: The simulator event this device follows ("" for none).
    EVENT = ""

    def __init__(self, *, address: str, connector: int = 1, **device: Any) -> None:
        # ``device``: the device class's own options (feedback_timeout), checked by its base.
        super().__init__(**device)
        self.connector = connector
        self._link = SimLink(address)
        self._listener: asyncio.Task[None] | None = None

    async def _open(self) -> None:
        await self._link.open()
        if self.EVENT:
            await self._link.send({"op": "subscribe", "connector": self.connector})
            self._on_event(await self._next_event())
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def _close(self) -> None:
        listener, self._listener = self._listener, None
        await cancel_and_wait(listener)
        await self._link.close()

    async def _next_event(self) -> dict[str, Any]:
        while True:
            message = await self._link.receive()
            if message.get("ev") == self.EVENT and message.get("connector") == self.connector:
                return message

    async def _listen(self) -> None:
        try:
            while True:
                self._on_event(await self._next_event())
        except DeviceUnavailable as err:
            log.error("simulated %s of connector %s lost: %s", self.EVENT, self.connector, err)

    def _on_event(self, message: dict[str, Any]) -> None:
        """Take in one event of kind :attr:`EVENT`."""

    @staticmethod
    def _fed(signal: Signal[bool] | None, value: bool) -> Signal[bool]:
        """``signal`` updated to ``value``, or a new one holding it (the first event after open)."""
        if signal is None:
            return Signal(value)
        signal.set(value)
        return signal


class SimPilot(_SimDevice, Pilot):
    """The pilot of connector ``connector``: PWM out, pilot states in."""

    async def _open(self) -> None:
        await super()._open()
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
    """The contactor of connector ``connector``; with ``feedback``, its auxiliary contact too."""

    def __init__(self, *, address: str, connector: int = 1, feedback: bool = True,
                 feedback_timeout: float = 0.5) -> None:
        super().__init__(address=address, connector=connector, feedback_timeout=feedback_timeout)
        self.EVENT = "relay" if feedback else ""

    def _on_event(self, message: dict[str, Any]) -> None:
        self.feedback = self._fed(self.feedback, bool(message.get("closed")))

    async def _write(self, closed: bool) -> None:
        await self._link.send({"op": "relay", "connector": self.connector, "closed": closed})


class SimLock(_SimDevice, CableLock):
    """The cable lock of connector ``connector``, with its position switch."""

    EVENT = "lock"

    def __init__(self, *, address: str, connector: int = 1, feedback_timeout: float = 1.0) -> None:
        super().__init__(address=address, connector=connector, feedback_timeout=feedback_timeout)

    def _on_event(self, message: dict[str, Any]) -> None:
        self.feedback = self._fed(self.feedback, bool(message.get("locked")))

    async def _drive(self, locked: bool) -> None:
        await self._link.send({"op": "lock", "connector": self.connector, "locked": locked})


class SimProtection(_SimDevice, Protection):
    """The RCD and over-temperature inputs of connector ``connector``."""

    EVENT = "protection"

    def _on_event(self, message: dict[str, Any]) -> None:
        for name in ("rcd", "overtemp"):
            self.inputs[name] = self._fed(self.inputs.get(name), bool(message.get(name)))
