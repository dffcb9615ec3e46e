"""The pilot machine (DESIGN.md, style 9): raw IEC 61851-1 control pilot states in, connection events
out, so the connector machine reasons about a vehicle, not about voltages (EVerest's
``IECStateMachine`` does the same between its board driver and its charger machine).

IEC 61851-1 (Annex A, the control pilot function) reads the pilot as: A no vehicle; B vehicle
connected, not ready; C vehicle ready (charging); D vehicle ready, ventilation required; E pilot
shorted to earth or the EVSE without supply; F EVSE not available. The box treats C and D alike (the
EV asks for energy), and E and F alike (an error, reported as Mode3Error, OCPP 1.5 section 7.7). A
change within one of these groups is no event.

Events, by the group the pilot leaves and the one it enters:

    A -> B: PLUGGED              B -> C/D: EV_READY         C/D -> B: EV_PAUSED
    A -> C/D: PLUGGED, EV_READY  B, C/D -> A: UNPLUGGED     A, B, C/D -> E/F: ERROR

In E or F the pilot tells nothing about the vehicle, so leaving the error reports the connection
afresh: ERROR_CLEARED, then UNPLUGGED (to A), PLUGGED (to B), or PLUGGED, EV_READY (to C/D).
"""

from __future__ import annotations

from enum import Enum, auto

from hal.events import PilotState


class PilotEvent(Enum):
    """EVerest's ``CPEvent`` CarPluggedIn, CarRequestedPower, CarRequestedStopPower, CarUnplugged,
    BCDtoEF and EFtoBCD, in this order."""

    PLUGGED = auto()  # a vehicle is connected (the pilot left A)
    EV_READY = auto()  # the vehicle asks for energy (state C or D)
    EV_PAUSED = auto()  # the vehicle no longer asks for energy, still connected (back to B)
    UNPLUGGED = auto()  # no vehicle (state A)
    ERROR = auto()  # state E or F
    ERROR_CLEARED = auto()  # the pilot left E or F


class _Group(Enum):
    NO_VEHICLE = auto()
    CONNECTED = auto()
    READY = auto()
    ERROR = auto()


_GROUP = {
    PilotState.A: _Group.NO_VEHICLE,
    PilotState.B: _Group.CONNECTED,
    PilotState.C: _Group.READY,
    PilotState.D: _Group.READY,  # ventilation required: the box makes no difference (see above)
    PilotState.E: _Group.ERROR,
    PilotState.F: _Group.ERROR,
}

#: How a vehicle's connection is announced from nothing known (no vehicle, or just out of an error).
_ANNOUNCE = {
    _Group.NO_VEHICLE: [PilotEvent.UNPLUGGED],
    _Group.CONNECTED: [PilotEvent.PLUGGED],
    _Group.READY: [PilotEvent.PLUGGED, PilotEvent.EV_READY],
}

_EVENTS: dict[tuple[_Group, _Group], list[PilotEvent]] = {
    (_Group.NO_VEHICLE, _Group.CONNECTED): [PilotEvent.PLUGGED],
    (_Group.NO_VEHICLE, _Group.READY): [PilotEvent.PLUGGED, PilotEvent.EV_READY],
    (_Group.CONNECTED, _Group.NO_VEHICLE): [PilotEvent.UNPLUGGED],
    (_Group.CONNECTED, _Group.READY): [PilotEvent.EV_READY],
    (_Group.READY, _Group.NO_VEHICLE): [PilotEvent.UNPLUGGED],
    (_Group.READY, _Group.CONNECTED): [PilotEvent.EV_PAUSED],
    **{(before, _Group.ERROR): [PilotEvent.ERROR] for before in _ANNOUNCE},
    **{(_Group.ERROR, after): [PilotEvent.ERROR_CLEARED, *events] for after, events in _ANNOUNCE.items()},
}


class PilotMachine:
    """One connector's pilot; it starts in A, as a connector without a vehicle reads."""

    def __init__(self) -> None:
        self.state = PilotState.A

    def feed(self, state: PilotState) -> list[PilotEvent]:
        """The events the change from the last state to ``state`` means, in order."""
        before, self.state = _GROUP[self.state], state
        return list(_EVENTS.get((before, _GROUP[state]), []))
