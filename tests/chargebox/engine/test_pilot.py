"""The pilot machine: every change between the IEC 61851-1 pilot states A-F and the events it means."""

from __future__ import annotations

import pytest
from hal.events import PilotState

from chargebox.engine.pilot import PilotEvent, PilotMachine

A, B, C, D, E, F = PilotState
PLUGGED, READY, PAUSED, UNPLUGGED, ERROR, CLEARED = PilotEvent

#: before, after, the events. C and D (ventilation) both mean the EV asks for energy; E and F are
#: both an error; leaving an error reports the connection afresh.
TRANSITIONS = [
    (A, A, []), (A, B, [PLUGGED]), (A, C, [PLUGGED, READY]), (A, D, [PLUGGED, READY]), (A, E, [ERROR]),
    (A, F, [ERROR]),
    (B, A, [UNPLUGGED]), (B, B, []), (B, C, [READY]), (B, D, [READY]), (B, E, [ERROR]), (B, F, [ERROR]),
    (C, A, [UNPLUGGED]), (C, B, [PAUSED]), (C, C, []), (C, D, []), (C, E, [ERROR]), (C, F, [ERROR]),
    (D, A, [UNPLUGGED]), (D, B, [PAUSED]), (D, C, []), (D, D, []), (D, E, [ERROR]), (D, F, [ERROR]),
    (E, A, [CLEARED, UNPLUGGED]), (E, B, [CLEARED, PLUGGED]), (E, C, [CLEARED, PLUGGED, READY]),
    (E, D, [CLEARED, PLUGGED, READY]), (E, E, []), (E, F, []),
    (F, A, [CLEARED, UNPLUGGED]), (F, B, [CLEARED, PLUGGED]), (F, C, [CLEARED, PLUGGED, READY]),
    (F, D, [CLEARED, PLUGGED, READY]), (F, E, []), (F, F, []),
]


@pytest.mark.parametrize(("before", "after", "events"), TRANSITIONS,
                         ids=[f"{before}-{after}" for before, after, _ in TRANSITIONS])
def test_each_pilot_change_gives_its_events(before: PilotState, after: PilotState,
                                            events: list[PilotEvent]) -> None:
    pilot = PilotMachine()
    pilot.feed(before)
    assert pilot.feed(after) == events and pilot.state is after


def test_a_connector_starts_without_a_vehicle() -> None:
    assert PilotMachine().feed(A) == []
