"""The shell's parts (:mod:`~chargebox.engine.chargepoint`): what each connector is wired to, how a
device's fault is reported, what the box tells about itself, its own intervals, and what the
cards and the commands start and stop sessions with."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from hal.errors import HalError
from hal.events import DeviceFault, FaultKind, MeterReading
from hal.faults import FaultSource
from hal.lock.base import CableLock
from hal.meter.base import Meter
from hal.pilot.base import Pilot
from hal.protection.base import Protection
from hal.relay.base import Relay

from chargebox.engine.connector import Connector, Fault
from chargebox.ocpp.enums import ChargePointErrorCode, Reason
from chargebox.ocpp.messages import BootNotificationRequest

log = logging.getLogger(__name__)

#: Seconds a device may take to open its relay or to close at shutdown: a stop must end within
#: seconds (README, The service) whatever a device's library does, and says which device hung.
DEVICE_STOP_TIMEOUT = 3.0


@dataclass(slots=True)
class ConnectorHardware:
    """What one connector is wired to; a socket outlet has a cable lock, a box may have protections."""

    pilot: Pilot
    relay: Relay
    meter: Meter
    max_current: float
    lock: CableLock | None = None
    protection: Protection | None = None

    def fault_sources(self) -> list[FaultSource]:
        devices: list[FaultSource | None] = [self.pilot, self.relay, self.meter, self.lock, self.protection]
        return [device for device in devices if device is not None]

    async def open(self) -> bool:
        """Open every device, the relay open and nothing offered: never closed without a journalled
        transaction. A meter that cannot be opened is retried by its reads (its connector Faulted).
        Whether the relay is known open (its command went through)."""
        await self.pilot.open()
        await self.relay.open()
        try:
            await self.relay.set(False)
            opened = True
        except HalError:  # a welded relay is reported by its fault stream
            opened = False
        await self.pilot.offer(None)
        for device in (self.lock, self.protection):
            if device is not None:
                await device.open()
        with contextlib.suppress(HalError, OSError):
            await self.meter.open()
        return opened

    async def close(self, number: int) -> None:
        """Close every device of connector ``number``, each within DEVICE_STOP_TIMEOUT (:func:`bounded`)."""
        for device in (self.pilot, self.relay, self.meter, self.lock, self.protection):
            if device is not None:
                await bounded(device.close(), f"{type(device).__name__} of connector {number}")


#: HAL fault kinds as OCPP 1.5 error codes (7.7).
ERROR_CODES = {
    FaultKind.READER: ChargePointErrorCode.READER_FAILURE,
    FaultKind.METER: ChargePointErrorCode.POWER_METER_FAILURE,
    FaultKind.POWER_SWITCH: ChargePointErrorCode.POWER_SWITCH_FAILURE,
    FaultKind.CONNECTOR_LOCK: ChargePointErrorCode.CONNECTOR_LOCK_FAILURE,
    FaultKind.MODE3: ChargePointErrorCode.MODE3_ERROR,
    FaultKind.HIGH_TEMPERATURE: ChargePointErrorCode.HIGH_TEMPERATURE,
    FaultKind.OVER_CURRENT: ChargePointErrorCode.OVER_CURRENT_FAILURE,
    FaultKind.UNDER_VOLTAGE: ChargePointErrorCode.UNDER_VOLTAGE,
    FaultKind.GROUND: ChargePointErrorCode.GROUND_FAILURE,
    FaultKind.WEAK_SIGNAL: ChargePointErrorCode.WEAK_SIGNAL,
    FaultKind.OTHER: ChargePointErrorCode.OTHER_ERROR,
}


def as_fault(event: DeviceFault) -> Fault:
    """A device's fault as StatusNotification reports it: OtherError carries the detail as its
    vendorErrorCode (6.44), every other code carries it as info."""
    code = ERROR_CODES[event.kind]
    if code is ChargePointErrorCode.OTHER_ERROR:
        return Fault(code, vendor_error_code=event.detail[:50] or None)
    return Fault(code, event.detail[:50])


async def boot_request(identity: Identity, meters: list[Meter],
                       details: list[Callable[[], Awaitable[dict[str, Any]]]]) -> BootNotificationRequest:
    """BootNotification.req (6.3): the box's identity, the first meter that tells its own, and more
    fields from ``details`` (the modem's iccid and imsi...); one that fails is left out, so a missing
    device never delays the boot."""
    meter_identity = None
    for meter in meters:
        with contextlib.suppress(HalError, OSError):
            meter_identity = await meter.identity()
            break
    request = BootNotificationRequest(
        charge_point_vendor=identity.vendor, charge_point_model=identity.model,
        charge_point_serial_number=identity.serial_number,
        charge_box_serial_number=identity.charge_box_serial_number,
        firmware_version=identity.firmware_version,
        meter_type=meter_identity.model[:25] if meter_identity else None,
        meter_serial_number=(meter_identity.serial_number or "")[:25] or None if meter_identity else None,
    )
    for more in details:
        try:
            request = dataclasses.replace(request, **await more())
        except (HalError, OSError) as err:
            log.warning("BootNotification goes without some details: %s", err)
    return request


@dataclass(frozen=True, slots=True)
class Identity:
    """What BootNotification.req tells about the box (6.3)."""

    vendor: str
    model: str
    serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None


@dataclass(slots=True)
class Timers:
    """The box's own intervals in seconds (the protocol's are configuration keys)."""

    boot_retry_min: float = 5.0
    boot_retry_max: float = 600.0
    #: How often a running transaction's meter register and sign of life reach the journal: what a
    #: power cut stops it with.
    journal_interval: float = 60.0
    #: How often an idle connector's meter that cannot be read is tried again: the connector is
    #: available for charging again as soon as it answers.
    meter_retry: float = 10.0
    #: How long a new session's StartTransaction waits for its relay to close (the EV asks for energy
    #: within it, or the session goes on without: SuspendedEV).
    start_wait: float = 1.0


@dataclass(slots=True)
class Port:
    """One connector: its machine, its hardware, and the transaction running on it."""

    machine: Connector  # the station's
    hardware: ConnectorHardware
    local_tx: int | None = None
    aligned_from: MeterReading | None = None  # the reading at the start of the clock-aligned interval
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Loop time since which the relay is known open (None: not known open: before the devices are
    #: open, while it is being switched, closed, or after a command that failed).
    relay_opened: float | None = None
    #: A good reading asked for and answered while the relay stayed known open: the register until it
    #: closes (:meth:`Devices.reading_at_hand <chargebox.engine.devices.Devices.reading_at_hand>`).
    at_hand: MeterReading | None = None

    def relay_known_open(self) -> None:
        """The relay's open command went through (at start, or after a session): known open from now."""
        self.relay_opened = asyncio.get_running_loop().time()



class Sessions(Protocol):
    """What starts and stops sessions, for the cards, the commands and resets (the shell,
    :class:`~chargebox.engine.chargepoint.ChargePoint`, carries out the station's effects)."""

    ports: dict[int, Port]

    def free_port(self, number: int | None = None, id_tag: str | None = None) -> Port | None: ...

    def port_of_transaction(self, transaction_id: int) -> Port | None: ...

    async def authorize(self, port: Port, id_tag: str, parent_id_tag: str | None) -> None: ...

    async def stop(self, port: Port, reason: Reason, id_tag: str | None) -> None: ...

    async def release(self, id_tag: str) -> bool: ...

    async def lapse(self, port: Port) -> None: ...

    async def unlock(self, port: Port) -> bool: ...


async def bounded(step: Awaitable[Any], what: str) -> None:
    """One device step of the shutdown: its failure or hang is logged and the stop goes on."""
    deadline = asyncio.timeout(DEVICE_STOP_TIMEOUT)
    try:
        async with deadline:
            await step
    except (HalError, OSError) as err:  # TimeoutError is an OSError: the deadline's, or the device's own
        if deadline.expired():
            log.error("stopping: %s did not answer within %s s; going on", what, DEVICE_STOP_TIMEOUT)
        else:
            log.warning("stopping: %s failed: %s", what, err)
