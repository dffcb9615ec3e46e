"""The pilot obeys every limit (issue 18): the shell's part that turns the charging limits into each
connector's PWM offer.

Each evaluation takes, at the loop clock's now, the composite limit of every connector
(:func:`~chargebox.engine.charging.limit_at`: its TxProfile or TxDefaultProfile, its ``max_current``),
the box's limit (the ChargePointMaxProfile against the site supply,
:func:`~chargebox.engine.charging.box_limit`: less the building's other load where a grid meter measures
it, the failsafe current while it is quiet), shares the box's limit among the charging connectors (:func:`~chargebox.engine.charging.balance`, from what
their meters say the EVs draw) and applies the new offers lowering first, raising after
(:func:`~chargebox.engine.charging.sequence`), so the sum on a line is never above the limit, even during a
change. A connector whose share is below 6 A is offered nothing and is SuspendedEVSE until it rises (IEC
61851-1 table A.7; :meth:`Connector.on_limit <chargebox.engine.connector.Connector.on_limit>`).

It evaluates at the next instant a limit can change (a period boundary: a loop timer, so the pilot
follows within the loop's latency), when the profiles change, when a session begins or ends, and every
``interval`` seconds while a connector charges or a grid meter is read (rebalancing). The meters are read
apart from the evaluation (:meth:`Limits._measure`), so a slow or silent meter never delays a boundary.

A connector without a session is told what its next session would start with (the profiles as they would
be for a transaction starting now) and, synchronously as any session begins or ends, what it could be
offered now without the box going over its limit (:meth:`Limits._grant_idle`): a session that begins
before the next evaluation starts with no more than that, so two sessions beginning at once cannot both
take the same room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hal.errors import HalError
from hal.meter.base import Meter

from chargebox.engine.charging import (
    MIN_OFFER,
    ConnectorLoad,
    GridMeter,
    LimitSource,
    LimitSourceKind,
    balance,
    box_limit,
    limit_at,
    offer_for_limit,
    sequence,
)
from chargebox.engine.charging.balance import LINES
from chargebox.engine.hardware import bounded
from chargebox.engine.smartcharging import SmartCharging

if TYPE_CHECKING:
    from chargebox.engine.chargepoint import ChargePoint

log = logging.getLogger(__name__)

#: Seconds between rebalancings while a connector charges or a grid meter is read (issue 18: "within a
#: few seconds").
INTERVAL = 3.0


@dataclass(frozen=True, slots=True)
class GridSupply:
    """``[site.grid_meter]``: the building's meter, the current per phase the box may draw while it is
    quiet, and after how many seconds without a good reading it counts as quiet."""

    meter: Meter
    failsafe_current: float
    timeout: float


def describe(source: LimitSource) -> str:
    if source.kind is LimitSourceKind.PROFILE:
        return f"{source.purpose} {source.charging_profile_id}"
    return "max_current"  # the connector's own (or, for the box, the connectors' together)


class Limits:
    """Keeps every connector's offer within its limits; ``await run()`` beside the charge point's loops."""

    def __init__(self, charge_point: ChargePoint, smart: SmartCharging, grid: GridSupply | None = None,
                 interval: float = INTERVAL) -> None:
        self.cp = charge_point
        self.smart = smart
        self.grid = grid
        self.interval = interval
        #: What each pilot offers now (A; 0: nothing).
        self.offers = {number: 0.0 for number in charge_point.ports}
        self._own = {number: port.hardware.max_current for number, port in charge_point.ports.items()}
        self._planned: dict[int, float] = {}  # offers about to be raised to
        self._changed: dict[int, float] = {}  # loop time of each connector's last offer change
        self._box: tuple[float, float, float] | None = None  # None: no limit of the box binds
        self._grid_seen: float | None = None  # loop time of the grid meter's last good reading
        self._grid_currents: tuple[float, float, float] | None = None
        self._wake = asyncio.Event()
        self._sessions = asyncio.Event()  # a session began: something to measure
        self._draws: dict[int, tuple[float, ...] | None] = {}  # per phase, as the meters last said
        self._new: dict[int, float] = {}  # the offers the last evaluation found
        smart.watchers.append(self._wake.set)  # wakes on session begin/end too (SmartCharging.session)
        charge_point.station.on_session = self._session

    async def run(self) -> None:
        if self.grid is not None:
            with contextlib.suppress(HalError, OSError):
                await self.grid.meter.open()  # one that cannot be opened stays quiet: the failsafe current
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._measure())
                await self._follow()
        finally:
            if self.grid is not None:
                await bounded(self.grid.meter.close(), "grid meter")

    async def _follow(self) -> None:
        """Evaluate at once when woken (profiles, sessions, new measurements), else at the next instant a
        limit can change: the evaluation itself reads no device, so a boundary is followed at once."""
        while True:
            self._wake.clear()
            try:
                delay = self.evaluate()
                await self._apply_offers()
            except Exception:  # noqa: BLE001 - nothing crashes the daemon (DESIGN.md); tried again soon
                log.exception("charging limits not evaluated; trying again in %s s", self.interval)
                delay = self.interval
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(None if delay is None else max(delay, 0.0)):
                    await self._wake.wait()

    async def _measure(self) -> None:
        """Every ``interval`` while a connector has a session or a grid meter is read: what the EVs draw
        (their meters, all at once) and the building's load, then a rebalancing."""
        while True:
            numbers = [n for n, machine in self.cp.station.connectors.items() if machine.in_transaction]
            if not numbers and self.grid is None:
                self._sessions.clear()
                await self._sessions.wait()
                continue
            readings = await asyncio.gather(*(self._read(number) for number in numbers))
            self._draws = dict(zip(numbers, readings))
            if self.grid is not None:
                await self.poll_grid()
            self._wake.set()
            await asyncio.sleep(self.interval)

    # -- one evaluation ------------------------------------------------------------------------

    def evaluate(self) -> float | None:
        """The offers the limits give now (applied by :meth:`_apply_offers`); the seconds until one can
        change (None: never)."""
        now = self.cp.clock.now()
        loop_now = asyncio.get_running_loop().time()
        installed = self.smart.installed
        station = self.cp.station
        box_at = limit_at(installed, 0, None, now, self.smart.rating(0), box_share=1.0)
        soonest = box_at.next_change
        loads: list[ConnectorLoad] = []
        sources: dict[int, tuple[float, str]] = {}
        for number, machine in station.connectors.items():
            if machine.in_transaction:
                profiles, transaction = installed, self.smart.transaction(number)
            else:
                profiles, transaction = self.smart.prospect(number, now)
            at = limit_at(profiles, number, transaction, now, self.smart.rating(number), box_share=1.0)
            if at.next_change is not None and (soonest is None or at.next_change < soonest):
                soonest = at.next_change
            self._own[number] = at.limit.amps
            sources[number] = (at.limit.amps, describe(at.limit.source))
            # IEC 61851-1 A.2.2 gives an EV 5 s to follow a new duty: what it draws before says nothing
            # of what it wants.
            settled = loop_now - self._changed.get(number, -self.interval) >= self.interval
            per_phase = self._draws.get(number) if machine.in_transaction and settled else None
            charging = machine.in_transaction and not machine.deauthorized
            loads.append(ConnectorLoad(
                number, at.limit.amps, self._lines(number), charging, self.offers[number],
                None if per_phase is None else max(per_phase, default=0.0), self.smart.started.get(number)))
        box = self._box_limit(box_at.limit.amps)
        box_source = describe(box_at.limit.source) if box_at.limit.source.kind is LimitSourceKind.PROFILE \
            else "failsafe" if self.grid is not None and self._grid_currents is None else "site limit"
        fits = all(sum(load.limit for load in loads if line in load.lines) <= box[line] for line in LINES)
        self._box = None if fits else box
        if fits:
            self._new = {load.connector_id: offer_for_limit(load.limit) or 0.0 if load.charging else 0.0
                         for load in loads}
        else:
            self._new = balance(box, loads)
        for number, (limit, source) in sources.items():
            share = self._new.get(number, 0.0)
            held = not fits and station.connectors[number].in_transaction and share < limit
            station.connectors[number].limit_in_force = (share, box_source) if held else (limit, source)
        return None if soonest is None else (soonest - now).total_seconds()

    async def _apply_offers(self) -> None:
        """From the offers now to those :meth:`evaluate` found, lowering first (:func:`sequence`); a
        connector without a session is told its room before the others rise and after."""
        changes = sequence(self.offers, self._new)
        for step in changes.lower:
            await self._offer(step.connector_id, step.amps)
        self._planned = {step.connector_id: step.amps for step in changes.raise_}
        self._grant_idle()
        for step in changes.raise_:
            await self._offer(step.connector_id, step.amps)
        self._planned = {}
        self._grant_idle()

    def _lines(self, number: int) -> tuple[int, ...]:
        return tuple(line - 1 for line in self.smart.wiring.lines_of(number))

    def _box_limit(self, allowed: float) -> tuple[float, float, float]:
        supply = self.smart.rating(0).max_current
        if self.grid is None:
            return box_limit(allowed, supply, None)
        box_draw = [0.0, 0.0, 0.0]  # what the grid meter measures of the box itself
        for number, currents in self._draws.items():
            for line, amps in zip(self._lines(number), currents or ()):
                box_draw[line] += amps
        grid = GridMeter(self._grid_currents, self.grid.failsafe_current)
        return box_limit(allowed, supply, grid, box_draw)

    async def poll_grid(self) -> None:
        """Read the grid meter; quiet for longer than its timeout, it gives no currents (failsafe)."""
        assert self.grid is not None
        now = asyncio.get_running_loop().time()
        try:
            reading = await self.grid.meter.read()  # within the meter's own timeout
        except (HalError, OSError) as err:
            log.debug("grid meter: %s", err)
        else:
            if len(reading.current_a) >= 1:
                currents = (tuple(reading.current_a) + (0.0, 0.0))[:3]
                self._grid_currents = (currents[0], currents[1], currents[2])
                self._grid_seen = now
        if self._grid_seen is None or now - self._grid_seen > self.grid.timeout:
            if self._grid_currents is not None:
                log.warning("grid meter quiet for %s s: the box draws no more than the failsafe current %s A",
                            self.grid.timeout, self.grid.failsafe_current)
            self._grid_currents = None

    async def _read(self, number: int) -> tuple[float, ...] | None:
        """What the connector's EV draws per phase now, from its meter (None: unknown). With its relay
        still open (a session that just began), the reading at hand says it, as no current flows
        (:meth:`Devices.reading_at_hand <chargebox.engine.devices.Devices.reading_at_hand>`): one
        Modbus round trip less at every start, where the start itself needs the meter."""
        port = self.cp.ports[number]
        reading = self.cp.devices.reading_at_hand(port)
        if reading is None:
            try:
                reading = await port.hardware.meter.read()
            except (HalError, OSError):
                return None
        return reading.current_a or None

    async def _offer(self, number: int, amps: float) -> None:
        port = self.cp.ports[number]
        async with port.lock:
            await self.cp.apply(self.cp.station.on_limit(number, offer_for_limit(amps)))
            machine = port.machine
            self.offers[number] = amps if machine.in_transaction and not machine.deauthorized else 0.0
            self._changed[number] = asyncio.get_running_loop().time()

    # -- sessions (synchronous, from the station) ------------------------------------------------

    def _session(self, number: int, begun: bool) -> None:
        """A session began (its offer is what :meth:`_grant_idle` allowed it) or ended on ``number``. The
        offer of one that ended still counts until the next evaluation has taken it back under the port's
        lock, that is once the session's own effects (no current offered) are applied: the others are
        raised only after that."""
        if begun:
            self.offers[number] = self.cp.station.connectors[number].allowed or 0.0
            self._changed[number] = asyncio.get_running_loop().time()
            self._grant_idle()
            self._sessions.set()
        self.smart.session(number, begun, self.cp.clock.now())  # wakes the loop (a watcher)

    def _grant_idle(self) -> None:
        """Tell each connector without a session what it could start with: its own limit, within the
        room the box has on its lines beside what the others are (or are about to be) offered."""
        used = [0.0, 0.0, 0.0]
        for number, offer in self.offers.items():
            for line in self._lines(number):
                used[line] += max(offer, self._planned.get(number, 0.0))
        for number, machine in self.cp.station.connectors.items():
            if machine.in_transaction:
                continue
            room = self._own[number]
            if self._box is not None:
                room = min([room, *(self._box[line] - used[line] for line in self._lines(number))])
            machine.on_limit(offer_for_limit(room) if room >= MIN_OFFER else None)
