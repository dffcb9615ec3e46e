"""The control pilot (IEC 61851-1): the current offered to the EV as a PWM duty, and the pilot state."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator

from hal.device import Device
from hal.events import FaultKind, PilotState


def duty_for_current(amps: float | None) -> float:
    """The PWM duty cycle in percent that offers ``amps`` (IEC 61851-1 table A.6/A.7).

    6 A..51 A: duty = I / 0.6; 51 A..80 A: duty = I / 2.5 + 64; no current: 100 % (steady +12 V).
    """
    if amps is None or amps < 6.0:
        return 100.0
    if amps <= 51.0:
        return round(amps / 0.6, 2)
    return round(min(amps, 80.0) / 2.5 + 64.0, 2)


class Pilot(Device):
    """One connector's pilot: ``offer()`` sets the current, ``states()`` yields state changes.

    Backends implement ``_write_duty`` (None for state F, -12 V) and ``_next_state`` (wait for the
    next raw, debounced reading), and ``_open``/``_close`` if they have something to acquire (the
    :class:`~hal.device.Device` lifecycle). The base class drops repeats, so a steady state is
    reported once.

    Faults (IEC 61851-1 A.3, "Mode3Error"): while :meth:`states` runs, state E (pilot shorted to
    PE, 0 V) and a state F that the EVSE did not command are reported as ``DeviceFault(MODE3)``,
    cleared when the pilot leaves them. Backends that can see a missing EV diode report it the same
    way through ``_report``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.offered: float | None = None
        self.duty: float | None = 100.0
        self.state: PilotState | None = None

    async def offer(self, amps: float | None) -> None:
        """Offer ``amps`` to the EV (None: offer nothing, 100 % duty)."""
        self.offered = amps
        self.duty = duty_for_current(amps)
        await self._write_duty(self.duty)

    async def set_unavailable(self) -> None:
        """State F: -12 V, the EVSE is not available."""
        self.offered, self.duty = None, None
        await self._write_duty(None)

    async def states(self) -> AsyncIterator[PilotState]:
        while True:
            state = await self._next_state()
            if state != self.state:
                self.state = state
                short = state is PilotState.E
                uncommanded_f = state is PilotState.F and self.duty is not None
                detail = "pilot short circuit (state E)" if short else "pilot at -12 V not commanded (state F)"
                self._report(FaultKind.MODE3, short or uncommanded_f, detail)
                yield state

    async def _open(self) -> None:
        """Acquire the device; default: nothing to acquire."""

    async def _close(self) -> None:
        """Release the device; default: nothing to release."""

    @abc.abstractmethod
    async def _write_duty(self, duty: float | None) -> None: ...

    @abc.abstractmethod
    async def _next_state(self) -> PilotState: ...
