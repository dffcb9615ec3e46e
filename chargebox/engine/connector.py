"""One connector's session machine (DESIGN.md, style 9): pilot events (from :mod:`~chargebox.engine.pilot`),
authorization and faults in, effects out. The OCPP status is computed from the state, never stored beside it.

Phases and what moves them (OCPP 1.5 chapter 4 and 1.6 section 3.8 on connectors):

    IDLE --plugged--> PLUGGED --authorized--> STARTING(begin tx, offer current)
    IDLE --authorized--> AUTHORIZED --plugged--> STARTING
    AUTHORIZED --connection timeout--> IDLE             (ConnectionTimeOut, 6.9.1)
    STARTING/CHARGING/SUSPENDED: EV ready -> CHARGING (relay closed), EV paused -> SUSPENDED
    any transaction phase --stop--> FINISHING (relay open, no current, end tx) --unplugged--> IDLE
    a transaction phase --unplugged--> IDLE (end tx, reason EVDisconnected)

Besides the phase: the active hardware faults (each with its error code, 7.7), whether the Central
System deauthorized the running transaction without stopping it (StopTransactionOnInvalidId false:
energy stops, the transaction goes on, 1.6 3.5.4), whether the connector is operative (5.2, with a
change that waits for the running transaction to end), and the reservation it holds (5.11).

The status (1.6 7.7; 1.5 7.10), in order: Faulted (a blocking fault, or a meter that cannot be read
outside a transaction), Charging / SuspendedEVSE / SuspendedEV (a transaction runs), Unavailable (set
inoperative), Finishing or Preparing (a cable without a transaction), Reserved, Available.

A socket outlet's cable lock (IEC 61851-1: the plug is held while energy may flow) is part of these
rules: the cable is locked before any current is offered, and released after the transaction that
locked it has ended. A lock that fails (:meth:`Connector.on_lock_failed`) is a ConnectorLockFailure
(7.7) that ends the session before it begins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum, auto

from chargebox.engine.pilot import PilotEvent
from chargebox.ocpp.enums import (
    AvailabilityStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    Reason,
    ReservationStatus,
)


class Phase(Enum):
    IDLE = auto()
    PLUGGED = auto()  # cable in, no authorization yet
    AUTHORIZED = auto()  # authorized, waiting for the cable
    CHARGING = auto()  # transaction running, EV asks for energy, relay closed
    SUSPENDED = auto()  # transaction running, no energy (EV does not ask, or deauthorized), relay open
    FINISHING = auto()  # transaction ended, cable still in


TRANSACTION_PHASES = {Phase.CHARGING, Phase.SUSPENDED}

#: Faults that leave a connector able to deliver energy: they are reported with its status, which
#: stays what it was (7.10: Faulted is "no longer available").
NON_BLOCKING = {ChargePointErrorCode.READER_FAILURE, ChargePointErrorCode.WEAK_SIGNAL}

#: Blocking faults that still let a running session go on. A meter that cannot be read starts no
#: session, since a StartTransaction needs a real meterStart (6.26), so the connector is Faulted with
#: PowerMeterFailure (7.10: "reported an error and is no longer available"; Unavailable is only
#: for a connector explicitly set so); a session already running is not stopped by it, and its
#: meterStop is the last good reading.
SESSION_GOES_ON = {ChargePointErrorCode.POWER_METER_FAILURE}


@dataclass(frozen=True, slots=True)
class BeginTransaction:
    id_tag: str
    parent_id_tag: str | None
    reservation_id: int | None = None  # the reservation this transaction ends (4.8, 6.39)


@dataclass(frozen=True, slots=True)
class EndTransaction:
    reason: Reason  # StopTransaction.req reason (1.6 7.35)
    id_tag: str | None


@dataclass(frozen=True, slots=True)
class SwitchRelay:
    closed: bool


@dataclass(frozen=True, slots=True)
class OfferCurrent:
    amps: float | None


@dataclass(frozen=True, slots=True)
class LockCable:
    """Drive the cable lock. One that fails is reported through :meth:`Connector.on_lock_failed`,
    whose effects replace those that followed it (with the cable not held, they must not happen)."""

    locked: bool


Effect = BeginTransaction | EndTransaction | SwitchRelay | OfferCurrent | LockCable


@dataclass(frozen=True, slots=True)
class Fault:
    code: ChargePointErrorCode
    info: str = ""  # StatusNotification info (string[50])
    vendor_error_code: str | None = None  # for OtherError (6.44)


def _same(a: str | None, b: str | None) -> bool:
    """IdTokens compare case-insensitively (7.20)."""
    return a is not None and b is not None and a.casefold() == b.casefold()


@dataclass(frozen=True, slots=True)
class Reservation:
    """ReserveNow.req (6.33) as the box holds it."""

    reservation_id: int
    connector_id: int  # 0: for any connector of the box; it is then held on one connector (5.11)
    id_tag: str
    parent_id_tag: str | None
    expiry: datetime

    def admits(self, id_tag: str, parent_id_tag: str | None) -> bool:
        """5.11: the incoming id-tag or its parent id-tag matches the reservation's id-tag or parent id-tag."""
        return any(_same(a, b) for a in (id_tag, parent_id_tag) for b in (self.id_tag, self.parent_id_tag))

    def may_admit(self, id_tag: str) -> bool:
        """Whether ``id_tag`` can be admitted before its parent id-tag is known: it matches by
        itself, or the reservation is for a group, whose members only authorization reveals."""
        return self.admits(id_tag, None) or self.parent_id_tag is not None


class Connector:
    """The machine for connector ``number`` (``cable_lock``: a socket outlet with a lock); each
    ``on_*`` returns the effects to apply, in order."""

    def __init__(self, number: int, max_current: float, *, cable_lock: bool = False) -> None:
        self.number = number
        self.max_current = max_current
        self.cable_lock = cable_lock
        self.locked = False  # the cable is locked for this session (its LockCable(True) did not fail)
        self.phase = Phase.IDLE
        self.plugged = False  # a vehicle is connected (pilot B, C or D)
        self.ev_asks = False  # the vehicle asks for energy (pilot C or D)
        self.id_tag: str | None = None
        self.parent_id_tag: str | None = None
        self.faults: dict[ChargePointErrorCode, Fault] = {}
        self.deauthorized = False
        self.operative = True
        self.pending_operative: bool | None = None  # ChangeAvailability waiting for the transaction's end
        self.reservation: Reservation | None = None
        #: The current the charging limits allow now (engine/limits.py; None: less than 6 A, nothing can
        #: be offered and a session is SuspendedEVSE, issue 18).
        self.allowed: float | None = max_current
        #: The limit in force (A per phase) and where it comes from (a profile, the site limit, the
        #: failsafe, max_current), as the limits last found it, for ``chargebox status``.
        self.limit_in_force: tuple[float, str] | None = None
        #: The idTag whose cable stays locked after the Central System deauthorized its session
        #: (1.6 errata 3.17: "until the owner presents his identifier").
        self.held_for: str | None = None

    @property
    def in_transaction(self) -> bool:
        return self.phase in TRANSACTION_PHASES

    @property
    def fault(self) -> Fault | None:
        """The fault to report: a blocking one first, else any (7.7 has one errorCode per status)."""
        blocking = [f for f in self.faults.values() if f.code not in NON_BLOCKING]
        found = blocking or list(self.faults.values())
        return found[0] if found else None

    @property
    def blocked(self) -> bool:
        return any(code not in NON_BLOCKING for code in self.faults)

    @property
    def can_start(self) -> bool:
        return self.operative and not self.blocked and self.phase in (Phase.IDLE, Phase.PLUGGED)

    def may_start(self, id_tag: str | None) -> bool:
        """A session for ``id_tag`` could start here: none for another tag while reserved (5.11)."""
        if self.reservation is None:
            return self.can_start
        return self.can_start and id_tag is not None and self.reservation.may_admit(id_tag)

    @property
    def status(self) -> ChargePointStatus:
        """The neutral status (1.6 7.7), computed from the phase, the relay and the vehicle, the
        faults, the availability and the reservation. A 1.5 binding maps Preparing, Charging,
        SuspendedEV, SuspendedEVSE and Finishing down to Occupied (1.5 7.8), which gives exactly
        1.5's order (1.5 7.10)."""
        if self.blocked and not self.in_transaction:  # a session goes on only through SESSION_GOES_ON
            return ChargePointStatus.FAULTED
        if self.in_transaction:
            # The box withholds energy from a deauthorized transaction, and offers none under a limit
            # below 6 A (issue 18); 1.6 4.9: SuspendedEVSE takes precedence when both suspend.
            if self.deauthorized or self.allowed is None:
                return ChargePointStatus.SUSPENDED_EVSE
            if self.phase is Phase.CHARGING:
                return ChargePointStatus.CHARGING  # the relay is closed
            return ChargePointStatus.SUSPENDED_EV
        if not self.operative:
            return ChargePointStatus.UNAVAILABLE  # explicitly set unavailable (7.10), cable or not
        if self.phase in (Phase.IDLE, Phase.AUTHORIZED):
            # An authorization waiting for its cable stays Available (or Reserved): 1.5 has no
            # status for it, and its wire must not change (issue 16).
            return ChargePointStatus.RESERVED if self.reservation else ChargePointStatus.AVAILABLE
        if self.phase is Phase.FINISHING:
            return ChargePointStatus.FINISHING  # the transaction ended, the cable is still in
        return ChargePointStatus.PREPARING  # a cable, no authorization yet

    def on_pilot(self, event: PilotEvent) -> list[Effect]:
        if event is PilotEvent.ERROR:
            # A pilot short or an EV error (IEC 61851-1 state E or F) is a Mode3Error (7.7); a
            # running transaction stops safely. Until the pilot leaves it, no vehicle is seen.
            self.plugged = self.ev_asks = False
            return self.on_fault(Fault(ChargePointErrorCode.MODE3_ERROR, "pilot state E or F"))
        if event is PilotEvent.ERROR_CLEARED:
            return self.on_fault_cleared(ChargePointErrorCode.MODE3_ERROR)
        self.plugged = event is not PilotEvent.UNPLUGGED
        self.ev_asks = event is PilotEvent.EV_READY
        if not self.plugged:
            self.held_for = None  # the cable is out (the lock was opened some other way)
            if self.in_transaction:
                return self._end(Reason.EV_DISCONNECTED, None, keep_cable=False)
            if self.phase is not Phase.AUTHORIZED:  # an authorization waits for the cable
                self.phase = Phase.IDLE
            return []
        if self.phase is Phase.IDLE:
            self.phase = Phase.PLUGGED
            return []
        if self.phase is Phase.AUTHORIZED:
            return self._begin()
        if self.in_transaction:
            # The relay follows the EV: closed only while it asks for energy (IEC 61851 state C/D),
            # and never for a transaction the Central System did not accept.
            if self.ev_asks and self.phase is Phase.SUSPENDED and not self.deauthorized:
                self.phase = Phase.CHARGING
                return [SwitchRelay(True)]
            if not self.ev_asks and self.phase is Phase.CHARGING:
                self.phase = Phase.SUSPENDED
                return [SwitchRelay(False)]
        return []

    def on_fault(self, fault: Fault) -> list[Effect]:
        """A hardware fault: a blocking one ends a session with the relay open first (4.9)."""
        self.faults[fault.code] = fault
        if fault.code in NON_BLOCKING:
            return []
        self.reservation = None  # 5.11: a reservation ends when its connector is Faulted
        if self.phase is Phase.AUTHORIZED:
            self.phase, self.id_tag, self.parent_id_tag = Phase.IDLE, None, None
        if self.in_transaction and fault.code not in SESSION_GOES_ON:
            return self._end(Reason.OTHER, None, keep_cable=self.plugged)
        return []

    def on_fault_cleared(self, code: ChargePointErrorCode) -> list[Effect]:
        self.faults.pop(code, None)
        return []

    def on_lock_failed(self, locking: bool, info: str) -> list[Effect]:
        """A :class:`LockCable` failed. Locking: ConnectorLockFailure (7.7) ends the session before
        it begins (the effects after the lock were dropped, so nothing was journalled), and the cable,
        never held, is not released. Releasing: the cable stays held; the lock reports its own fault."""
        if not locking:
            return []
        self.locked = False
        return self.on_fault(Fault(ChargePointErrorCode.CONNECTOR_LOCK_FAILURE, info[:50]))

    def on_authorized(self, id_tag: str, parent_id_tag: str | None) -> list[Effect]:
        """A card or a remote start was accepted for this connector."""
        if not self.can_start:
            return []
        if self.reservation is not None and not self.reservation.admits(id_tag, parent_id_tag):
            return []  # 5.11: a reserved connector refuses every other id-tag
        self.id_tag, self.parent_id_tag = id_tag, parent_id_tag
        if self.phase is Phase.PLUGGED:
            return self._begin()
        self.phase = Phase.AUTHORIZED
        return []

    def on_connection_timeout(self) -> list[Effect]:
        """ConnectionTimeOut (6.9.1) elapsed since authorization without a cable: it lapses."""
        if self.phase is Phase.AUTHORIZED:
            self.phase = Phase.IDLE
            self.id_tag = self.parent_id_tag = None
        return []

    def on_deauthorized(self, stop: bool, hold_cable: bool = False) -> list[Effect]:
        """StartTransaction.conf came back not Accepted (1.6 3.5.4, StopTransactionOnInvalidId):
        stop the transaction, or stop only the energy and let the EV driver end it. ``hold_cable``:
        a stopped one keeps its cable locked until its owner presents his card (1.6 errata 3.17)."""
        if not self.in_transaction:
            return []
        if stop:
            return self._end(Reason.DE_AUTHORIZED, None, keep_cable=self.plugged, hold_cable=hold_cable)
        self.deauthorized = True
        effects: list[Effect] = [OfferCurrent(None)]
        if self.phase is Phase.CHARGING:
            effects.insert(0, SwitchRelay(False))
        self.phase = Phase.SUSPENDED
        return effects

    def on_limit(self, amps: float | None) -> list[Effect]:
        """The charging limits allow ``amps`` now (None: below 6 A, IEC 61851-1 table A.7). A running
        session that may draw is offered it at once; none suspends it (SuspendedEVSE) until it rises.
        A connector without a session starts its next one with it."""
        changed = amps != self.allowed
        self.allowed = amps
        if changed and self.in_transaction and not self.deauthorized:
            return [OfferCurrent(amps)]
        return []

    def on_stop(self, reason: Reason, id_tag: str | None) -> list[Effect]:
        """Stop the transaction (card, Central System, reset...): relay open, then the journal."""
        if not self.in_transaction:
            return []
        return self._end(reason, id_tag, keep_cable=self.plugged)

    def on_owner(self, id_tag: str) -> list[Effect]:
        """A card: the owner of a cable held after a deauthorized session takes it back (errata 3.17)."""
        if not _same(id_tag, self.held_for):
            return []
        self.held_for, self.locked = None, False
        return [LockCable(False)]

    def on_availability(self, operative: bool) -> AvailabilityStatus:
        """ChangeAvailability (5.2): a change asked for during a transaction is Scheduled and applied
        when it ends (:meth:`_end`); one to the state the connector is in is Accepted."""
        if self.in_transaction:
            self.pending_operative = None if operative == self.operative else operative
            return AvailabilityStatus.ACCEPTED if self.pending_operative is None else AvailabilityStatus.SCHEDULED
        self.pending_operative = None
        self._set_operative(operative)
        return AvailabilityStatus.ACCEPTED

    def _set_operative(self, operative: bool) -> None:
        self.operative = operative
        if not operative:
            # Unavailable: no new session (an authorization waiting for the cable lapses) and no
            # reservation (5.11: it ends when its connector is set Unavailable).
            self.reservation = None
            if self.phase is Phase.AUTHORIZED:
                self.phase, self.id_tag, self.parent_id_tag = Phase.IDLE, None, None

    def on_reserve(self, reservation: Reservation) -> ReservationStatus:
        """ReserveNow (5.11, 7.32) for this connector; the same reservationId replaces its reservation."""
        if self.blocked:
            return ReservationStatus.FAULTED
        if not self.operative:
            return ReservationStatus.UNAVAILABLE
        held = self.reservation
        if self.phase is not Phase.IDLE or (held is not None and held.reservation_id != reservation.reservation_id):
            return ReservationStatus.OCCUPIED  # occupied, or reserved for the same or another id-tag
        self.reservation = reservation
        return ReservationStatus.ACCEPTED

    def hold(self, reservation: Reservation) -> None:
        """Hold a reservation already placed and not ended: one for any connector that moves here
        from another (5.11), or one a failed replacement leaves standing."""
        self.reservation = reservation

    def on_reservation_ended(self, reservation_id: int) -> bool:
        """CancelReservation (5.1) or expiry (5.11): whether this connector held it."""
        if self.reservation is None or self.reservation.reservation_id != reservation_id:
            return False
        self.reservation = None
        return True

    def _begin(self) -> list[Effect]:
        assert self.id_tag is not None
        # The offer goes out first, so the EV wakes up while the journal is written; the relay only
        # closes after the transaction is journalled (effects apply in order). It ends the
        # connector's reservation, whose id its StartTransaction carries (4.8, 5.11).
        self.phase = Phase.CHARGING if self.ev_asks else Phase.SUSPENDED
        self.deauthorized = False
        reservation_id = self.reservation.reservation_id if self.reservation else None
        self.reservation = None
        effects: list[Effect] = [OfferCurrent(self.allowed),
                                 BeginTransaction(self.id_tag, self.parent_id_tag, reservation_id)]
        if self.cable_lock:
            effects.insert(0, LockCable(True))  # the cable is held before any current is offered
            self.locked = True
        if self.ev_asks:
            effects.append(SwitchRelay(True))
        return effects

    def _end(self, reason: Reason, id_tag: str | None, *, keep_cable: bool,
             hold_cable: bool = False) -> list[Effect]:
        effects: list[Effect] = [SwitchRelay(False), OfferCurrent(None)]
        if self.in_transaction:
            effects.append(EndTransaction(reason, id_tag))
        if self.locked and hold_cable and keep_cable and self.id_tag is not None:
            # 1.6 errata 3.17: the cable stays locked until its owner presents his identifier.
            self.held_for = self.id_tag
        elif self.locked:  # the driver may take the cable once the transaction is journalled as ended
            effects.append(LockCable(False))
            self.locked = False
        self.phase = Phase.FINISHING if keep_cable else Phase.IDLE
        self.id_tag = self.parent_id_tag = None
        self.deauthorized = False
        if self.pending_operative is not None:  # 5.2: the Scheduled change, now the transaction has ended
            self._set_operative(self.pending_operative)
            self.pending_operative = None
        return effects
