"""Protection inputs: a residual current device's trip contact, an over-temperature sensor."""

from __future__ import annotations

import asyncio
import contextlib

from hal.device import Device
from hal.events import FaultKind
from hal.signal import Signal
from hal.tasks import cancel_and_wait

#: The inputs a protection device may have, and the fault each one raises.
INPUTS: dict[str, FaultKind] = {"rcd": FaultKind.GROUND, "overtemp": FaultKind.HIGH_TEMPERATURE}


class Protection(Device):
    """Watches optional inputs and reports them as faults; it commands nothing.

    A backend's ``_open`` fills :attr:`inputs` with a :class:`~hal.signal.Signal` per input it
    has (``"rcd"``: True = tripped -> ``DeviceFault(GROUND)``; ``"overtemp"``: True = too hot ->
    ``DeviceFault(HIGH_TEMPERATURE)``). From ``open()`` to ``close()`` every change of an
    input is reported through :meth:`faults` (raised, and cleared when the input returns to normal,
    e.g. the RCD is reset by hand). An input already active at open is reported at once.
    """

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, Signal[bool]] = {}
        self._watches: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        """Acquire the device and report its inputs from now on."""
        await super().open()
        loop = asyncio.get_running_loop()
        for name, signal in self.inputs.items():
            self._report(INPUTS[name], signal.value, f"{name} input active")
            self._watches.append(loop.create_task(self._watch(INPUTS[name], name, signal)))

    async def close(self) -> None:
        """Release the device. Safe to call twice."""
        watches, self._watches = self._watches, []
        await cancel_and_wait(*watches)
        await super().close()

    async def _watch(self, kind: FaultKind, name: str, signal: Signal[bool]) -> None:
        while True:
            self._report(kind, await signal.changed(), f"{name} input active")

    async def _open(self) -> None:
        """Acquire the device and fill :attr:`inputs`."""

    async def _close(self) -> None:
        """Release the device."""
