"""The devices of the runtime shell (:mod:`~chargebox.engine.chargepoint`): pilot states and device
faults into the station, the station's device effects (relay, PWM offer, cable lock) out to them,
meter reads and the meter watch (a loop handle, DESIGN.md style 10). The effects the station
returns go back to the shell (``apply`` for those that drive a device, under the port's lock;
``note`` for those that need none).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from hal.errors import HalError
from hal.events import MeterReading
from hal.faults import FaultSource

from chargebox.engine.connector import Fault, LockCable, OfferCurrent, SwitchRelay
from chargebox.engine.hardware import Port, Timers, as_fault
from chargebox.engine.station import Station, StationEffect
from chargebox.ocpp.enums import ChargePointErrorCode

log = logging.getLogger(__name__)


class Devices:
    def __init__(self, *, station: Station, ports: dict[int, Port], timers: Timers,
                 apply: Callable[[list[StationEffect]], Awaitable[object]],
                 note: Callable[[list[StationEffect]], None], spawn: Callable[[Awaitable[Any]], None],
                 on_event: Callable[[str, dict[str, Any]], None]) -> None:
        self.station = station
        self.ports = ports
        self.timers = timers
        self._apply = apply
        self._note = note
        self._spawn = spawn
        self._on_event = on_event
        self._watching = False  # the meter watch runs (between watch() and stop())
        self._retries: dict[int, asyncio.TimerHandle] = {}

    # -- faults (4.9) --------------------------------------------------------------------------

    def box_fault(self, fault: Fault, active: bool) -> None:
        """A fault of the box as a whole (ReaderFailure, WeakSignal, ResetFailure), on connector 0."""
        self._note(self.station.box_fault(fault, active))

    async def box_faults(self, device: FaultSource) -> None:
        async for event in device.faults():
            self.box_fault(as_fault(event), event.active)

    async def connector_faults(self, port: Port, device: FaultSource) -> None:
        async for event in device.faults():
            log.log(logging.WARNING if event.active else logging.INFO, "connector %s: %s %s%s",
                    port.machine.number, event.kind.value, "fault" if event.active else "cleared",
                    f" ({event.detail})" if event.detail else "")
            await self.connector_fault(port, as_fault(event), event.active)

    async def connector_fault(self, port: Port, fault: Fault, active: bool) -> None:
        """A fault of one connector's hardware: a blocking one stops its session (4.9, 7.7)."""
        async with port.lock:
            await self._apply(self.station.on_fault(port.machine.number, fault, active))
        if active and fault.code is ChargePointErrorCode.POWER_METER_FAILURE:
            self._retry(port)

    # -- the pilot, and the device effects ---------------------------------------------------

    async def pilot(self, port: Port) -> None:
        """Pilot states into the station; a lost pilot device is reconnected, never fatal (DESIGN.md)."""
        while True:
            try:
                async for state in port.hardware.pilot.states():
                    self._on_event("pilot", {"connector": port.machine.number, "state": state.value})
                    async with port.lock:
                        await self._apply(self.station.on_pilot(port.machine.number, state))
            except (HalError, OSError) as err:
                log.error("pilot of connector %s lost: %s; reconnecting", port.machine.number, err)
            await asyncio.sleep(self.timers.boot_retry_min)
            with contextlib.suppress(HalError, OSError):
                await port.hardware.pilot.open()

    async def drive(self, port: Port, effect: SwitchRelay | LockCable | OfferCurrent) -> tuple[bool, str] | None:
        """One device effect; a cable lock that failed gives (locking, why)."""
        if isinstance(effect, SwitchRelay):
            self._on_event("relay", {"connector": port.machine.number, "closed": effect.closed})
            # From the command on, energy may flow until the relay is known open again: no reading at hand.
            port.relay_opened = port.at_hand = None
            try:
                await port.hardware.relay.set(effect.closed)
            except HalError as err:  # welded or stuck open: its fault stream stops the session
                log.error("relay of connector %s: %s", port.machine.number, err)
            else:
                if not effect.closed:
                    port.relay_known_open()
        elif isinstance(effect, LockCable):
            lock = port.hardware.lock
            if lock is None or lock.locked == effect.locked:  # tethered, or already where commanded
                return None
            try:
                await (lock.lock() if effect.locked else lock.unlock())
            except (HalError, OSError) as err:  # with a position switch, LockFailure when it did not move
                log.error("cable lock of connector %s: %s", port.machine.number, err)
                return effect.locked, str(err)
        else:
            self._on_event("offer", {"connector": port.machine.number, "amps": effect.amps})
            await port.hardware.pilot.offer(effect.amps)
        return None

    # -- the meter -----------------------------------------------------------------------------

    async def read_meter(self, port: Port) -> MeterReading | None:
        """A fresh, plausible reading, or None. Outside a transaction a meter that cannot be read
        makes its connector Faulted with PowerMeterFailure until it answers again (no session may
        start without a real meterStart, 6.26); during one, the meter reports PowerMeterFailure
        itself after ``fault_after`` failed reads, and the session goes on."""
        number = port.machine.number
        opened = port.relay_opened  # the relay known open since then, before the question goes out
        try:
            reading = await port.hardware.meter.read()
        except (HalError, OSError) as err:
            port.at_hand = None
            log.warning("meter of connector %s: %s", number, err)
            # Without device effects (SESSION_GOES_ON): safe under the port's lock.
            self._note(self.station.on_meter(number, str(err), port.local_tx is not None))
            self._retry(port)
            return None
        if opened is not None and port.relay_opened == opened:
            port.at_hand = reading
        self._note(self.station.on_meter(number, None, port.local_tx is not None))
        return reading

    def reading_at_hand(self, port: Port) -> MeterReading | None:
        """The meter's register now, without asking it: while the relay is open no energy flows
        through the connector's meter, so a good reading asked for and answered since the relay was
        last known open (:attr:`Port.at_hand <chargebox.engine.hardware.Port.at_hand>`: the card's,
        a session's last) is still the register, which is what meterStart is: "the meter value in Wh
        for the connector at start of the transaction" (StartTransaction.req, 1.5 6.39, 1.6 6.45).
        None when there is none, or when the meter's last read failed or it is known to have failed
        (PowerMeterFailure)."""
        meter = port.hardware.meter
        if port.at_hand is None or meter.failed_reads or self.station.meter_failed(port.machine.number):
            return None
        return port.at_hand

    async def meter_start(self, port: Port) -> MeterReading | None:
        """The reading a session beginning on ``port`` starts with: the one the card's authorization
        asked for (:meth:`reading_at_hand`: the relay has been open since), else a fresh one."""
        return self.reading_at_hand(port) or await self.read_meter(port)

    def watch(self) -> None:
        """Every connector's meter is read now, and while it cannot be read, again every
        ``meter_retry`` seconds when no transaction reads it: the connector is available again
        once it answers."""
        self._watching = True
        for port in self.ports.values():
            self._spawn(self._check_meter(port))

    def stop(self) -> None:
        """The meter watch's handles cancelled (the shell stops)."""
        self._watching = False
        for handle in self._retries.values():
            handle.cancel()
        self._retries.clear()

    async def _check_meter(self, port: Port) -> None:
        if port.local_tx is None:
            await self.read_meter(port)
        self._retry(port)

    def _retry(self, port: Port) -> None:
        """A check of the meter in ``meter_retry`` seconds, while it has failed and none is due."""
        number = port.machine.number
        if not self._watching or number in self._retries or not self.station.meter_failed(number):
            return
        loop = asyncio.get_running_loop()
        self._retries[number] = loop.call_later(self.timers.meter_retry, self._due, port)

    def _due(self, port: Port) -> None:
        del self._retries[port.machine.number]
        self._spawn(self._check_meter(port))
