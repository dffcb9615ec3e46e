"""One uniform way for every device to report faults: :class:`FaultSource`.

Devices that can fault (reader, meter, pilot, relay, cable lock, protection inputs) inherit it.
A device calls :meth:`FaultSource._report` whenever it learns whether a fault is present; only
*transitions* reach listeners, so a meter that keeps timing out is one ``DeviceFault(METER)`` and one
``DeviceFault(METER, active=False)`` when it answers again, however many polls fail in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from hal.events import DeviceFault, FaultKind


class FaultSource:
    """Mixin: ``async for fault in device.faults()`` yields :class:`DeviceFault` transitions.

    A new listener first receives every fault that is active at the moment it subscribes (so a
    consumer that starts late still learns of a relay that welded before it looked), then every
    transition, in order. Several listeners may iterate at once; each gets every event.
    :attr:`active_faults` is the current set, for status computed from state.
    """

    def __init__(self) -> None:
        super().__init__()
        self._active_faults: dict[FaultKind, DeviceFault] = {}
        self._fault_listeners: set[asyncio.Queue[DeviceFault]] = set()

    @property
    def active_faults(self) -> dict[FaultKind, DeviceFault]:
        """Faults present now, by kind (a copy)."""
        return dict(self._active_faults)

    async def faults(self) -> AsyncIterator[DeviceFault]:
        """Active faults first, then every transition (raised or cleared), for ever."""
        queue: asyncio.Queue[DeviceFault] = asyncio.Queue()
        for fault in self._active_faults.values():
            queue.put_nowait(fault)
        self._fault_listeners.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._fault_listeners.discard(queue)

    def _report(self, kind: FaultKind, active: bool, detail: str = "") -> None:
        """Tell listeners that fault ``kind`` is (or no longer is) present; repeats are dropped.

        ``detail`` describes an active fault; a clearing event carries none.
        """
        if active == (kind in self._active_faults):
            return
        fault = DeviceFault(kind, active, detail if active else "")
        if active:
            self._active_faults[kind] = fault
        else:
            del self._active_faults[kind]
        for queue in self._fault_listeners:
            queue.put_nowait(fault)
