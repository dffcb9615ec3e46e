"""The charge point: the runtime shell around the station (DESIGN.md, "a functional core with a thin shell").

It owns the loop, the devices, the store and the link: it feeds hardware events to the synchronous
core (:mod:`~chargebox.engine.station`) and applies the effects it returns, on the devices (relay,
PWM offer, cable lock), in the journal and outbox (:mod:`~chargebox.engine.recorder`), as statuses
to tell (:mod:`~chargebox.engine.uplink`, which also boots and beats, 4.2, 4.6, 4.9), settings to
save and loop timers. Meter values are timed by :mod:`~chargebox.engine.sampler`, cards handled by
:mod:`~chargebox.engine.cards`, the outbox delivered by :mod:`~chargebox.engine.delivery`; Central
System commands are answered by the handlers :mod:`~chargebox.engine.management` installs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from hal.errors import HalError
from hal.events import CardPresented, MeterReading
from hal.faults import FaultSource
from hal.rfid.base import CardReader

from chargebox.clock import Clock, nap
from chargebox.engine.authorization import Authorizer
from chargebox.engine.cards import Cards, refused_unmetered
from chargebox.engine.configuration import Configuration
from chargebox.engine.connector import (
    BeginTransaction,
    Connector,
    Effect,
    EndTransaction,
    Fault,
    LockCable,
    OfferCurrent,
    SwitchRelay,
)
from chargebox.engine.delivery import Courier
from chargebox.engine.hardware import (
    ConnectorHardware,
    Identity,
    Port,
    Timers,
    as_fault,
    boot_request,
    bounded,
)
from chargebox.engine.metering import whole_wh
from chargebox.engine.recorder import Recorder
from chargebox.engine.routing import routes
from chargebox.engine.sampler import Sampler
from chargebox.engine.uplink import Client, Uplink
from chargebox.engine.station import (
    AVAILABILITY,
    RESERVATIONS,
    Announce,
    CancelTimer,
    On,
    Save,
    StartTimer,
    Station,
    StationEffect,
    Timer,
)
from chargebox.logfields import fields
from chargebox.ocpp.datatypes import IdTagInfo
from chargebox.ocpp.enums import (
    AuthorizationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    Reason,
    RegistrationStatus,
)
from chargebox.ocpp.errors import NotSupported
from chargebox.ocpp.messages import (
    Confirmation,
    Request,
    StartTransactionConfirmation,
    StartTransactionRequest,
    StopTransactionConfirmation,
    StopTransactionRequest,
)
from chargebox.store import Store
from chargebox.store.outbox import Queued

log = logging.getLogger(__name__)

#: The settings key saved when the daemon stopped cleanly with a session running: the next start
#: stops it with reason Reboot (a locally initiated restart, 1.6 7.35), not PowerLoss.
SHUT_DOWN = "shut-down"

class ChargePoint:
    """Runs the box: ``await run()`` until cancelled. ``handle()`` answers Central System requests."""

    def __init__(
        self, *, identity: Identity, client: Client, store: Store, config: Configuration, clock: Clock,
        connectors: dict[int, ConnectorHardware], reader: CardReader | None, timers: Timers | None = None,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
        told_as: Callable[[ChargePointStatus], str] = str,
    ) -> None:
        self.identity = identity
        self.client = client
        self.store = store
        self.journal = store.journal
        self.outbox = store.outbox
        self.config = config
        self.clock = clock
        self.reader = reader
        self.timers = timers or Timers()
        self.station = Station({n: Connector(n, hw.max_current, cable_lock=hw.lock is not None)
                                for n, hw in connectors.items()})
        self.ports = {n: Port(self.station.connectors[n], hw) for n, hw in sorted(connectors.items())}
        self.config.set_fixed("NumberOfConnectors", str(len(self.ports)))
        self.authorizer = Authorizer(config, store.local_list, store.cache, clock)
        self._on_event = on_event or (lambda kind, data: None)
        self.uplink = Uplink(client=client, station=self.station, config=config, clock=clock, timers=self.timers,
                             wake=lambda: self.courier.wake(),
                             post=lambda request, online: self.courier.post(request, online=online),
                             sync_clock=self._sync_clock, spawn=self.spawn,
                             on_event=self._on_event, told_as=told_as)
        self.courier = Courier(store, config, self.uplink.send, self._acknowledged, clock.now)
        self.recorder = Recorder(store, config, clock,
                                 offered=lambda number: self.ports[number].hardware.pilot.offered)
        self.cards = Cards(shell=self, station=self.station, authorizer=self.authorizer, uplink=self.uplink,
                           spawn=self.spawn, on_event=self._on_event)
        self.sampler = Sampler(ports=self.ports, read=self._read_meter, recorder=self.recorder, uplink=self.uplink,
                               config=config, clock=clock, timers=self.timers, wake=lambda: self.courier.wake(),
                               spawn=self.spawn)
        self._routes: dict[type[Request], Callable[[Any], Awaitable[Confirmation]]] = {}
        #: More BootNotification.req fields, each a coroutine giving field name -> value (the modem's
        #: iccid and imsi...); one that fails is left out, so a missing device never delays the boot.
        self.boot_details: list[Callable[[], Awaitable[dict[str, Any]]]] = []
        self._idle = asyncio.Condition()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: dict[Timer, asyncio.TimerHandle] = {}
        self._deferred: list[StartTimer] = []  # timers asked for before run()
        self._restore()

    def _restore(self) -> None:
        """What the station persisted before the restart: the reservations in force, except those a
        transaction ended (its journal entry has the reservationId) or the machines no longer take
        (5.11), then what ChangeAvailability asked (5.2), which ends those of Unavailable connectors."""
        rows: list[dict[str, Any]] = self.store.settings.load(RESERVATIONS) or []
        used = self.journal.reservations_used([row["reservation_id"] for row in rows])
        for refused in self.station.restore_reservations(rows, used):
            log.info("reservation %s not restored: used, or its connector no longer takes it", refused)
        wanted = {int(k): bool(v) for k, v in (self.store.settings.load(AVAILABILITY) or {}).items()}
        self._note_all(self.station.restore_availability(wanted) + self.station.reservations_changed())

    # -- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Start the devices and every loop; returns only when cancelled (then stops cleanly)."""
        for port in self.ports.values():
            await port.hardware.open()
        await self._replay_journal()
        self.sampler.start()
        for start in self._deferred:
            self._start_timer(start)
        self._deferred.clear()
        if self.reader is not None:
            with contextlib.suppress(HalError, OSError):
                await self.reader.open()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._boot())
                group.create_task(self._courier_loop())
                for number in self.uplink.announced:
                    group.create_task(self.uplink.status_lane(number))
                if self.reader is not None:
                    group.create_task(self.cards.read(self.reader))
                    group.create_task(self._box_faults(self.reader))
                for port in self.ports.values():
                    group.create_task(self._pilot_loop(port))
                    group.create_task(self._meter_watch(port))
                    for source in port.hardware.fault_sources():
                        group.create_task(self._connector_faults(port, source))
        finally:
            self.uplink.stop()
            self.sampler.stop()
            for handle in self._timers.values():
                handle.cancel()
            self._timers.clear()
            await self._shutdown()

    async def _shutdown(self) -> None:
        """Relays open; a running session keeps its journal entry with a fresh reading, and the next
        start stops it exactly once (:meth:`_replay_journal`)."""
        for task in list(self._tasks):
            task.cancel()
        if any(port.local_tx is not None for port in self.ports.values()):
            self.store.settings.save(SHUT_DOWN, True)  # only then: no flash write for an idle box
        for port in self.ports.values():
            await bounded(port.hardware.relay.set(False), f"relay of connector {port.machine.number}")
            if port.local_tx is not None:
                reading = await self._read_meter(port)
                if reading is not None:
                    self.journal.record_meter(port.local_tx, whole_wh(reading), self.clock.now())
            await port.hardware.close(port.machine.number)
        if self.reader is not None:
            await bounded(self.reader.close(), "card reader")

    def spawn(self, coro: Awaitable[Any]) -> None:
        """Run ``coro`` beside the loops; it is cancelled when the charge point stops."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def booted(self) -> asyncio.Event:
        """Set once the Central System accepted the box (4.2): nothing else goes before."""
        return self.uplink.booted

    @property
    def online(self) -> bool:
        return self.uplink.online

    @property
    def registration(self) -> RegistrationStatus | None:
        return self.uplink.registration

    @property
    def last_heartbeat(self) -> float | None:
        return self.uplink.last_heartbeat

    async def send(self, request: Request) -> Confirmation:
        """A direct call to the Central System, for handlers outside the engine (maintenance...)."""
        return await self.uplink.send(request)

    async def heartbeat(self) -> None:
        """One Heartbeat.req now (the answer to a wake-up, 8.3)."""
        await self.uplink.heartbeat()

    async def _courier_loop(self) -> None:
        await self.booted.wait()  # nothing but BootNotification before Accepted (4.2)
        await self.courier.run()

    # -- boot and heartbeat (4.2, 4.6) ---------------------------------------------------------

    async def _boot(self) -> None:
        meters = [port.hardware.meter for port in self.ports.values()]
        self.uplink.boot(await boot_request(self.identity, meters, self.boot_details))

    def _sync_clock(self, central_time: datetime) -> None:
        """The Central System's time corrects the clock (6.4, 6.16); transactions begun before the
        first synchronisation get their timestamps corrected by the same step."""
        before = self.clock.offset
        first = not self.clock.synced
        self.clock.sync(central_time)
        self.recorder.clock_set(first, self.clock.offset - before)

    # -- status and faults (4.9) ---------------------------------------------------------------

    async def announce_all(self) -> None:
        self.uplink.announce_all()

    def box_fault(self, fault: Fault, active: bool) -> None:
        """A fault of the box as a whole (ReaderFailure, WeakSignal), reported on connector 0."""
        self._note_all(self.station.box_fault(fault, active))

    async def _box_faults(self, device: FaultSource) -> None:
        async for event in device.faults():
            self.box_fault(as_fault(event), event.active)

    async def _connector_faults(self, port: Port, device: FaultSource) -> None:
        async for event in device.faults():
            log.log(logging.WARNING if event.active else logging.INFO, "connector %s: %s %s%s",
                    port.machine.number, event.kind.value, "fault" if event.active else "cleared",
                    f" ({event.detail})" if event.detail else "")
            await self.connector_fault(port, as_fault(event), event.active)

    async def connector_fault(self, port: Port, fault: Fault, active: bool) -> None:
        """A fault of one connector's hardware: a blocking one stops its session (4.9, 7.7)."""
        if active and fault.code is ChargePointErrorCode.POWER_METER_FAILURE:
            port.meter_failed.set()
        async with port.lock:
            await self._apply(self.station.on_fault(port.machine.number, fault, active))

    # -- hardware events -----------------------------------------------------------------------

    async def _pilot_loop(self, port: Port) -> None:
        """Pilot states into the machine; a lost pilot device is reconnected, never fatal (DESIGN.md)."""
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

    async def present(self, card: CardPresented) -> None:
        """A card on the reader (:meth:`Cards.present <chargebox.engine.cards.Cards.present>`)."""
        await self.cards.present(card)

    def add_handlers(self, handlers: object) -> None:
        """Answer the Central System requests that ``handlers``' ``@handles`` methods take."""
        self._routes.update(routes(handlers))

    @property
    def idle(self) -> bool:
        """No transaction runs and none is about to start."""
        return self.station.idle

    @property
    def session_holds(self) -> set[str]:
        """Why new sessions may not start now (the station's; a firmware update, a reset)."""
        return self.station.session_holds

    @property
    def box_operative(self) -> bool:
        return self.station.box_operative

    async def wait_idle(self) -> None:
        async with self._idle:
            await self._idle.wait_for(lambda: self.idle)

    def free_port(self, number: int | None = None, id_tag: str | None = None) -> Port | None:
        """The connector a new session (for ``id_tag``) goes to (:meth:`Station.free_connector`); none
        while the outbox is near its bound, as a new session's bill must fit (DESIGN.md)."""
        if (full := self.outbox.refuses_sessions()) is not None:
            log.warning("no new session: %s", full, extra=fields(id_tag=id_tag))
            return None
        found, effects = self.station.free_connector(number, id_tag)
        self._note_all(effects)
        return None if found is None else self.ports[found]

    async def authorize(self, port: Port, id_tag: str, parent_id_tag: str | None) -> None:
        # No session without a real meterStart (6.26): a meter that cannot be read now refuses it
        # and makes the connector Faulted (_read_meter).
        if await self._read_meter(port) is None:
            refused_unmetered(id_tag, str(port.machine.number))
            return
        async with port.lock:
            await self._apply(self.station.authorize(port.machine.number, id_tag, parent_id_tag,
                                                     self.config.integer("ConnectionTimeOut")))

    async def stop(self, port: Port, reason: Reason, id_tag: str | None) -> None:
        async with port.lock:
            await self._apply(self.station.stop(port.machine.number, reason, id_tag))

    async def release(self, id_tag: str) -> bool:
        """The cable a deauthorized session left locked for ``id_tag`` is released (errata 3.17);
        whether there was one."""
        number = self.station.held_for(id_tag)
        if number is None:
            return False
        async with self.ports[number].lock:
            await self._apply(self.station.release(number, id_tag))
        return True

    async def lapse(self, port: Port) -> None:
        """An authorization waiting for its cable ends now (a reset)."""
        async with port.lock:
            await self._apply(self.station.lapse(port.machine.number))

    async def apply(self, effects: list[StationEffect]) -> None:
        """Carry out what the station returned to a handler."""
        await self._apply(effects)

    # -- effects -------------------------------------------------------------------------------

    async def _apply(self, effects: list[StationEffect]) -> None:
        """The station's effects, in order; the devices' under the caller's port lock."""
        pending = deque(effects)
        while pending:
            effect = pending.popleft()
            if not isinstance(effect, On):
                self._note(effect)
                continue
            port = self.ports[effect.connector]
            failed = await self._device(port, effect.effect)
            if failed is not None:
                # With the cable not held, the connector's effects that followed must not happen.
                rest = [e for e in pending if not (isinstance(e, On) and e.connector == effect.connector)]
                pending = deque([*self.station.on_lock_failed(effect.connector, *failed), *rest])
        async with self._idle:
            self._idle.notify_all()

    def _note_all(self, effects: list[StationEffect]) -> None:
        for effect in effects:
            assert not isinstance(effect, On), "a device effect needs its port's lock (_apply)"
            self._note(effect)

    def _note(self, effect: StationEffect) -> None:
        """An effect that needs no device: a status to tell, a setting to save, a timer."""
        if isinstance(effect, Announce):
            self.uplink.announce(effect.connector)
        elif isinstance(effect, Save):
            if effect.value is None:
                self.store.settings.delete(effect.key)
            else:
                self.store.settings.save(effect.key, effect.value)  # only when changed: no flash wear
        elif isinstance(effect, StartTimer):
            self._start_timer(effect)
        elif isinstance(effect, CancelTimer):
            handle = self._timers.pop(effect.timer, None)
            if handle is not None:
                handle.cancel()

    def _start_timer(self, start: StartTimer) -> None:
        """A loop handle for the station's timer; before run() it waits for the loop's start."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._deferred.append(start)
            return
        old = self._timers.pop(start.timer, None)
        if old is not None:
            old.cancel()
        delay = start.delay if start.at is None else (start.at - self.clock.now()).total_seconds()
        self._timers[start.timer] = loop.call_later(max(delay or 0.0, 0.0), self._fire, start.timer)

    def _fire(self, timer: Timer) -> None:
        self._timers.pop(timer, None)
        self.spawn(self._apply(self.station.on_timer(timer, self.clock.now())))

    async def _device(self, port: Port, effect: Effect) -> tuple[bool, str] | None:
        """One device effect; a cable lock that failed gives (locking, why)."""
        if isinstance(effect, BeginTransaction):
            await self._begin(port, effect)
        elif isinstance(effect, EndTransaction):
            await self._end(port, effect)
        elif isinstance(effect, SwitchRelay):
            self._on_event("relay", {"connector": port.machine.number, "closed": effect.closed})
            try:
                await port.hardware.relay.set(effect.closed)
            except HalError as err:  # welded or stuck open: its fault stream stops the session
                log.error("relay of connector %s: %s", port.machine.number, err)
        elif isinstance(effect, LockCable):
            lock = port.hardware.lock
            if lock is None or lock.locked == effect.locked:  # tethered, or already where commanded
                return None
            try:
                await (lock.lock() if effect.locked else lock.unlock())
            except HalError as err:
                log.error("cable lock of connector %s: %s", port.machine.number, err)
                return effect.locked, str(err)
        elif isinstance(effect, OfferCurrent):
            self._on_event("offer", {"connector": port.machine.number, "amps": effect.amps})
            await port.hardware.pilot.offer(effect.amps)
        return None

    async def read_meter(self, port: Port) -> MeterReading | None:
        """A fresh, plausible reading, or None (:meth:`_read_meter`), for handlers (TriggerMessage)."""
        return await self._read_meter(port)

    async def _read_meter(self, port: Port) -> MeterReading | None:
        """A fresh, plausible reading, or None. Outside a transaction a meter that cannot be read
        makes its connector Faulted with PowerMeterFailure until it answers again (no session may
        start without a real meterStart, 6.26); during one, the meter reports PowerMeterFailure
        itself after ``fault_after`` failed reads, and the session goes on."""
        number = port.machine.number
        try:
            reading = await port.hardware.meter.read()
        except (HalError, OSError) as err:
            log.warning("meter of connector %s: %s", number, err)
            port.meter_failed.set()
            # Without device effects (SESSION_GOES_ON): safe under the port's lock.
            self._note_all(self.station.on_meter(number, str(err), port.local_tx is not None))
            return None
        self._note_all(self.station.on_meter(number, None, port.local_tx is not None))
        return reading

    async def _meter_watch(self, port: Port) -> None:
        """A connector's meter is read at start, and while it cannot be read, every meter_retry
        seconds when no transaction reads it: the connector is available again once it answers."""
        while True:
            if port.local_tx is None:
                await self._read_meter(port)
            if self.station.meter_failed(port.machine.number):
                await asyncio.sleep(self.timers.meter_retry)
            else:
                await nap(None, port.meter_failed)

    async def _begin(self, port: Port, effect: BeginTransaction) -> None:
        # The relay has been open since authorize() read the meter: its last good register is
        # this session's start when the meter does not answer now.
        reading = await self._read_meter(port) or port.hardware.meter.last_good
        assert reading is not None, "authorize() reads the meter before a session can begin"
        port.local_tx = local_tx = self.recorder.begin(port.machine.number, effect, reading)
        self._on_event("transaction", {"connector": port.machine.number, "local_tx": local_tx, "begin": True})
        self.courier.wake()
        self.sampler.begin(port.machine.number, local_tx)

    async def _end(self, port: Port, effect: EndTransaction) -> None:
        self.sampler.end(port.machine.number)
        local_tx = port.local_tx
        if local_tx is None:
            return
        reading = await self._read_meter(port)
        self.recorder.end(port.machine.number, local_tx, reading, effect.reason, effect.id_tag)
        port.local_tx = None
        self._on_event("transaction", {"connector": port.machine.number, "local_tx": local_tx, "begin": False})
        self.courier.wake()

    async def _replay_journal(self) -> None:
        """Transactions a power loss cut off are stopped once (:meth:`Recorder.cut_off
        <chargebox.engine.recorder.Recorder.cut_off>`), with a reading taken now when the meter answers;
        with reason Reboot when the daemon had stopped cleanly (:meth:`_shutdown`), else PowerLoss."""
        reason = Reason.REBOOT if self.store.settings.load(SHUT_DOWN) else Reason.POWER_LOSS
        for entry in self.journal.running():
            port = self.ports.get(entry.connector_id)
            reading = await self._read_meter(port) if port is not None else None
            self.recorder.cut_off(entry.local_id, reading, reason)
        if reason is Reason.REBOOT:
            self.store.settings.delete(SHUT_DOWN)

    # -- acknowledgements (called by the courier inside its SQLite transaction) ----------------

    def _acknowledged(self, queued: Queued, confirmation: Confirmation) -> None:
        request = queued.request
        if isinstance(confirmation, StartTransactionConfirmation) and queued.local_tx is not None:
            assert isinstance(request, StartTransactionRequest)
            self.journal.set_transaction_id(queued.local_tx, confirmation.transaction_id)
            info = confirmation.id_tag_info
            self.authorizer.remember(request.id_tag, info)
            if info.status is not AuthorizationStatus.ACCEPTED:
                self.spawn(self._deauthorize(queued.local_tx, info))
        elif isinstance(confirmation, StopTransactionConfirmation) and confirmation.id_tag_info is not None:
            assert isinstance(request, StopTransactionRequest)
            if request.id_tag:
                self.authorizer.remember(request.id_tag, confirmation.id_tag_info)

    async def _deauthorize(self, local_tx: int, info: IdTagInfo) -> None:
        """The Central System did not accept a started transaction (1.6 3.5.4, errata 3.17): it is
        stopped with reason DeAuthorized, or only its energy is (StopTransactionOnInvalidId), once
        it has delivered MaxEnergyOnInvalidId Wh (9.1.14: enough for the EV to drive away)."""
        for port in self.ports.values():
            if port.local_tx == local_tx:
                log.warning("transaction %s deauthorized (%s)", local_tx, info.status.value,
                            extra=fields(connector=port.machine.number, local_tx=local_tx,
                                         action="StartTransaction"))
                if not await self._allowance(port, local_tx):
                    return  # it ended meanwhile
                stop = self.config.flag("StopTransactionOnInvalidId")
                async with port.lock:
                    # The cable stays locked for its owner in 1.6 (errata 3.17); 1.5 releases it.
                    await self._apply(self.station.on_deauthorized(port.machine.number, stop,
                                                                   hold_cable=self.config.version != "1.5"))

    async def _allowance(self, port: Port, local_tx: int) -> bool:
        """Until the transaction has delivered MaxEnergyOnInvalidId Wh, its meter read every
        meter_retry seconds; whether it still runs then."""
        allowance = self.config.integer("MaxEnergyOnInvalidId")
        meter_start = self.journal.get(local_tx).meter_start
        while allowance > 0 and port.local_tx == local_tx:
            reading = await self._read_meter(port)
            if reading is not None and whole_wh(reading) - meter_start >= allowance:
                break
            await asyncio.sleep(self.timers.meter_retry)
        return port.local_tx == local_tx

    # -- Central System requests (chapter 5) ---------------------------------------------------

    async def handle(self, request: Request) -> Confirmation:
        handler = self._routes.get(type(request))
        if handler is None:
            raise NotSupported(f"{request.action()} is not supported yet")
        return await handler(request)

    def port_of_transaction(self, transaction_id: int) -> Port | None:
        entry = self.journal.by_transaction_id(transaction_id)
        for port in self.ports.values():
            if entry is not None and entry.running and port.local_tx == entry.local_id:
                return port
        return None
