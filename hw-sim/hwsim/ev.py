"""The electric vehicle: walks the pilot states and draws the current the PWM duty allows."""

from __future__ import annotations

from dataclasses import dataclass

from hal.events import PilotState


def allowed_current(duty: float | None) -> float:
    """The current an EV may draw for a PWM duty (IEC 61851-1, the inverse of the EVSE's table)."""
    if duty is None or duty >= 97.0 or duty < 8.0:
        return 0.0
    if duty <= 85.0:
        return max(duty * 0.6, 6.0) if duty >= 10.0 else 6.0
    return min((duty - 64.0) * 2.5, 80.0)


@dataclass(slots=True)
class EV:
    """A car on a cable. ``soc`` is its state of charge (0..1); near full it tapers its current."""

    max_current: float = 32.0
    phases: int = 3
    battery_wh: float = 40_000.0
    soc: float = 0.5
    wants_energy: bool = True

    def pilot(self, duty: float | None) -> PilotState:
        """State B until the EVSE offers current and the EV wants it; then C (IEC 61851-1)."""
        if duty is None:
            return PilotState.F
        if self.wants_energy and allowed_current(duty) > 0 and self.soc < 1.0:
            return PilotState.C
        return PilotState.B

    def current(self, duty: float | None, relay_closed: bool) -> float:
        """Amps per phase drawn now: what the duty allows, capped by the car, tapering above 80 %."""
        if not relay_closed or self.pilot(duty) is not PilotState.C:
            return 0.0
        amps = min(allowed_current(duty), self.max_current)
        if self.soc > 0.8:
            amps *= max(0.0, (1.0 - self.soc) / 0.2)
        return amps

    def absorb(self, energy_wh: float) -> None:
        self.soc = min(1.0, self.soc + energy_wh / self.battery_wh)
