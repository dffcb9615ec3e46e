"""The box's side of the link to the Central System: BootNotification until Accepted (4.2),
heartbeats (4.6), one status lane per connector (4.9), and whether the Central System is reachable.

Every call goes through :meth:`Uplink.send`, so every call counts as traffic for heartbeats and its
outcome tells whether the box is online. The heartbeat is a loop handle (``call_later``), moved by
traffic, a new HeartBeatInterval and going offline, and so is each BootNotification retry; the statuses are computed by the station
(:mod:`~chargebox.engine.station`) when they leave.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from chargebox.clock import Clock
from chargebox.engine.configuration import Configuration
from chargebox.engine.connector import Fault
from chargebox.engine.hardware import Timers
from chargebox.engine.station import Station
from chargebox.ocpp.enums import ChargePointErrorCode, ChargePointStatus, RegistrationStatus
from chargebox.ocpp.errors import BindingError, CallFailed, CentralSystemUnreachable
from chargebox.ocpp.messages import (
    BootNotificationConfirmation,
    BootNotificationRequest,
    Confirmation,
    HeartbeatConfirmation,
    HeartbeatRequest,
    Request,
    StatusNotificationRequest,
)

log = logging.getLogger(__name__)


class Client(Protocol):
    async def call(self, request: Request, message_id: str | None = None) -> Confirmation: ...


class Uplink:
    """``wake``: the outbox has something to send now; ``post``: a status-lane message, sent now or
    queued (:meth:`~chargebox.engine.delivery.Courier.post`); ``sync_clock``: the Central System's time;
    ``told_as``: how the binding says a status on its wire (1.5: Occupied for five of them), so a
    change the Central System cannot see is no notification; ``started``: returns once the session
    starting on a connector, if any, has closed its relay (or waited for the EV long enough)."""

    def __init__(self, *, client: Client, station: Station, config: Configuration, clock: Clock,
                 timers: Timers, wake: Callable[[], None],
                 post: Callable[[Request, bool], Awaitable[bool]], sync_clock: Callable[[datetime], None],
                 spawn: Callable[[Awaitable[Any]], None], on_event: Callable[[str, dict[str, Any]], None],
                 told_as: Callable[[ChargePointStatus], str],
                 started: Callable[[int], Awaitable[None]]) -> None:
        self.client = client
        self.station = station
        self.config = config
        self.clock = clock
        self.timers = timers
        self._wake = wake
        self._post = post
        self._sync_clock = sync_clock
        self._spawn = spawn
        self._on_event = on_event
        self._told_as = told_as
        self._started = started
        self.booted = asyncio.Event()
        self.registration: RegistrationStatus | None = None
        self.online = False
        self.last_heartbeat: float | None = None
        self._last_traffic = 0.0
        self._beat: asyncio.TimerHandle | None = None
        self._boot_retry: asyncio.TimerHandle | None = None
        self._boot_request: BootNotificationRequest | None = None
        self._boot_delay = timers.boot_retry_min
        #: Per connector (0: the box), the status (as told) and error the Central System last took,
        #: and what wakes its lane. The box starts as Available without error.
        self.announced: dict[int, tuple[str, ChargePointErrorCode] | None] = {
            0: (told_as(ChargePointStatus.AVAILABLE), ChargePointErrorCode.NO_ERROR),
            **{n: None for n in station.connectors}}
        self._wakeups = {n: asyncio.Event() for n in self.announced}
        config.watch("HeartBeatInterval", self._schedule_heartbeat)

    async def send(self, request: Request, message_id: str | None = None) -> Confirmation:
        """A call to the Central System. ``message_id``: an outbox message's, the same for every attempt."""
        self._on_event("ocpp-request", {"action": request.action()})
        try:
            confirmation = await self.client.call(request, message_id)
        except CentralSystemUnreachable as err:
            if self.online:
                log.warning("Central System unreachable, working offline: %s", err)
                self.online = False
                self._schedule_heartbeat()  # heartbeats become the probes that find it again
            raise
        self._last_traffic = self.clock.monotonic()
        self._schedule_heartbeat()
        if not self.online:
            self.online = True
            log.info("Central System reachable")
            if self.booted.is_set():
                # Back online: what waited goes now, and statuses that could not be told are told.
                self._wake()
                self.announce_all()
        return confirmation

    def stop(self) -> None:
        """The heartbeat's and the boot retry's handles cancelled (the shell stops)."""
        for handle in (self._beat, self._boot_retry):
            if handle is not None:
                handle.cancel()
        self._beat = self._boot_retry = None

    # -- boot (4.2) ----------------------------------------------------------------------------

    def boot(self, request: BootNotificationRequest) -> None:
        """BootNotification until Accepted, then everything else may go; each retry is a loop handle."""
        self._boot_request = request
        self._boot_delay = self.timers.boot_retry_min
        self._spawn(self._try_boot())

    def boot_now(self) -> bool:
        """A BootNotification now, the Central System asked (TriggerMessage, 1.6 5.17): it replaces
        the retry that was waiting. False before :meth:`boot` has the request."""
        if self._boot_request is None:
            return False
        if self._boot_retry is not None:
            self._boot_retry.cancel()
        self._spawn(self._try_boot())
        return True

    async def _try_boot(self) -> None:
        self._boot_retry = None
        delay = self._boot_delay
        assert self._boot_request is not None, "boot() gives the request"
        try:
            conf = await self.send(self._boot_request)
            assert isinstance(conf, BootNotificationConfirmation)
            self.registration = conf.status
            self._sync_clock(conf.current_time)
            if conf.status is RegistrationStatus.ACCEPTED:
                if conf.heartbeat_interval > 0:
                    self.config.change("HeartBeatInterval", str(conf.heartbeat_interval))
                self._accepted()
                return
            # Pending or Rejected: the next BootNotification not before the interval the Central
            # System gave, the box's own when it gave 0 (1.6 4.2, 6.4). While Pending the box sends
            # nothing else unless the Central System triggers it (TriggerMessage, 5.17), and still
            # answers its requests.
            log.info("boot %s; BootNotification again in %s s", conf.status.value,
                     conf.heartbeat_interval or delay)
            if conf.heartbeat_interval > 0:
                self._boot_retry = asyncio.get_running_loop().call_later(
                    conf.heartbeat_interval * random.uniform(1.0, 1.2), lambda: self._spawn(self._try_boot()))
                return
        except BindingError as err:
            log.warning("BootNotification failed: %s", err)
        # Growing, jittered intervals, so a fleet that lost its Central System does not return at once.
        self._boot_retry = asyncio.get_running_loop().call_later(
            delay * random.uniform(0.8, 1.2), lambda: self._spawn(self._try_boot()))
        self._boot_delay = min(delay * 2, self.timers.boot_retry_max)

    def _accepted(self) -> None:
        log.info("boot accepted; heartbeat every %s s", self.config.integer("HeartBeatInterval"))
        self.booted.set()
        self._wake()
        self._schedule_heartbeat()
        self.announce_all()

    # -- heartbeat (4.6) -----------------------------------------------------------------------

    def _schedule_heartbeat(self) -> None:
        """The next heartbeat at the last traffic plus the interval: skipped when other traffic went
        out within it (6.16); while offline, a heartbeat every OfflineRetryInterval at most is the
        probe that finds the Central System again."""
        if not self.booted.is_set():
            return
        interval = self.config.integer("HeartBeatInterval")
        if not self.online:
            interval = min(interval, self.config.integer("OfflineRetryInterval"))
        if self._beat is not None:
            self._beat.cancel()
        wait = max(self._last_traffic + interval - self.clock.monotonic(), 0.0)
        self._beat = asyncio.get_running_loop().call_later(wait, self._due)

    def _due(self) -> None:
        self._beat = None
        self._spawn(self.heartbeat())

    async def heartbeat(self) -> None:
        """One Heartbeat.req now (also the answer to a wake-up, 8.3)."""
        try:
            conf = await self.send(HeartbeatRequest())
            assert isinstance(conf, HeartbeatConfirmation)
            self._sync_clock(conf.current_time)
            self.last_heartbeat = self.clock.monotonic()
        except CentralSystemUnreachable:
            self._last_traffic = self.clock.monotonic()  # logged once, by send
        except CallFailed as err:
            log.warning("Heartbeat failed: %s", err)
            self._last_traffic = self.clock.monotonic()
        self._schedule_heartbeat()

    # -- status (4.9) --------------------------------------------------------------------------

    def announce_all(self) -> None:
        for number in self.announced:
            self.announce(number)

    def announce(self, number: int) -> None:
        """The connector's status may have changed: its lane tells the Central System."""
        status, fault = self.station.status(number)
        current = (self._told_as(status), fault.code if fault else ChargePointErrorCode.NO_ERROR)
        if number and current != self.announced[number]:
            self._on_event("status", {"connector": number, "status": status.value, "error": current[1].value})
        self._wakeups[number].set()

    async def status_lane(self, number: int) -> None:
        """One connector's StatusNotifications, one at a time and in order (4.9). Each tells the
        status computed from the state when it leaves, and only when it differs from the last one the
        Central System took; a change made while one is on its way goes after it, and changes that
        came and went meanwhile are coalesced (DESIGN.md). So there is one notification per change
        the Central System can see, never two alike in a row, and the last one is the real state.

        While a session starts, its connector's lane waits until the relay has closed (at most
        Timers.start_wait): an exchange with the Central System then would sit between the EV asking
        and the relay (issue 19). The status that lasted only that long (SuspendedEV, 1.5's Occupied
        before a card's session closes its relay) is coalesced with the next: 1.6 4.9 lets a box omit
        a status that was active for less than its minimal status duration."""
        wakeup = self._wakeups[number]
        await self.booted.wait()  # nothing but BootNotification before Accepted (4.2)
        while True:
            if number:
                await self._started(number)
            wakeup.clear()  # before reading the state: a change from now on wakes the lane again
            status, fault = self.station.status(number)
            current = (self._told_as(status), fault.code if fault else ChargePointErrorCode.NO_ERROR)
            if current != self.announced[number]:
                await self._notify(number, status, fault)
                self.announced[number] = current
                continue
            await wakeup.wait()  # a change, or the Central System reachable again (send)

    async def tell(self, number: int) -> None:
        """A StatusNotification of the connector's status now, changed or not: the Central System
        asked for it (TriggerMessage, 1.6 5.17)."""
        status, fault = self.station.status(number)
        await self._notify(number, status, fault)

    async def _notify(self, connector: int, status: ChargePointStatus, fault: Fault | None) -> None:
        request = StatusNotificationRequest(
            connector_id=connector, status=status, error_code=fault.code if fault else ChargePointErrorCode.NO_ERROR,
            info=fault.info[:50] or None if fault else None, timestamp=self.clock.now(),
            vendor_error_code=fault.vendor_error_code if fault else None,
        )
        if not self.booted.is_set():
            # Only a TriggerMessage while Pending gets here (the lanes wait for Accepted): it goes
            # now or never, as the outbox waits for Accepted too (1.6 4.2, 5.17: current information).
            try:
                await self.send(request)
            except BindingError as err:
                log.warning("StatusNotification of connector %s not sent: %s", connector, err)
            return
        # The status lane (chargebox.ocpp.lanes): now, or persisted in the outbox behind what waits
        # there, a queued status of this connector replaced by this newer one.
        await self._post(request, self.online)
