"""Transactions as the runtime shell (:mod:`~chargebox.engine.chargepoint`) carries them out: a
BeginTransaction or EndTransaction effect reads the meter and is put on record
(:mod:`~chargebox.engine.recorder`) with its samples (:mod:`~chargebox.engine.sampler`); those a
power loss cut off are stopped once at start; and the Central System's answers to StartTransaction
and StopTransaction update the journal, the Authorization Cache and, for an idTag it did not accept,
the station (1.6 3.5.4).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from hal.events import MeterReading

from chargebox.engine.authorization import Authorizer
from chargebox.engine.configuration import Configuration
from chargebox.engine.connector import BeginTransaction, EndTransaction
from chargebox.engine.hardware import Port
from chargebox.engine.metering import whole_wh
from chargebox.engine.recorder import Recorder
from chargebox.engine.sampler import Sampler
from chargebox.engine.station import Station, StationEffect
from chargebox.logfields import fields
from chargebox.ocpp.datatypes import IdTagInfo
from chargebox.ocpp.enums import AuthorizationStatus, Reason
from chargebox.ocpp.messages import (
    Confirmation,
    StartTransactionConfirmation,
    StartTransactionRequest,
    StopTransactionConfirmation,
    StopTransactionRequest,
)
from chargebox.store.outbox import Queued
from chargebox.store.settings import Settings

log = logging.getLogger(__name__)

#: The settings key saved when the daemon stopped cleanly with a session running: the next start
#: stops it with reason Reboot (a locally initiated restart, 1.6 7.35), not PowerLoss.
SHUT_DOWN = "shut-down"


class Transactions:
    def __init__(self, *, station: Station, ports: dict[int, Port],
                 read: Callable[[Port], Awaitable[MeterReading | None]],
                 meter_start: Callable[[Port], Awaitable[MeterReading | None]],
                 recorder: Recorder, sampler: Sampler, authorizer: Authorizer, config: Configuration,
                 settings: Settings, meter_retry: float, start_wait: float,
                 apply: Callable[[list[StationEffect]], Awaitable[object]], wake: Callable[[], None],
                 spawn: Callable[[Awaitable[Any]], None],
                 on_event: Callable[[str, dict[str, Any]], None]) -> None:
        self.station = station
        self.ports = ports
        self._read = read
        self._meter_start = meter_start
        self.recorder = recorder
        self.journal = recorder.journal
        self.sampler = sampler
        self.authorizer = authorizer
        self.config = config
        self.settings = settings
        self._meter_retry = meter_retry
        self._start_wait = start_wait
        self._starting: dict[int, asyncio.Event] = {}  # set when the session's relay has closed
        self._apply = apply
        self._wake = wake  # the courier: a message was queued
        self._spawn = spawn
        self._on_event = on_event

    async def begin(self, port: Port, effect: BeginTransaction) -> None:
        # The relay has been open since authorize() read the meter: that reading is this session's
        # start (Devices.meter_start), one reading per start. Should the meter have failed since, its
        # last good register is, when it does not answer now.
        reading = await self._meter_start(port) or port.hardware.meter.last_good
        assert reading is not None, "authorize() reads the meter before a session can begin"
        port.local_tx = local_tx = self.recorder.begin(port.machine.number, effect, reading)
        self._on_event("transaction", {"connector": port.machine.number, "local_tx": local_tx, "begin": True})
        self._starting[port.machine.number] = closed = asyncio.Event()
        self._spawn(self._tell_start(port.machine.number, closed))
        self.sampler.begin(port.machine.number, local_tx)

    async def _tell_start(self, number: int, closed: asyncio.Event) -> None:
        """A new session's StartTransaction wakes the courier once its relay has closed, or after
        start_wait when the EV does not ask for energy yet: the exchange with the Central System, and
        the commit of its answer, do not sit between the EV asking and the relay (issue 19; a courier
        already busy with other messages sends it in its turn). The transaction is journalled, so
        nothing is lost meanwhile (DESIGN.md)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._start_wait):
                await closed.wait()
        if self._starting.get(number) is closed:  # start_wait passed: the start is over all the same
            self._release(number)
        self._wake()

    async def started(self, number: int) -> None:
        """Returns once the session starting on connector ``number``, if any, has closed its relay,
        ended, or waited start_wait for the EV (what :meth:`_tell_start` waits for)."""
        closed = self._starting.get(number)
        if closed is not None:
            await closed.wait()

    def relay_closed(self, port: Port) -> None:
        """The relay of ``port`` closed: the StartTransaction of a session starting there goes now."""
        self._release(port.machine.number)

    def _release(self, number: int) -> None:
        closed = self._starting.pop(number, None)
        if closed is not None:
            closed.set()

    async def end(self, port: Port, effect: EndTransaction) -> None:
        self.sampler.end(port.machine.number)
        self._release(port.machine.number)  # it ends before its relay closed: the wait is over
        local_tx = port.local_tx
        if local_tx is None:
            return
        reading = await self._read(port)
        self.recorder.end(port.machine.number, local_tx, reading, effect.reason, effect.id_tag)
        port.local_tx = None
        self._on_event("transaction", {"connector": port.machine.number, "local_tx": local_tx,
                                       "begin": False})
        self._wake()

    async def replay_journal(self) -> None:
        """Transactions a power loss cut off are stopped once (:meth:`Recorder.cut_off
        <chargebox.engine.recorder.Recorder.cut_off>`), with a reading taken now when the meter answers;
        with reason Reboot when the daemon had stopped cleanly (:data:`SHUT_DOWN`), else PowerLoss."""
        reason = Reason.REBOOT if self.settings.load(SHUT_DOWN) else Reason.POWER_LOSS
        for entry in self.journal.running():
            port = self.ports.get(entry.connector_id)
            reading = await self._read(port) if port is not None else None
            self.recorder.cut_off(entry.local_id, reading, reason)
        if reason is Reason.REBOOT:
            self.settings.delete(SHUT_DOWN)

    def port_of_transaction(self, transaction_id: int) -> Port | None:
        entry = self.journal.by_transaction_id(transaction_id)
        for port in self.ports.values():
            if entry is not None and entry.running and port.local_tx == entry.local_id:
                return port
        return None

    # -- acknowledgements (called by the courier inside its SQLite transaction) ----------------

    def acknowledged(self, queued: Queued, confirmation: Confirmation) -> None:
        request = queued.request
        if isinstance(confirmation, StartTransactionConfirmation) and queued.local_tx is not None:
            assert isinstance(request, StartTransactionRequest)
            self.journal.set_transaction_id(queued.local_tx, confirmation.transaction_id)
            info = confirmation.id_tag_info
            self.authorizer.remember(request.id_tag, info)
            if info.status is not AuthorizationStatus.ACCEPTED:
                self._spawn(self._deauthorize(queued.local_tx, info))
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
            reading = await self._read(port)
            if reading is not None and whole_wh(reading) - meter_start >= allowance:
                break
            await asyncio.sleep(self._meter_retry)
        return port.local_tx == local_tx
