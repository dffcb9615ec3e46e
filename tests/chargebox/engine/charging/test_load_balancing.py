"""Local load balancing (issue 18): examples, and properties over random boxes and limits.

The properties: the sum of the offers per line never exceeds the limit, neither in the result nor at any
step of the sequence from the old offers to the new; no offer between 0 and 6 A nor above the connector's
own limit; a charging connector is paused only when the limit cannot give every charging connector 6 A;
the shares are max-min fair (each admitted connector is held by its own want or by a full line on which
it has the most); no headroom is left on a line while a connector on it wants more.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from chargebox.engine.charging.balance import (
    LINES,
    ConnectorLoad,
    GridMeter,
    Step,
    balance,
    box_limit,
    sequence,
)

BASE = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
THREE = (0, 1, 2)
TENTH = 0.1 + 1e-9  # offers are whole tenths: "a line is full" means less than a tenth is left


def load(cid: int, limit: float = 32.0, lines: tuple[int, ...] = THREE, *, charging: bool = True,
         offered: float = 0.0, drawn: float | None = None, minute: int | None = None) -> ConnectorLoad:
    started = None if minute is None else BASE + timedelta(minutes=minute)
    return ConnectorLoad(cid, limit, lines, charging, offered, drawn, started)


def line_sums(offers: dict[int, float], loads: tuple[ConnectorLoad, ...]) -> list[float]:
    by_id = {entry.connector_id: entry for entry in loads}
    return [sum(amps for cid, amps in offers.items() if line in by_id[cid].lines) for line in LINES]


# --- examples -------------------------------------------------------------------------------------------

def test_two_connectors_share_the_limit_equally() -> None:
    assert balance((20, 20, 20), [load(1, minute=0), load(2, minute=1)]) == {1: 10.0, 2: 10.0}


def test_a_connector_never_gets_more_than_its_own_limit_and_the_rest_goes_to_the_other() -> None:
    assert balance((40, 40, 40), [load(1, limit=13), load(2, limit=32)]) == {1: 13.0, 2: 27.0}


def test_the_later_session_is_paused_when_two_cannot_have_6_a() -> None:
    # 12 A are needed for two; the session that started first keeps charging, with all of it.
    offers = balance((10, 10, 10), [load(1, minute=5), load(2, minute=0)])
    assert offers == {1: 0.0, 2: 10.0}


def test_a_limit_below_6_a_pauses_every_connector() -> None:
    assert balance((5.9, 5.9, 5.9), [load(1, minute=0)]) == {1: 0.0}


def test_what_an_ev_does_not_take_goes_to_the_other() -> None:
    # Connector 1 is offered 16 A and its EV draws 8: it wants 8 + 2 A, connector 2 gets the rest.
    offers = balance((32, 32, 32), [load(1, offered=16, drawn=8, minute=0),
                                    load(2, offered=16, drawn=16, minute=1)])
    assert offers == {1: 10.0, 2: 22.0}


def test_an_ev_drawing_its_offer_may_take_more() -> None:
    offers = balance((32, 32, 32), [load(1, offered=10, drawn=9.6, minute=0),
                                    load(2, offered=22, drawn=21.5)])
    assert offers == {1: 16.0, 2: 16.0}


def test_single_phase_connectors_on_different_lines_do_not_share() -> None:
    offers = balance((16, 16, 16), [load(1, lines=(0,)), load(2, lines=(1,)), load(3, lines=THREE)])
    # L1 and L2 each carry connector 3 and one single-phase connector: 8 A each; L3 only connector 3,
    # which is held at 8 A by L1 and L2.
    assert offers == {1: 8.0, 2: 8.0, 3: 8.0}


def test_a_connector_that_is_not_charging_gets_nothing_and_leaves_its_share() -> None:
    assert balance((20, 20, 20), [load(1, charging=False), load(2)]) == {1: 0.0, 2: 20.0}


def test_offers_are_whole_tenths_and_the_odd_tenth_goes_by_session_start() -> None:
    offers = balance((20, 20, 20), [load(1, minute=1), load(2, minute=0), load(3, minute=2)])
    assert offers == {1: 6.7, 2: 6.7, 3: 6.6}  # 20 A is 200 tenths: 66 each, 2 left


def test_box_limit_without_a_grid_meter_is_the_allowed_current_on_every_line() -> None:
    assert box_limit(25.0, 32.0, None) == (25.0, 25.0, 25.0)


def test_box_limit_with_a_grid_meter_subtracts_the_other_load() -> None:
    # The building draws 20/5/0 A besides the box's 10 A on each line; the main fuse is 32 A.
    grid = GridMeter(currents=(30.0, 15.0, 10.0), failsafe_current=6.0)
    assert box_limit(25.0, 32.0, grid, (10.0, 10.0, 10.0)) == (12.0, 25.0, 25.0)


def test_box_limit_never_counts_a_negative_other_load() -> None:
    grid = GridMeter(currents=(5.0, 5.0, 5.0), failsafe_current=6.0)
    assert box_limit(40.0, 32.0, grid, (10.0, 10.0, 10.0)) == (32.0, 32.0, 32.0)


def test_box_limit_with_a_quiet_grid_meter_is_the_failsafe() -> None:
    assert box_limit(25.0, 32.0, GridMeter(None, failsafe_current=8.0)) == (8.0, 8.0, 8.0)
    assert box_limit(6.0, 32.0, GridMeter(None, failsafe_current=8.0)) == (6.0, 6.0, 6.0)


def test_sequence_lowers_before_it_raises_largest_reduction_first() -> None:
    changes = sequence({1: 16.0, 2: 16.0, 3: 0.0}, {1: 6.0, 2: 10.0, 3: 16.0})
    assert changes.lower == (Step(1, 6.0), Step(2, 10.0))
    assert changes.raise_ == (Step(3, 16.0),)


def test_sequence_of_nothing_changed_is_empty() -> None:
    assert sequence({1: 16.0}, {1: 16.0}).steps == ()


# --- properties -----------------------------------------------------------------------------------------

LINE_SETS = st.sampled_from([(0,), (1,), (2,), (0, 1), (0, 1, 2), (0, 1, 2)])
AMPS = st.floats(min_value=0, max_value=90, allow_nan=False).map(lambda amps: round(amps, 2))


@st.composite
def boxes(draw: st.DrawFn) -> tuple[ConnectorLoad, ...]:
    count = draw(st.integers(min_value=0, max_value=6))
    return tuple(ConnectorLoad(
        connector_id=cid, limit=draw(AMPS), lines=draw(LINE_SETS), charging=draw(st.booleans()),
        offered=draw(AMPS), drawn=draw(st.none() | AMPS),
        started=draw(st.none() | st.integers(0, 600).map(lambda s: BASE + timedelta(seconds=s))),
    ) for cid in range(1, count + 1))


LIMITS = st.tuples(AMPS, AMPS, AMPS)


def wanted(entry: ConnectorLoad) -> float:
    """What the connector's EV would take, from the rule in balance's module docstring, restated."""
    cap = min(entry.limit, 80.0)
    if entry.drawn is not None and entry.offered >= 6 and entry.drawn < entry.offered - 1.0:
        return min(cap, max(6.0, entry.drawn + 2.0))
    return cap


def check_offers(limit: tuple[float, float, float], loads: tuple[ConnectorLoad, ...],
                 offers: dict[int, float]) -> None:
    assert set(offers) == {entry.connector_id for entry in loads}
    sums = line_sums(offers, loads)
    for line in LINES:
        assert sums[line] <= limit[line] + 1e-9, f"L{line + 1}: {sums[line]} > {limit[line]}"
    eligible = [entry for entry in loads if entry.charging and entry.limit >= 6]
    for entry in loads:
        amps = offers[entry.connector_id]
        assert amps == 0 or 6 <= amps <= min(entry.limit, 80.0), (entry, amps)
        assert round(amps * 10, 9) == int(round(amps * 10, 9))  # whole tenths
        if not entry.charging:
            assert amps == 0
    # Fair admission: a charging connector is paused only when 6 A for every charging connector do not fit.
    if any(offers[entry.connector_id] == 0 for entry in eligible):
        need = [6.0 * sum(1 for entry in eligible if line in entry.lines) for line in LINES]
        assert any(need[line] > limit[line] for line in LINES)
        event("some connector paused")
    room = [limit[line] - sums[line] for line in LINES]
    admitted = [entry for entry in loads if offers[entry.connector_id] > 0]
    for entry in admitted:
        amps = offers[entry.connector_id]
        if amps >= wanted(entry) - TENTH:
            continue  # held by its own want
        # Work-conserving: it wants more, so one of its lines is full ...
        full = [line for line in entry.lines if room[line] < TENTH]
        assert full, (entry, amps, room)
        # ... and max-min fair: on one of those full lines, no one has more than it (but the odd tenth).
        assert any(all(offers[other.connector_id] <= amps + TENTH
                       for other in admitted if line in other.lines) for line in full), (entry, offers)
        event("held by a full line")


@settings(max_examples=1500, deadline=None)
@given(LIMITS, boxes())
def test_offers_obey_the_limit_and_are_fair(limit: tuple[float, float, float],
                                            loads: tuple[ConnectorLoad, ...]) -> None:
    check_offers(limit, loads, balance(limit, loads))


@settings(max_examples=1000, deadline=None)
@given(LIMITS, LIMITS, boxes(), st.data())
def test_every_step_from_the_old_offers_to_the_new_obeys_the_limit(
        old_limit: tuple[float, float, float], new_limit: tuple[float, float, float],
        loads: tuple[ConnectorLoad, ...], data: st.DataObject) -> None:
    # Before: the offers under the old limit. Then EVs come and go and the limit changes.
    old = balance(old_limit, loads)
    changed = tuple(ConnectorLoad(entry.connector_id, entry.limit, entry.lines, data.draw(st.booleans()),
                                  old[entry.connector_id], entry.drawn, entry.started) for entry in loads)
    new = balance(new_limit, changed)
    changes = sequence(old, new)
    state = dict(old)
    ceiling = [max(old_limit[line], new_limit[line]) for line in LINES]
    for number, step in enumerate(changes.steps):
        state[step.connector_id] = step.amps
        sums = line_sums(state, loads)
        lowered = number >= len(changes.lower) - 1
        for line in LINES:
            # Never above both limits; from the end of the lowering on, never above the new one.
            assert sums[line] <= ceiling[line] + 1e-9
            if lowered:
                assert sums[line] <= new_limit[line] + 1e-9
            if old_limit[line] <= new_limit[line]:
                assert sums[line] <= new_limit[line] + 1e-9  # the limit did not fall: every step obeys it
        assert 0 == step.amps or step.amps >= 6
    assert state == new
    if changes.lower and changes.raise_:
        event("lowered and raised")


@pytest.mark.parametrize("limit", [(0.0, 0.0, 0.0), (5.99, 100.0, 100.0)])
def test_no_room_on_a_line_pauses_the_connectors_on_it(limit: tuple[float, float, float]) -> None:
    loads = (load(1, lines=(0,)), load(2, lines=(1,)), load(3))
    offers = balance(limit, loads)
    assert offers[1] == 0 and offers[3] == 0
    assert offers[2] == (0.0 if limit[1] == 0 else 32.0)


@settings(max_examples=1000, deadline=None)
@given(AMPS, AMPS.filter(lambda amps: amps > 0), st.none() | LIMITS, LIMITS, AMPS, boxes())
def test_with_a_grid_meter_the_building_stays_under_the_supply(
        allowed: float, supply: float, grid: tuple[float, float, float] | None,
        box_draw: tuple[float, float, float], failsafe: float, loads: tuple[ConnectorLoad, ...]) -> None:
    """The box's offers plus the building's other load stay within the supply on every line (the offers are
    0 where the other load alone takes it), and within the ChargePointMaxProfile (``allowed``); with the grid
    meter quiet, within the failsafe current."""
    allowed = min(allowed, supply)  # limit_at on connector 0 with the supply's rating never answers more
    limit = box_limit(allowed, supply, GridMeter(grid, failsafe), box_draw)
    sums = line_sums(balance(limit, loads), loads)
    for line in LINES:
        assert sums[line] <= allowed + 1e-9
        if grid is None:
            assert sums[line] <= failsafe + 1e-9
        else:
            other = max(0.0, grid[line] - box_draw[line])
            # No offer where the building alone takes the whole supply: nothing the box can give back.
            assert sums[line] <= max(0.0, supply - other) + 1e-9


def test_rounds_of_metering_give_what_one_ev_leaves_to_the_other() -> None:
    """Each round, as the shell will run it: the EVs draw what they are offered up to what they take (car 1
    takes at most 10 A, car 2 anything), the meters report it, and the box rebalances under 32 A."""
    takes = {1: 10.0, 2: 80.0}
    offers = {1: 0.0, 2: 0.0}
    history = []
    for _ in range(4):
        loads = [load(cid, offered=offers[cid], drawn=min(offers[cid], takes[cid]), minute=cid)
                 for cid in takes]
        new = balance((32, 32, 32), loads)
        for step in sequence(offers, new).steps:
            offers[step.connector_id] = step.amps
            assert sum(offers.values()) <= 32
        history.append(dict(offers))
    # 16/16 at first; car 1 draws 10 of 16, so it is left 12 (its draw and a margin), car 2 gets 20.
    assert history == [{1: 16.0, 2: 16.0}, {1: 12.0, 2: 20.0}, {1: 12.0, 2: 20.0}, {1: 12.0, 2: 20.0}]
