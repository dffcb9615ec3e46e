"""The charge point: the async shell around the connector machines (DESIGN.md, data flow).

It feeds hardware events and Central System requests to the engine's machines, applies their
effects to the HAL, the journal and the outbox, and runs the protocol's timers: BootNotification
until accepted (4.2), heartbeats (4.6), meter samples (4.7), status notifications (4.9).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from hal.events import CardPresented, MeterReading
from hal.meter.base import Meter
from hal.pilot.base import Pilot
from hal.relay.base import Relay
from hal.rfid.base import CardReader
from hal.errors import HalError

from chargebox.binding import CallFailed, CentralSystemUnreachable
from chargebox.binding.soap15.faults import NotSupported
from chargebox.clock import Clock
from chargebox.engine.connector import (
    BeginTransaction,
    Connector,
    Effect,
    EndTransaction,
    OfferCurrent,
    SwitchRelay,
)
from chargebox.engine.routing import handles, routes
from chargebox.ocpp.datatypes import MeterValue, SampledValue
from chargebox.ocpp.enums import (
    AuthorizationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    Measurand,
    ReadingContext,
    RegistrationStatus,
    RemoteStartStopStatus,
    UnitOfMeasure,
)
from chargebox.ocpp.messages import (
    AuthorizeConfirmation,
    AuthorizeRequest,
    BootNotificationConfirmation,
    BootNotificationRequest,
    Confirmation,
    HeartbeatConfirmation,
    HeartbeatRequest,
    MeterValuesRequest,
    RemoteStartTransactionConfirmation,
    RemoteStartTransactionRequest,
    RemoteStopTransactionConfirmation,
    RemoteStopTransactionRequest,
    Request,
    StartTransactionConfirmation,
    StartTransactionRequest,
    StatusNotificationRequest,
    StopTransactionRequest,
)
from chargebox.store.database import atomic
from chargebox.store.outbox import Outbox
from chargebox.store.transactions import TransactionJournal

log = logging.getLogger(__name__)


class Client(Protocol):
    async def call(self, request: Request) -> Confirmation: ...


@dataclass(slots=True)
class ConnectorHardware:
    """What one connector is wired to."""

    pilot: Pilot
    relay: Relay
    meter: Meter
    max_current: float


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
    """Protocol intervals in seconds; the Central System's values replace these when given."""

    heartbeat_interval: float = 900.0
    meter_value_sample_interval: float = 60.0
    connection_timeout: float = 60.0
    boot_retry_min: float = 5.0
    boot_retry_max: float = 600.0
    retry_unreachable: float = 30.0
    transaction_message_attempts: int = 3
    transaction_message_retry_interval: float = 60.0


def whole_wh(reading: MeterReading) -> int:
    """meterStart and meterStop are whole Wh, rounded the same way at both ends (6.26, 6.28)."""
    return int(round(reading.energy_import_wh))


@dataclass(slots=True)
class _Port:
    """One connector: its machine, its hardware, and the transaction running on it."""

    machine: Connector
    hardware: ConnectorHardware
    local_tx: int | None = None
    announced: tuple[ChargePointStatus, ChargePointErrorCode] | None = None
    sampler: asyncio.Task[None] | None = None
    lapse: asyncio.TimerHandle | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ChargePoint:
    """Runs the box: ``await run()`` until cancelled. ``handle()`` answers Central System requests."""

    def __init__(
        self, *, identity: Identity, client: Client, journal: TransactionJournal, outbox: Outbox,
        clock: Clock, connectors: dict[int, ConnectorHardware], reader: CardReader | None,
        timers: Timers | None = None, on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.identity = identity
        self.client = client
        self.journal = journal
        self.outbox = outbox
        self.clock = clock
        self.reader = reader
        self.timers = timers or Timers()
        self.ports = {n: _Port(Connector(n, hw.max_current), hw) for n, hw in sorted(connectors.items())}
        self.booted = asyncio.Event()
        self.registration: RegistrationStatus | None = None
        self.last_heartbeat: float | None = None
        self._on_event = on_event or (lambda kind, data: None)
        self._outbox_wakeup = asyncio.Event()
        self._last_traffic = 0.0
        self._routes = routes(self)
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Start the devices and every loop; returns only when cancelled (then stops cleanly)."""
        for port in self.ports.values():
            await port.hardware.pilot.connect()
            await port.hardware.relay.connect()
            await port.hardware.relay.set(False)  # never closed without a journalled transaction
            await port.hardware.pilot.offer(None)
            await port.hardware.meter.open()
        if self.reader is not None:
            await self.reader.open()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._boot_loop())
                group.create_task(self._heartbeat_loop())
                group.create_task(self._outbox_loop())
                if self.reader is not None:
                    group.create_task(self._reader_loop(self.reader))
                for port in self.ports.values():
                    group.create_task(self._pilot_loop(port))
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        for port in self.ports.values():
            if port.sampler is not None:
                port.sampler.cancel()
            with contextlib.suppress(HalError, OSError):
                await port.hardware.relay.set(False)
            for close in (port.hardware.pilot.disconnect, port.hardware.relay.disconnect, port.hardware.meter.close):
                with contextlib.suppress(HalError, OSError):
                    await close()
        if self.reader is not None:
            with contextlib.suppress(HalError, OSError):
                await self.reader.close()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, request: Request) -> Confirmation:
        """A direct call (not through the outbox); every call counts as traffic for heartbeats."""
        self._on_event("ocpp-request", {"action": request.action()})
        confirmation = await self.client.call(request)
        self._last_traffic = self.clock.monotonic()
        return confirmation

    # -- boot and heartbeat (4.2, 4.6) ---------------------------------------------------------

    async def _boot_loop(self) -> None:
        delay = self.timers.boot_retry_min
        identity = self.identity
        meter = next(iter(self.ports.values())).hardware.meter if self.ports else None
        meter_identity = None
        if meter is not None:
            with contextlib.suppress(HalError, OSError):
                meter_identity = await meter.identity()
        request = BootNotificationRequest(
            charge_point_vendor=identity.vendor, charge_point_model=identity.model,
            charge_point_serial_number=identity.serial_number,
            charge_box_serial_number=identity.charge_box_serial_number,
            firmware_version=identity.firmware_version,
            meter_type=meter_identity.model[:25] if meter_identity else None,
            meter_serial_number=meter_identity.serial_number[:25] if meter_identity and meter_identity.serial_number else None,
        )
        while True:
            try:
                conf = await self._send(request)
                assert isinstance(conf, BootNotificationConfirmation)
                self.registration = conf.status
                self.clock.sync(conf.current_time)
                if conf.status is RegistrationStatus.ACCEPTED:
                    if conf.heartbeat_interval > 0:
                        self.timers.heartbeat_interval = conf.heartbeat_interval
                    break
                # Rejected: retry after the interval the Central System gave (6.4).
                delay = max(conf.heartbeat_interval, self.timers.boot_retry_min)
            except (CentralSystemUnreachable, CallFailed) as err:
                log.warning("BootNotification failed: %s", err)
            # Growing, jittered intervals, so a fleet that lost its Central System does not return at once.
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.timers.boot_retry_max)
        log.info("boot accepted; heartbeat every %s s", self.timers.heartbeat_interval)
        self.booted.set()
        self._outbox_wakeup.set()
        await self._announce_all()

    async def _heartbeat_loop(self) -> None:
        await self.booted.wait()
        while True:
            # Skipped when other traffic went out within the interval (6.16).
            due = self._last_traffic + self.timers.heartbeat_interval
            wait = due - self.clock.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            try:
                conf = await self._send(HeartbeatRequest())
                assert isinstance(conf, HeartbeatConfirmation)
                self.clock.sync(conf.current_time)
                self.last_heartbeat = self.clock.monotonic()
            except (CentralSystemUnreachable, CallFailed) as err:
                log.warning("Heartbeat failed: %s", err)
                self._last_traffic = self.clock.monotonic()

    # -- status (4.9) --------------------------------------------------------------------------

    async def _announce_all(self) -> None:
        for port in self.ports.values():
            await self._announce(port)

    async def _announce(self, port: _Port) -> None:
        """A StatusNotification when the computed status or error changed (4.9)."""
        machine = port.machine
        current = (machine.status, machine.fault or ChargePointErrorCode.NO_ERROR)
        if current == port.announced or not self.booted.is_set():
            return
        port.announced = current
        self._on_event("status", {"connector": machine.number, "status": current[0].value})
        request = StatusNotificationRequest(
            connector_id=machine.number, status=current[0], error_code=current[1], timestamp=self.clock.now(),
        )
        try:
            await self._send(request)
        except (CentralSystemUnreachable, CallFailed) as err:
            log.warning("StatusNotification failed: %s", err)

    # -- hardware events -----------------------------------------------------------------------

    async def _pilot_loop(self, port: _Port) -> None:
        """Pilot states into the machine; a lost pilot device is reconnected, never fatal (DESIGN.md)."""
        while True:
            try:
                async for state in port.hardware.pilot.states():
                    self._on_event("pilot", {"connector": port.machine.number, "state": state.value})
                    async with port.lock:
                        await self._apply(port, port.machine.on_pilot(state))
                    await self._announce(port)
            except (HalError, OSError) as err:
                log.error("pilot of connector %s lost: %s; reconnecting", port.machine.number, err)
            await asyncio.sleep(self.timers.boot_retry_min)
            with contextlib.suppress(HalError, OSError):
                await port.hardware.pilot.connect()

    async def _reader_loop(self, reader: CardReader) -> None:
        async for card in reader.cards():
            self._on_event("card", {"id_tag": card.id_token})
            await self.present(card)

    async def present(self, card: CardPresented) -> None:
        """A card on the reader: stop the session it started, or authorize a new one."""
        id_tag = card.id_token
        for port in self.ports.values():
            if port.machine.in_transaction and (port.machine.id_tag or "").casefold() == id_tag.casefold():
                # The card that started the session stops it without an Authorize (1.6 section 3.5.4).
                await self._stop(port, "Local", id_tag)
                return
        free = self._free_port()
        if free is None:
            log.info("card presented, but no connector is free")
            return
        if not self.booted.is_set():
            log.info("card presented before boot was accepted; refused")
            return
        try:
            conf = await self._send(AuthorizeRequest(id_tag=id_tag))
        except (CentralSystemUnreachable, CallFailed) as err:
            log.warning("Authorize failed, card refused: %s", err)
            return
        assert isinstance(conf, AuthorizeConfirmation)
        if conf.id_tag_info.status is not AuthorizationStatus.ACCEPTED:
            log.info("card %s not authorized: %s", id_tag, conf.id_tag_info.status)
            return
        await self._authorize(free, id_tag, conf.id_tag_info.parent_id_tag)

    def _free_port(self, number: int | None = None) -> _Port | None:
        candidates = [self.ports[number]] if number in self.ports else list(self.ports.values())
        # A connector with a cable waiting is the one the driver means.
        for phase_wanted in ("PLUGGED", "IDLE"):
            for port in candidates:
                if port.machine.phase.name == phase_wanted and port.machine.fault is None:
                    return port
        return None

    async def _authorize(self, port: _Port, id_tag: str, parent_id_tag: str | None) -> None:
        async with port.lock:
            await self._apply(port, port.machine.on_authorized(id_tag, parent_id_tag))
            if port.machine.phase.name == "AUTHORIZED":
                port.lapse = asyncio.get_running_loop().call_later(
                    self.timers.connection_timeout, self._lapse, port)
        await self._announce(port)

    def _lapse(self, port: _Port) -> None:
        port.machine.on_connection_timeout()
        self._spawn(self._announce(port))

    async def _stop(self, port: _Port, reason: str, id_tag: str | None) -> None:
        async with port.lock:
            await self._apply(port, port.machine.on_stop(reason, id_tag))
        await self._announce(port)

    # -- effects -------------------------------------------------------------------------------

    async def _apply(self, port: _Port, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, BeginTransaction):
                if port.lapse is not None:
                    port.lapse.cancel()
                await self._begin(port, effect)
            elif isinstance(effect, EndTransaction):
                await self._end(port, effect)
            elif isinstance(effect, SwitchRelay):
                self._on_event("relay", {"connector": port.machine.number, "closed": effect.closed})
                await port.hardware.relay.set(effect.closed)
            elif isinstance(effect, OfferCurrent):
                self._on_event("offer", {"connector": port.machine.number, "amps": effect.amps})
                await port.hardware.pilot.offer(effect.amps)

    async def _read_meter(self, port: _Port) -> MeterReading | None:
        try:
            return await port.hardware.meter.read()
        except (HalError, OSError) as err:
            log.warning("meter of connector %s: %s", port.machine.number, err)
            return port.hardware.meter.last_good

    async def _begin(self, port: _Port, effect: BeginTransaction) -> None:
        reading = await self._read_meter(port)
        meter_start = whole_wh(reading) if reading else 0
        now = self.clock.now()
        request = StartTransactionRequest(
            connector_id=port.machine.number, id_tag=effect.id_tag, timestamp=now, meter_start=meter_start,
        )
        # Journal and outbox in one SQLite transaction: a power cut keeps both or neither.
        with atomic(self.journal.db):
            entry = self.journal.begin(
                connector_id=port.machine.number, id_tag=effect.id_tag, meter_start=meter_start,
                start_time=now, synced=self.clock.synced, parent_id_tag=effect.parent_id_tag,
            )
            self.outbox.put(request, local_tx=entry.local_id, created=now)
        port.local_tx = entry.local_id
        self._outbox_wakeup.set()
        port.sampler = asyncio.create_task(self._sample_loop(port, entry.local_id))

    async def _end(self, port: _Port, effect: EndTransaction) -> None:
        if port.sampler is not None:
            port.sampler.cancel()
            port.sampler = None
        local_tx = port.local_tx
        if local_tx is None:
            return
        reading = await self._read_meter(port)
        entry = self.journal.get(local_tx)
        meter_stop = whole_wh(reading) if reading else (entry.meter_last or entry.meter_start)
        now = self.clock.now()
        with atomic(self.journal.db):
            self.journal.finish(local_tx, meter_stop=meter_stop, stop_time=now, reason=effect.reason,
                                id_tag=effect.id_tag)
            # transactionId is filled in when the message is sent: the Central System may not have
            # answered the StartTransaction yet (DESIGN.md, outbox).
            self.outbox.put(
                StopTransactionRequest(transaction_id=0, id_tag=effect.id_tag, timestamp=now, meter_stop=meter_stop),
                local_tx=local_tx, created=now,
            )
        port.local_tx = None
        self._outbox_wakeup.set()

    async def _sample_loop(self, port: _Port, local_tx: int) -> None:
        """MeterValues every MeterValueSampleInterval from the start of the transaction (4.7)."""
        interval = self.timers.meter_value_sample_interval
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            try:
                reading = await port.hardware.meter.read()
            except (HalError, OSError) as err:
                log.warning("meter sample failed: %s", err)
                continue
            now = self.clock.now()
            wh = whole_wh(reading)
            value = MeterValue(now, [SampledValue(
                str(wh), context=ReadingContext.SAMPLE_PERIODIC,
                measurand=Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, unit=UnitOfMeasure.WH,
            )])
            with atomic(self.journal.db):
                self.journal.record_meter(local_tx, wh, now)
                self.outbox.put(
                    MeterValuesRequest(connector_id=port.machine.number, transaction_id=0, values=[value]),
                    local_tx=local_tx, created=now,
                )
            self._outbox_wakeup.set()

    # -- the outbox (DESIGN.md; OCPP 1.6 section 3.7) -----------------------------------------

    async def _outbox_loop(self) -> None:
        await self.booted.wait()
        while True:
            queued = self.outbox.head()
            if queued is None:
                self._outbox_wakeup.clear()
                await self._outbox_wakeup.wait()
                continue
            request = queued.request
            if queued.local_tx is not None and not isinstance(request, StartTransactionRequest):
                transaction_id = self.journal.get(queued.local_tx).transaction_id
                if transaction_id is None:
                    # Its StartTransaction was given up on: no id exists, and none may be guessed.
                    log.error("dropping %s: its transaction never got an id", request.action())
                    self.outbox.remove(queued.seq)
                    continue
                request = dataclasses.replace(request, transaction_id=transaction_id)  # type: ignore[call-arg]
            try:
                conf = await self._send(request)
            except CentralSystemUnreachable as err:
                # Not a failure to process: the message waits, however long the outage.
                log.info("Central System unreachable, %s waits: %s", request.action(), err)
                await asyncio.sleep(self.timers.retry_unreachable)
                continue
            except CallFailed as err:
                attempts = self.outbox.count_attempt(queued.seq)
                if attempts >= self.timers.transaction_message_attempts:
                    log.error("%s failed %d times, giving up: %s", request.action(), attempts, err)
                    self.outbox.remove(queued.seq)
                    continue
                log.warning("%s failed (attempt %d): %s", request.action(), attempts, err)
                await asyncio.sleep(self.timers.transaction_message_retry_interval * attempts)
                continue
            if isinstance(conf, StartTransactionConfirmation) and queued.local_tx is not None:
                with atomic(self.journal.db):
                    self.journal.set_transaction_id(queued.local_tx, conf.transaction_id)
                    self.outbox.remove(queued.seq)
            else:
                self.outbox.remove(queued.seq)

    # -- Central System requests (chapter 5) ---------------------------------------------------

    async def handle(self, request: Request) -> Confirmation:
        handler = self._routes.get(type(request))
        if handler is None:
            raise NotSupported(f"{request.action()} is not supported yet")
        return await handler(request)

    @handles(RemoteStartTransactionRequest)
    async def _remote_start(self, request: RemoteStartTransactionRequest) -> Confirmation:
        """5.10: accepted when a connector can take it; the session then starts normally."""
        port = self._free_port(request.connector_id)
        if port is None or (request.connector_id is not None and request.connector_id not in self.ports):
            return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.REJECTED)
        self._spawn(self._authorize(port, request.id_tag, None))
        return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)

    @handles(RemoteStopTransactionRequest)
    async def _remote_stop(self, request: RemoteStopTransactionRequest) -> Confirmation:
        """5.11: stop the transaction with that id, as if stopped locally; Rejected when unknown."""
        entry = self.journal.by_transaction_id(request.transaction_id)
        for port in self.ports.values():
            if entry is not None and entry.running and port.local_tx == entry.local_id:
                self._spawn(self._stop(port, "Remote", None))
                return RemoteStopTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)
        return RemoteStopTransactionConfirmation(status=RemoteStartStopStatus.REJECTED)
