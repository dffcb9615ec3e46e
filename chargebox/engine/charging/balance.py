"""Local load balancing (issue 18): the box's limit shared among the connectors that are charging, and
the order in which to change the offers, as pure functions.

The box limit is per line (L1, L2, L3): the lower of the ChargePointMaxProfile in force and the site supply
(``[site] max_current``), less the building's other load where a grid meter measures it, or the failsafe
current when that meter is quiet (:func:`box_limit`). The ChargePointMaxProfile limits the connectors
combined (1.6 3.13.3), so its share per connector is what :func:`balance` gives, never the whole of it
on each (MicroOcppSimulator #21 gave 10 kW on two connectors under a 5 kW limit).

The fairness rule (:func:`balance`):

1. *Admission by session start.* A connector can only be offered 6 A or more (IEC 61851-1 table A.7: below
   10 % duty there is no "charge"), so when the limit cannot give every charging connector 6 A, connectors
   are admitted in the order their sessions started (then by connector id) while 6 A more still fits on each
   of their lines; the others are paused (offer 0, SuspendedEVSE) until it fits. A connector is paused only
   when the limit cannot give every charging connector 6 A. This is the prioritised cluster of OpenEMS
   (io.openems.edge.evcs.cluster: minimum power first, stations by priority), with the session start as the
   priority: a car that arrives later does not stop one that was charging.
2. *Equal shares above 6 A, unused headroom redistributed* (max-min fair, progressive filling): the admitted
   connectors rise together from 6 A; one stops at its own limit or at what its EV takes, one whose line is
   full stops there, and the others go on until every admitted connector is stopped. So no connector gets
   less than another unless it wants less or a full line holds it, and no headroom is left while someone
   could use it (work-conserving).

What an EV takes comes from the connector meters: an EV that draws clearly less than it is offered (a full
battery, a car limited to 10 A) wants what it draws plus a margin; one that draws about its offer might
take more, so it wants its whole limit.

Offers are whole tenths of an ampere (the pilot's duty has 0.1 % steps, 0.06 A) and computed in integer
tenths, so the sum per line is exact and never above the limit through rounding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from chargebox.engine.charging.offer import MAX_OFFER, MIN_OFFER

#: The lines of a three-phase supply, as indices into a per-line limit (L1, L2, L3).
LINES = (0, 1, 2)

#: An EV that draws less than its offer by more than this is taking all it wants (A): the EV's own
#: charger follows the duty to within about 1 A (IEC 61851-1 A.2.2 allows the EV to draw less, never more).
DRAW_TOLERANCE = 1.0
#: What an EV that takes less than it is offered is given above its draw, so that it can be seen to want
#: more when it does (A).
DRAW_MARGIN = 2.0

_TENTHS = 10  # offers are computed in tenths of an ampere


@dataclass(frozen=True, slots=True)
class ConnectorLoad:
    """One connector as load balancing sees it.

    ``limit``: its own limit per phase in A, the lowest of its composite (TxProfile / TxDefaultProfile)
    limit, its ``max_current`` and the cable's capacity. ``lines``: the lines it draws on (indices into
    :data:`LINES`; a single-phase connector on L2 is ``(1,)``). ``charging``: a session that may draw now,
    one that balancing paused (SuspendedEVSE) included, so that it is admitted again when there is room.
    ``offered``: its current offer (A, 0 when none). ``drawn``: what its EV draws now per phase (A, from its
    meter; None when unknown). ``started``: when its session started (the admission order).
    """

    connector_id: int
    limit: float
    lines: tuple[int, ...]
    charging: bool
    offered: float = 0.0
    drawn: float | None = None
    started: datetime | None = None


@dataclass(frozen=True, slots=True)
class GridMeter:
    """The building's grid meter (``[site.grid_meter]``): the current per line it measures now, None when it
    is quiet, and the failsafe current per line used then (A)."""

    currents: tuple[float, float, float] | None
    failsafe_current: float


def box_limit(allowed: float, supply: float, grid: GridMeter | None,
              box_draw: Sequence[float] = (0.0, 0.0, 0.0)) -> tuple[float, float, float]:
    """The box's limit per line (A).

    ``allowed``: the lower of the ChargePointMaxProfile in force and the site supply, as
    :func:`~chargebox.engine.charging.composite.limit_at` on connector 0 with the supply's rating answers it.
    ``supply``: the site supply per line (``[site] max_current``, the main fuse). ``grid``: the grid meter,
    None where there is none. ``box_draw``: what the box's connectors draw per line (their meters), which the
    grid meter measures too: the building's other load is the grid meter's current less that.

    Without a grid meter the box may use ``allowed`` on every line; with a quiet one, no more than the
    failsafe current (the other load is unknown). The other load is taken as at least 0: meters read at
    different instants must not make room that is not there.
    """
    if grid is None:
        return (allowed, allowed, allowed)
    if grid.currents is None:
        failsafe = min(allowed, grid.failsafe_current)
        return (failsafe, failsafe, failsafe)
    room = [max(0.0, min(allowed, supply - max(0.0, grid.currents[line] - box_draw[line]))) for line in LINES]
    return (room[0], room[1], room[2])


def _tenths(amps: float) -> int:
    # round() first: 2.3 * 10 is 22.999999999999996, which is 23 tenths, not 22.
    return int(round(amps * _TENTHS, 6) // 1)


def _wanted(load: ConnectorLoad) -> float:
    """The most this connector's EV would take: its limit, or its draw plus a margin where it takes clearly
    less than it is offered."""
    limit = min(load.limit, MAX_OFFER)
    if load.drawn is not None and load.offered >= MIN_OFFER and load.drawn < load.offered - DRAW_TOLERANCE:
        return min(limit, max(MIN_OFFER, load.drawn + DRAW_MARGIN))
    return limit


def balance(limit: Sequence[float], loads: Iterable[ConnectorLoad]) -> dict[int, float]:
    """The current to offer each connector (A per phase; 0: nothing, paused when it is charging) under the
    box's ``limit`` per line, by the fairness rule of this module's docstring.

    Every offer is 0 or between 6 A and the connector's own limit; the sum of the offers on each line is at
    most that line's limit.
    """
    loads = tuple(loads)
    room = [max(0, _tenths(amps)) for amps in limit]
    floor = _tenths(MIN_OFFER)
    offers = {load.connector_id: 0 for load in loads}
    caps: dict[int, int] = {}
    lines: dict[int, tuple[int, ...]] = {}
    queue = sorted((load for load in loads if load.charging and load.limit >= MIN_OFFER),
                   key=lambda load: (load.started is None, load.started or datetime.min, load.connector_id))
    for load in queue:  # 1. admission by session start, 6 A each while it fits on every line
        if all(room[line] >= floor for line in load.lines):
            for line in load.lines:
                room[line] -= floor
            offers[load.connector_id] = floor
            caps[load.connector_id] = max(floor, _tenths(_wanted(load)))
            lines[load.connector_id] = load.lines
    rising = [cid for cid in caps if offers[cid] < caps[cid]]  # in admission order
    while rising:  # 2. progressive filling: all rise together until stopped by their cap or a full line
        sharing = [sum(1 for cid in rising if line in lines[cid]) for line in LINES]
        step = min([caps[cid] - offers[cid] for cid in rising]
                   + [room[line] // sharing[line] for line in LINES if sharing[line]])
        if step:
            for cid in rising:
                offers[cid] += step
                for line in lines[cid]:
                    room[line] -= step
        else:
            # A line has less room than connectors on it: the last tenths go one each, in admission order.
            for cid in rising:
                if offers[cid] < caps[cid] and all(room[line] for line in lines[cid]):
                    offers[cid] += 1
                    for line in lines[cid]:
                        room[line] -= 1
        rising = [cid for cid in rising if offers[cid] < caps[cid] and all(room[line] for line in lines[cid])]
    return {cid: tenths / _TENTHS for cid, tenths in offers.items()}


@dataclass(frozen=True, slots=True)
class Step:
    connector_id: int
    amps: float  # the new offer (0: none)


@dataclass(frozen=True, slots=True)
class Changes:
    """From the current offers to new ones: first ``lower`` (in order), then, once the EVs have followed
    (IEC 61851-1 A.2.2: an EV follows a lower duty within 5 s), ``raise_``. Through the steps in that order
    the offers only fall and then only rise towards the new ones, so every intermediate sum per line is at
    most the larger of the current and the new sum, and at most the new sum once the lowering is done."""

    lower: tuple[Step, ...]
    raise_: tuple[Step, ...]

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.lower + self.raise_


def sequence(current: Mapping[int, float], new: Mapping[int, float]) -> Changes:
    """The steps from ``current`` offers to ``new`` ones (by connector id; a connector absent from one side
    offers 0 there): every lowering before any raising, so that no intermediate state offers more on a line
    than the limit both ends obey. The largest reductions go first: where the limit itself fell, the sum
    gets under it in the fewest steps."""
    ids = sorted(set(current) | set(new))
    before = {cid: current.get(cid, 0.0) for cid in ids}
    after = {cid: new.get(cid, 0.0) for cid in ids}
    lower = sorted((cid for cid in ids if after[cid] < before[cid]), key=lambda cid: after[cid] - before[cid])
    raise_ = [cid for cid in ids if after[cid] > before[cid]]
    return Changes(tuple(Step(cid, after[cid]) for cid in lower),
                   tuple(Step(cid, after[cid]) for cid in raise_))
