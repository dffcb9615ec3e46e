"""One connector's session machine (DESIGN.md, style 9): pilot events and authorization in,
effects out. The OCPP status is computed from the phase, never stored beside it.

Phases and what moves them (OCPP 1.5 chapter 4 and 1.6 section 3.8 on connectors):

    IDLE --plugged--> PLUGGED --authorized--> STARTING(begin tx, offer current)
    IDLE --authorized--> AUTHORIZED --plugged--> STARTING
    AUTHORIZED --connection timeout--> IDLE             (ConnectionTimeOut, 6.9.1)
    STARTING/CHARGING/SUSPENDED: EV asks (C/D) -> CHARGING (relay closed), EV stops asking (B) -> SUSPENDED
    any transaction phase --stop--> FINISHING (relay open, no current, end tx) --unplugged--> IDLE
    a transaction phase --unplugged--> IDLE (end tx, reason EVDisconnected)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from hal.events import PilotState

from chargebox.ocpp.enums import ChargePointErrorCode, ChargePointStatus


class Phase(Enum):
    IDLE = auto()
    PLUGGED = auto()  # cable in, no authorization yet
    AUTHORIZED = auto()  # authorized, waiting for the cable
    CHARGING = auto()  # transaction running, EV asks for energy, relay closed
    SUSPENDED = auto()  # transaction running, EV does not ask (state B), relay open
    FINISHING = auto()  # transaction ended, cable still in


TRANSACTION_PHASES = {Phase.CHARGING, Phase.SUSPENDED}


@dataclass(frozen=True, slots=True)
class BeginTransaction:
    id_tag: str
    parent_id_tag: str | None


@dataclass(frozen=True, slots=True)
class EndTransaction:
    reason: str
    id_tag: str | None


@dataclass(frozen=True, slots=True)
class SwitchRelay:
    closed: bool


@dataclass(frozen=True, slots=True)
class OfferCurrent:
    amps: float | None


Effect = BeginTransaction | EndTransaction | SwitchRelay | OfferCurrent


class Connector:
    """The machine for connector ``number``; each ``on_*`` returns the effects to apply, in order."""

    def __init__(self, number: int, max_current: float) -> None:
        self.number = number
        self.max_current = max_current
        self.phase = Phase.IDLE
        self.pilot: PilotState = PilotState.A
        self.id_tag: str | None = None
        self.parent_id_tag: str | None = None
        self.fault: ChargePointErrorCode | None = None

    @property
    def plugged(self) -> bool:
        return self.pilot in (PilotState.B, PilotState.C, PilotState.D)

    @property
    def ev_asks(self) -> bool:
        return self.pilot in (PilotState.C, PilotState.D)

    @property
    def in_transaction(self) -> bool:
        return self.phase in TRANSACTION_PHASES

    @property
    def status(self) -> ChargePointStatus:
        """OCPP 1.5 status (7.8): computed from the phase and the fault."""
        if self.fault is not None:
            return ChargePointStatus.FAULTED
        if self.phase is Phase.IDLE or self.phase is Phase.AUTHORIZED:
            return ChargePointStatus.AVAILABLE
        return ChargePointStatus.OCCUPIED

    def on_pilot(self, state: PilotState) -> list[Effect]:
        self.pilot = state
        if state in (PilotState.E, PilotState.F):
            # A pilot short or an EV error is a Mode3Error (7.7); a running transaction stops safely.
            self.fault = ChargePointErrorCode.MODE3_ERROR
            return self._end("EVDisconnected" if self.in_transaction else "", None, keep_cable=False)
        if self.fault is ChargePointErrorCode.MODE3_ERROR:
            self.fault = None
        if not self.plugged:
            if self.in_transaction:
                return self._end("EVDisconnected", None, keep_cable=False)
            if self.phase is not Phase.AUTHORIZED:  # an authorization waits for the cable
                self.phase = Phase.IDLE
            return []
        if self.phase is Phase.IDLE:
            self.phase = Phase.PLUGGED
            return []
        if self.phase is Phase.AUTHORIZED:
            return self._begin()
        if self.in_transaction:
            # The relay follows the EV: closed only while it asks for energy (IEC 61851 state C/D).
            if self.ev_asks and self.phase is Phase.SUSPENDED:
                self.phase = Phase.CHARGING
                return [SwitchRelay(True)]
            if not self.ev_asks and self.phase is Phase.CHARGING:
                self.phase = Phase.SUSPENDED
                return [SwitchRelay(False)]
        return []

    def on_authorized(self, id_tag: str, parent_id_tag: str | None) -> list[Effect]:
        """A card or a remote start was accepted for this connector."""
        if self.fault is not None or self.phase not in (Phase.IDLE, Phase.PLUGGED):
            return []
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

    def on_stop(self, reason: str, id_tag: str | None) -> list[Effect]:
        """Stop the transaction (card, Central System, reset...): relay open, then the journal."""
        if not self.in_transaction:
            return []
        return self._end(reason, id_tag, keep_cable=self.plugged)

    def _begin(self) -> list[Effect]:
        assert self.id_tag is not None
        # The transaction is journalled before any current is offered or the relay closes.
        self.phase = Phase.CHARGING if self.ev_asks else Phase.SUSPENDED
        effects: list[Effect] = [BeginTransaction(self.id_tag, self.parent_id_tag), OfferCurrent(self.max_current)]
        if self.ev_asks:
            effects.append(SwitchRelay(True))
        return effects

    def _end(self, reason: str, id_tag: str | None, *, keep_cable: bool) -> list[Effect]:
        effects: list[Effect] = [SwitchRelay(False), OfferCurrent(None)]
        if self.in_transaction:
            effects.append(EndTransaction(reason, id_tag))
        self.phase = Phase.FINISHING if keep_cable else Phase.IDLE
        self.id_tag = self.parent_id_tag = None
        return effects
