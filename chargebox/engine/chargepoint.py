"""The charge point: the runtime shell around the station (DESIGN.md, "a functional core with a thin shell").

It owns the loop, the devices, the store and the link: it feeds events to the synchronous core
(:mod:`~chargebox.engine.station`) and applies the effects it returns: on the devices and from
their event loops (:mod:`~chargebox.engine.devices`: pilot, faults, meter watch, relay, PWM offer,
cable lock), as transactions on record (:mod:`~chargebox.engine.transactions`, through
:mod:`~chargebox.engine.recorder`), as statuses to tell (:mod:`~chargebox.engine.uplink`, which
also boots and beats, 4.2, 4.6, 4.9), settings to save and loop timers. Meter values are timed by
:mod:`~chargebox.engine.sampler`, cards handled by :mod:`~chargebox.engine.cards`, the outbox
delivered by :mod:`~chargebox.engine.delivery`; Central System commands are answered by the
handlers :mod:`~chargebox.engine.management` installs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

from hal.errors import HalError
from hal.rfid.base import CardReader

from chargebox.clock import Clock
from chargebox.engine.authorization import Authorizer
from chargebox.engine.cards import Cards, refused_unmetered
from chargebox.engine.configuration import Configuration
from chargebox.engine.connector import BeginTransaction, Connector, Effect, EndTransaction, SwitchRelay
from chargebox.engine.delivery import Courier
from chargebox.engine.devices import Devices
from chargebox.engine.hardware import (
    ConnectorHardware,
    Identity,
    Port,
    Timers,
    boot_request,
    bounded,
)
from chargebox.engine.metering import whole_wh
from chargebox.engine.recorder import Recorder
from chargebox.engine.routing import routes
from chargebox.engine.sampler import Sampler
from chargebox.engine.transactions import SHUT_DOWN, Transactions
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
from chargebox.ocpp.enums import ChargePointStatus, Reason
from chargebox.ocpp.errors import NotSupported
from chargebox.ocpp.messages import Confirmation, Request
from chargebox.store import Store

log = logging.getLogger(__name__)


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
                             on_event=self._on_event, told_as=told_as,
                             started=lambda number: self.transactions.started(number))
        self.recorder = Recorder(store, config, clock,
                                 offered=lambda number: self.ports[number].hardware.pilot.offered)
        self.cards = Cards(shell=self, station=self.station, authorizer=self.authorizer, uplink=self.uplink,
                           spawn=self.spawn, on_event=self._on_event)
        self.devices = Devices(station=self.station, ports=self.ports, timers=self.timers, apply=self._apply,
                               note=self._note_all, spawn=self.spawn, on_event=self._on_event)
        self.sampler = Sampler(ports=self.ports, read=self.devices.read_meter, recorder=self.recorder,
                               uplink=self.uplink, config=config, clock=clock, timers=self.timers,
                               wake=lambda: self.courier.wake(), spawn=self.spawn)
        self.transactions = Transactions(
            station=self.station, ports=self.ports, read=self.devices.read_meter,
            meter_start=self.devices.meter_start, recorder=self.recorder,
            sampler=self.sampler, authorizer=self.authorizer, config=config, settings=store.settings,
            meter_retry=self.timers.meter_retry, start_wait=self.timers.start_wait, apply=self._apply,
            wake=lambda: self.courier.wake(), spawn=self.spawn, on_event=self._on_event)
        self.courier = Courier(store, config, self.uplink.send, self.transactions.acknowledged, clock.now)
        self._routes: dict[type[Request], Callable[[Any], Awaitable[Confirmation]]] = {}
        #: More BootNotification.req fields, each a coroutine giving field name -> value (the modem's
        #: iccid and imsi...); one that fails is left out, so a missing device never delays the boot.
        self.boot_details: list[Callable[[], Awaitable[dict[str, Any]]]] = []
        #: More loops to run beside the others while the charge point runs (the charging limits').
        self.parts: list[Callable[[], Coroutine[Any, Any, None]]] = []
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
            if await port.hardware.open():
                port.relay_known_open()
        await self.transactions.replay_journal()
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
                    group.create_task(self.devices.box_faults(self.reader))
                for part in self.parts:
                    group.create_task(part())
                for port in self.ports.values():
                    group.create_task(self.devices.pilot(port))
                    for source in port.hardware.fault_sources():
                        group.create_task(self.devices.connector_faults(port, source))
                self.devices.watch()
        finally:
            self.uplink.stop()
            self.sampler.stop()
            self.devices.stop()
            for handle in self._timers.values():
                handle.cancel()
            self._timers.clear()
            await self._shutdown()

    async def _shutdown(self) -> None:
        """Relays open; a running session keeps its journal entry with a fresh reading, and the next
        start stops it exactly once (:meth:`Transactions.replay_journal
        <chargebox.engine.transactions.Transactions.replay_journal>`)."""
        for task in list(self._tasks):
            task.cancel()
        if any(port.local_tx is not None for port in self.ports.values()):
            self.store.settings.save(SHUT_DOWN, True)  # only then: no flash write for an idle box
        for port in self.ports.values():
            await bounded(port.hardware.relay.set(False), f"relay of connector {port.machine.number}")
            if port.local_tx is not None:
                reading = await self.devices.read_meter(port)
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

    async def _courier_loop(self) -> None:
        await self.uplink.booted.wait()  # nothing but BootNotification before Accepted (4.2)
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

    # -- sessions --------------------------------------------------------------------------------

    def add_handlers(self, handlers: object) -> None:
        """Answer the Central System requests that ``handlers``' ``@handles`` methods take."""
        self._routes.update(routes(handlers))

    async def wait_idle(self) -> None:
        async with self._idle:
            await self._idle.wait_for(lambda: self.station.idle)

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
        # and makes the connector Faulted (Devices.read_meter). An earlier reading at hand would give
        # the register too, but not that the meter answers: a meter silent since would bill nothing.
        # This reading is the session's start (Devices.meter_start): the only question per start.
        if await self.devices.read_meter(port) is None:
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

    async def unlock(self, port: Port) -> bool:
        """UnlockConnector (5.14, :meth:`Station.unlock <chargebox.engine.station.Station.unlock>`):
        whether the cable lock was released (or there is none)."""
        async with port.lock:
            return not await self._apply(self.station.unlock(port.machine.number))

    async def apply(self, effects: list[StationEffect]) -> None:
        """Carry out what the station returned to a handler."""
        await self._apply(effects)

    # -- effects -------------------------------------------------------------------------------

    async def _apply(self, effects: list[StationEffect]) -> list[int]:
        """The station's effects, in order; the devices' under the caller's port lock. Returns the
        connectors whose cable lock failed."""
        failures: list[int] = []
        pending = deque(effects)
        while pending:
            effect = pending.popleft()
            if not isinstance(effect, On):
                self._note(effect)
                continue
            port = self.ports[effect.connector]
            failed = await self._device(port, effect.effect)
            if failed is not None:
                failures.append(effect.connector)
                # With the cable not held, the connector's effects that followed must not happen.
                rest = [e for e in pending if not (isinstance(e, On) and e.connector == effect.connector)]
                pending = deque([*self.station.on_lock_failed(effect.connector, *failed), *rest])
        async with self._idle:
            self._idle.notify_all()
        return failures

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
            await self.transactions.begin(port, effect)
        elif isinstance(effect, EndTransaction):
            await self.transactions.end(port, effect)
        else:
            failed = await self.devices.drive(port, effect)
            if effect == SwitchRelay(True):
                self.transactions.relay_closed(port)
            return failed
        return None

    # -- Central System requests (chapter 5) ---------------------------------------------------

    async def handle(self, request: Request) -> Confirmation:
        handler = self._routes.get(type(request))
        if handler is None:
            raise NotSupported(f"{request.action()} is not supported yet")
        return await handler(request)

    def port_of_transaction(self, transaction_id: int) -> Port | None:
        return self.transactions.port_of_transaction(transaction_id)
