"""The station: the engine's synchronous core (DESIGN.md, "a functional core with a thin shell").

It owns the state of the whole box: every connector's machine and pilot machine, the box's own
faults and availability (connector 0), the session holds, the reservations and what ChangeAvailability
asked. It takes typed events and requests and returns effects; it does no I/O, reads no clock and
awaits nothing, so its tests are plain functions. The runtime shell
(:mod:`~chargebox.engine.chargepoint`) feeds it and applies what it returns:

- :class:`On`: a connector's own effect (relay, PWM offer, cable lock, begin or end a transaction);
- :class:`Announce`: a connector's status may have changed (4.9), its lane tells the Central System;
- :class:`Save`: a setting to persist (the reservations, the availability asked for), ``None`` deletes;
- :class:`StartTimer` / :class:`CancelTimer`: a timer on the loop, whose firing comes back as
  :meth:`Station.on_timer`.

The connector's own rules are in :mod:`~chargebox.engine.connector`.

A reservation (5.11) ends when a transaction for its id-tag or group starts (the machine drops it
and its StartTransaction carries the reservationId), at its expiryDate, when it is cancelled, or when
its connector becomes Faulted or Unavailable (the machine drops it). One for connector 0 (any
connector) is held on one connector that can take it, which then reports Reserved and refuses other
id-tags: so one connector always remains for the reserved id-tag, as 5.11 asks. The id-tag may still
start on any connector; the hold moves there (:meth:`Station.free_connector`).

Availability (5.2): a connector is operative when both it and the box are. An inoperative connector
reports Unavailable (7.10), starts no session and drops its reservation (5.11). What the Central
System asked is saved at once and applied at every start, so a box set Inoperative stays
Unavailable after a restart, and a change Scheduled behind a transaction still happens if that
transaction is cut by a power loss.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hal.events import PilotState

from chargebox.engine.connector import (
    BeginTransaction,
    Connector,
    Effect,
    EndTransaction,
    Fault,
    LockCable,
    Phase,
    Reservation,
)
from chargebox.engine.pilot import PilotMachine
from chargebox.engine.presentations import Presentations
from chargebox.ocpp.enums import (
    AvailabilityStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    Reason,
    ReservationStatus,
)

RESERVATIONS = "reservations"  # the settings key of the reservations in force
AVAILABILITY = "availability"  # the settings key of what ChangeAvailability asked


@dataclass(frozen=True, slots=True)
class On:
    """One connector's effect, in the order the machine gave it."""

    connector: int
    effect: Effect


@dataclass(frozen=True, slots=True)
class Announce:
    connector: int  # 0: the box


@dataclass(frozen=True, slots=True)
class Save:
    key: str
    value: Any  # JSON-able; None deletes the key


@dataclass(frozen=True, slots=True)
class ConnectionTimeout:
    """ConnectionTimeOut (6.9.1) of one connector's authorization waiting for its cable."""

    connector: int


@dataclass(frozen=True, slots=True)
class ReservationExpiry:
    """The soonest expiryDate of the reservations in force (5.11)."""


Timer = ConnectionTimeout | ReservationExpiry


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Start (or move) ``timer``: after ``delay`` seconds of loop time, or at the wall-clock time ``at``."""

    timer: Timer
    delay: float | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer: Timer


StationEffect = On | Announce | Save | StartTimer | CancelTimer

#: What carries out a station's effects for a handler (the shell's :meth:`ChargePoint.apply
#: <chargebox.engine.chargepoint.ChargePoint.apply>`).
Apply = Callable[[list[StationEffect]], Awaitable[None]]


class Station:
    """All connectors (numbered from 1) and the box (connector 0)."""

    def __init__(self, connectors: dict[int, Connector]) -> None:
        self.connectors = dict(sorted(connectors.items()))
        self.pilots = {n: PilotMachine() for n in self.connectors}  # raw pilot states into events
        self.box_faults: dict[ChargePointErrorCode, Fault] = {}
        #: ChangeAvailability of connector 0 (5.2): the box as a whole is Unavailable when False; it
        #: follows :attr:`wanted` once no transaction runs.
        self.box_operative = True
        #: What the Central System asked, by connector (0: the box); absent means operative.
        self.wanted: dict[int, bool] = {}
        #: Why new sessions may not start now (a reset, a firmware update waiting for the box to be idle).
        self.session_holds: set[str] = set()
        self.presentations = Presentations()  # the cards whose presentation is being handled
        self._saved_reservations: list[dict[str, Any]] = []  # as last saved (restore: as stored)
        #: Told, synchronously, of each session that begins (True) or ends (False) on a connector, before
        #: its effects are applied: charging limits (engine/limits.py) account for its offer at once.
        self.on_session: Callable[[int, bool], None] | None = None

    # -- status (4.9, 7.7) ---------------------------------------------------------------------

    def status(self, number: int) -> tuple[ChargePointStatus, Fault | None]:
        """A connector's status and fault as computed from the state now; connector 0 is the box
        itself (1.6 3.8, 7.7: only Available, Unavailable or Faulted there): faults of no connector
        (reader, modem, a failed reset) go there, and are reported with its status."""
        if number == 0:
            status = ChargePointStatus.AVAILABLE if self.box_operative else ChargePointStatus.UNAVAILABLE
            return status, next(iter(self.box_faults.values()), None)
        machine = self.connectors[number]
        return machine.status, machine.fault

    @property
    def idle(self) -> bool:
        """No transaction runs and none is about to start."""
        return all(m.phase in (Phase.IDLE, Phase.PLUGGED, Phase.FINISHING) for m in self.connectors.values())

    def announce_all(self) -> list[StationEffect]:
        return [Announce(0), *(Announce(n) for n in self.connectors)]

    # -- connector events ----------------------------------------------------------------------

    def on_pilot(self, number: int, state: PilotState) -> list[StationEffect]:
        """A raw pilot state (IEC 61851-1), through the pilot machine into the connector's."""
        effects: list[StationEffect] = []
        for event in self.pilots[number].feed(state):
            effects += self._connector(number, self.connectors[number].on_pilot(event))
        return self._settled(effects + [Announce(number)])

    def on_limit(self, number: int, amps: float | None) -> list[StationEffect]:
        """The charging limits allow ``amps`` on connector ``number`` now (None: none, SuspendedEVSE)."""
        return self._connector(number, self.connectors[number].on_limit(amps)) + [Announce(number)]

    def on_fault(self, number: int, fault: Fault, active: bool) -> list[StationEffect]:
        """A fault of one connector's hardware: a blocking one stops its session (4.9, 7.7)."""
        machine = self.connectors[number]
        effects = machine.on_fault(fault) if active else machine.on_fault_cleared(fault.code)
        return self._settled(self._connector(number, effects) + [Announce(number)])

    def on_meter(self, number: int, failure: str | None, in_transaction: bool) -> list[StationEffect]:
        """A meter read succeeded (``failure`` None) or failed. Outside a transaction, a meter that
        cannot be read makes its connector Faulted with PowerMeterFailure (no session without a real
        meterStart, 6.26) until it answers again; during one, the meter reports the fault itself."""
        machine = self.connectors[number]
        failed = ChargePointErrorCode.POWER_METER_FAILURE in machine.faults
        if failure is not None and not in_transaction:
            # Without effects for this code (SESSION_GOES_ON): the session, if any, goes on.
            machine.on_fault(Fault(ChargePointErrorCode.POWER_METER_FAILURE, failure[:50]))
            return self._settled([Announce(number)])
        if failure is None and failed:
            machine.on_fault_cleared(ChargePointErrorCode.POWER_METER_FAILURE)
            return [Announce(number)]
        return []

    def meter_failed(self, number: int) -> bool:
        return ChargePointErrorCode.POWER_METER_FAILURE in self.connectors[number].faults

    def on_lock_failed(self, number: int, locking: bool, info: str) -> list[StationEffect]:
        """A :class:`~chargebox.engine.connector.LockCable` failed: these effects replace those
        that followed it."""
        return self._settled(self._connector(number, self.connectors[number].on_lock_failed(locking, info)))

    def box_fault(self, fault: Fault, active: bool) -> list[StationEffect]:
        """A fault of the box as a whole (ReaderFailure, WeakSignal, ResetFailure), on connector 0."""
        if active:
            self.box_faults[fault.code] = fault
        else:
            self.box_faults.pop(fault.code, None)
        return [Announce(0)]

    # -- sessions ------------------------------------------------------------------------------

    def free_connector(self, number: int | None = None,
                       id_tag: str | None = None) -> tuple[int | None, list[StationEffect]]:
        """The connector a new session (for ``id_tag``) goes to: the one asked for, else one with a
        cable waiting, else an idle one; none while a hold is on, and never one reserved for another
        id-tag (5.11). A reservation for any connector held elsewhere moves to the one chosen."""
        if self.session_holds:
            return None, []
        candidates = [number] if number in self.connectors else list(self.connectors)
        for phase in (Phase.PLUGGED, Phase.IDLE):
            for n in candidates:
                machine = self.connectors[n]
                if machine.phase is phase and machine.may_start(id_tag):
                    return n, self._claim_box_reservation(n, id_tag)
        return None, []

    def _claim_box_reservation(self, number: int, id_tag: str | None) -> list[StationEffect]:
        """A reservation for any connector (connectorId 0, 5.11) is held on one connector; when its
        id-tag starts elsewhere, the hold moves there, so that transaction ends it."""
        machine = self.connectors[number]
        if id_tag is None or machine.reservation is not None:
            return []
        for n, other in self.connectors.items():
            held = other.reservation
            if held is not None and held.connector_id == 0 and held.admits(id_tag, None):
                other.on_reservation_ended(held.reservation_id)
                machine.hold(held)
                return self._settled([Announce(n), Announce(number)])
        return []

    def authorize(self, number: int, id_tag: str, parent_id_tag: str | None,
                  connection_timeout: float) -> list[StationEffect]:
        """A card or a remote start accepted for connector ``number``: a session begins, or waits
        ``connection_timeout`` seconds (ConnectionTimeOut, 6.9.1) for its cable."""
        machine = self.connectors[number]
        effects = self._connector(number, machine.on_authorized(id_tag, parent_id_tag))
        if machine.phase is Phase.AUTHORIZED:
            effects.append(StartTimer(ConnectionTimeout(number), delay=connection_timeout))
        return self._settled(effects + [Announce(number)])

    def stop(self, number: int, reason: Reason, id_tag: str | None) -> list[StationEffect]:
        """Stop the connector's transaction (card, Central System, reset...)."""
        return self._settled(self._connector(number, self.connectors[number].on_stop(reason, id_tag))
                             + [Announce(number)])

    def unlock(self, number: int) -> list[StationEffect]:
        """UnlockConnector (5.14): the connector's transaction is stopped first, as in Stop
        Transaction, then its cable lock released, whether a session held it or not (a plug stuck
        in the socket); the shell has no lock to drive for a tethered cable."""
        return self.stop(number, Reason.UNLOCK_COMMAND, None) + [On(number, LockCable(False))]

    def held_for(self, id_tag: str) -> int | None:
        """The connector whose cable is held for ``id_tag`` after a deauthorized session (errata 3.17)."""
        return next((n for n, m in self.connectors.items()
                     if m.held_for is not None and m.held_for.casefold() == id_tag.casefold()), None)

    def release(self, number: int, id_tag: str) -> list[StationEffect]:
        """Its owner's card releases the cable held after a deauthorized session (errata 3.17)."""
        effects = self.connectors[number].on_owner(id_tag)
        return self._settled(self._connector(number, effects) + [Announce(number)])

    def lapse(self, number: int) -> list[StationEffect]:
        """An authorization waiting for its cable ends now (ConnectionTimeOut, a reset)."""
        self.connectors[number].on_connection_timeout()
        return self._settled([CancelTimer(ConnectionTimeout(number)), Announce(number)])

    def on_deauthorized(self, number: int, stop: bool, hold_cable: bool = False) -> list[StationEffect]:
        """StartTransaction.conf not Accepted (1.6 3.5.4, StopTransactionOnInvalidId; errata 3.17)."""
        effects = self.connectors[number].on_deauthorized(stop, hold_cable)
        return self._settled(self._connector(number, effects) + [Announce(number)])

    def stopped_by(self, id_tag: str, parent_id_tag: str | None = None) -> int | None:
        """The connector whose transaction ``id_tag`` stops: the one it started (1.6 3.5.4), or,
        with its ``parent_id_tag`` known, one its group started (1.6 3.10)."""
        for n, machine in self.connectors.items():
            if not machine.in_transaction:
                continue
            if (machine.id_tag or "").casefold() == id_tag.casefold():
                return n
            if parent_id_tag and parent_id_tag.casefold() == (machine.parent_id_tag or "").casefold():
                return n
        return None

    def on_timer(self, timer: Timer, now: datetime) -> list[StationEffect]:
        if isinstance(timer, ConnectionTimeout):
            return self.lapse(timer.connector)
        return self.expire(now)

    # -- reservations (5.11, 5.1) --------------------------------------------------------------

    def reserve(self, reservation: Reservation, now: datetime) -> tuple[ReservationStatus, list[StationEffect]]:
        """ReserveNow (5.11): Accepted, or why not (7.32); the same reservationId replaces that
        reservation, which stands when the new one cannot be placed."""
        if reservation.connector_id != 0 and reservation.connector_id not in self.connectors:
            return ReservationStatus.REJECTED, []
        if reservation.expiry <= now:
            return ReservationStatus.REJECTED, []
        replaced = self.held().get(reservation.reservation_id)
        if replaced is not None:
            self.connectors[replaced[0]].on_reservation_ended(reservation.reservation_id)
        status = self._place(reservation)
        if replaced is not None and status is not ReservationStatus.ACCEPTED:
            self.connectors[replaced[0]].hold(replaced[1])  # not replaced after all: the old one stands
        return status, self.reservations_changed()

    def _place(self, reservation: Reservation) -> ReservationStatus:
        if reservation.connector_id != 0:
            return self.connectors[reservation.connector_id].on_reserve(reservation)
        refusals = []
        for machine in self.connectors.values():
            status = machine.on_reserve(reservation)
            if status is ReservationStatus.ACCEPTED:
                return status
            refusals.append(status)
        # 7.32 for the box: Faulted or Unavailable when all its connectors are, else Occupied.
        if ReservationStatus.OCCUPIED in refusals:
            return ReservationStatus.OCCUPIED
        if all(status is ReservationStatus.FAULTED for status in refusals):
            return ReservationStatus.FAULTED
        return ReservationStatus.UNAVAILABLE

    def cancel_reservation(self, reservation_id: int) -> list[StationEffect] | None:
        """CancelReservation (5.1): the effects, or None when the box has no such reservation."""
        held = self.held().get(reservation_id)
        if held is None:
            return None
        self.connectors[held[0]].on_reservation_ended(reservation_id)
        return self.reservations_changed()

    def expire(self, now: datetime) -> list[StationEffect]:
        """The reservations whose expiryDate has come end (5.11)."""
        for rid, (n, reservation) in self.held().items():
            if reservation.expiry <= now:
                self.connectors[n].on_reservation_ended(rid)
        return self.reservations_changed()

    def restore_reservations(self, rows: list[dict[str, Any]], used: set[int]) -> list[int]:
        """The reservations saved before a restart, except those a transaction ended (``used``:
        their ids in the journal) or that the machines no longer take; the ids not restored."""
        refused = []
        self._saved_reservations = rows
        for row in rows:
            machine = self.connectors.get(row["held_on"])
            reservation = Reservation(row["reservation_id"], row["connector_id"], row["id_tag"],
                                      row["parent_id_tag"], datetime.fromisoformat(row["expiry"]))
            if reservation.reservation_id in used or machine is None or (
                    machine.on_reserve(reservation) is not ReservationStatus.ACCEPTED):
                refused.append(reservation.reservation_id)
        return refused

    def reservations_changed(self) -> list[StationEffect]:
        """Saved, every status told, and the expiry timer set to the soonest expiryDate."""
        soonest = min((r.expiry for _, r in self.held().values()), default=None)
        timer: StationEffect = (CancelTimer(ReservationExpiry()) if soonest is None
                                else StartTimer(ReservationExpiry(), at=soonest))
        return self._settled([timer, *self.announce_all()])

    # -- availability (5.2) --------------------------------------------------------------------

    def operative(self, number: int) -> bool:
        return self.wanted.get(0, True) and self.wanted.get(number, True)

    def restore_availability(self, wanted: dict[int, bool]) -> list[StationEffect]:
        """What the Central System asked before the restart (no transaction runs at start)."""
        self.wanted = dict(wanted)
        self.box_operative = self.wanted.get(0, True)
        for number, machine in self.connectors.items():
            machine.on_availability(self.operative(number))
        return self._settled([])

    def change_availability(self, number: int, operative: bool) -> tuple[AvailabilityStatus, list[StationEffect]]:
        """ChangeAvailability (5.2): Accepted (also when already so), Scheduled while a transaction
        runs on an affected connector (applied when it ends), Rejected for a connector the box lacks;
        the box's own status follows once no transaction runs any more."""
        if number != 0 and number not in self.connectors:
            return AvailabilityStatus.REJECTED, []
        self.wanted[number] = operative
        numbers = list(self.connectors) if number == 0 else [number]
        statuses = [self.connectors[n].on_availability(self.operative(n)) for n in numbers]
        status = AvailabilityStatus.SCHEDULED if AvailabilityStatus.SCHEDULED in statuses else AvailabilityStatus.ACCEPTED
        saved = Save(AVAILABILITY, {str(k): v for k, v in self.wanted.items()})
        return status, self._settled([saved, *self.announce_all()])

    # -- the rules that follow every change ------------------------------------------------------

    def _connector(self, number: int, effects: list[Effect]) -> list[StationEffect]:
        wrapped: list[StationEffect] = [On(number, effect) for effect in effects]
        if any(isinstance(effect, BeginTransaction) for effect in effects):
            wrapped.insert(0, CancelTimer(ConnectionTimeout(number)))  # the cable came in time
        for effect in effects:
            if isinstance(effect, (BeginTransaction, EndTransaction)) and self.on_session is not None:
                self.on_session(number, isinstance(effect, BeginTransaction))
        return wrapped

    def _settled(self, effects: list[StationEffect]) -> list[StationEffect]:
        """``effects`` and what follows from them: a box set Unavailable during a transaction
        becomes so once none runs (5.2), and reservations a fault, an unavailability or a start
        ended (5.11) are saved at once, so a power cut right after cannot bring them back."""
        wanted = self.wanted.get(0, True)
        if wanted != self.box_operative and (wanted or self.idle):
            self.box_operative = wanted
            effects = effects + self.announce_all()
        rows = self.reservation_rows()
        if rows != self._saved_reservations:
            self._saved_reservations = rows
            effects = effects + [Save(RESERVATIONS, rows or None)]
        return effects

    def held(self) -> dict[int, tuple[int, Reservation]]:
        """The reservations in force, by reservationId, with the connector that holds each."""
        return {m.reservation.reservation_id: (n, m.reservation)
                for n, m in self.connectors.items() if m.reservation is not None}

    def reservation_rows(self) -> list[dict[str, Any]]:
        """The reservations in force as stored (settings key ``reservations``)."""
        return [{"held_on": n, "reservation_id": r.reservation_id, "connector_id": r.connector_id,
                 "id_tag": r.id_tag, "parent_id_tag": r.parent_id_tag, "expiry": r.expiry.isoformat()}
                for n, r in self.held().values()]
