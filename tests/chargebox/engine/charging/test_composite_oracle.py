"""The composite schedule against a brute-force oracle (issue 18).

The oracle shares no code with chargebox.engine.charging.composite: it reads the installed profiles'
fields and walks the window second by second in integer epoch seconds, asking at each one, straight from
the specification's words, which profile of each purpose prevails and what it allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from chargebox.engine.charging import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    InstalledProfile,
    LimitSource,
    LimitSourceKind,
    ProfileLimits,
    Rating,
    RecurrencyKind,
    Transaction,
    composite_schedule,
    end_transaction,
    limit_at,
    set_profile,
)

MAX = ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE
DEFAULT = ChargingProfilePurpose.TX_DEFAULT_PROFILE
TX = ChargingProfilePurpose.TX_PROFILE
A, W = ChargingRateUnit.A, ChargingRateUnit.W

#: A Monday, so Weekly recurrences have a plain anchor.
BASE = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HOUR = 3600
DAY = 86400

PERMISSIVE = ProfileLimits(connectors=2, charge_profile_max_stack_level=8,
                           charging_schedule_allowed_charging_rate_unit=frozenset({A, W}),
                           charging_schedule_max_periods=10, max_charging_profiles_installed=40)


# --- the oracle -----------------------------------------------------------------------------------------

def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def oracle_limit(installed: tuple[InstalledProfile, ...], connector: int, tx: Transaction | None, t: int,
                 rating: Rating, share: float) -> tuple[float, int]:
    """(amps per phase, phases) allowed on ``connector`` at epoch second ``t``."""
    tx_start = epoch(tx.start) if tx else 0

    def allows(entry: InstalledProfile) -> tuple[float, int] | None:
        """What ``entry`` allows at t, or None where it says nothing (not valid, not started, ended)."""
        p = entry.profile
        # 7.8: validFrom is the point in time at which it starts to be valid, validTo the one it stops.
        if p.valid_from is not None and t < epoch(p.valid_from):
            return None
        if p.valid_to is not None and t >= epoch(p.valid_to):
            return None
        sched = p.charging_schedule
        if p.charging_profile_kind == "Relative" or sched.start_schedule is None:
            # 7.9 Relative / 7.13 startSchedule absent: relative to the start of the transaction.
            if tx is None:
                return None
            begin = tx_start
        else:
            begin = epoch(sched.start_schedule)
            if p.charging_profile_kind == "Recurring":
                # errata 3.78: restarts every 24 hours / 7 days at startSchedule's time.
                every = DAY if p.recurrency_kind == "Daily" else 7 * DAY
                if t < begin:
                    return None
                while begin + every <= t:
                    begin += every
                # errata 3.44: nothing of the schedule beyond the recurrence period.
        into = t - begin
        if into < 0:
            return None
        if sched.duration is not None and into >= sched.duration:
            return None  # 5.16.4: periods beyond duration are not executed
        chosen = None
        for period in sched.charging_schedule_period:
            if period.start_period <= into:  # 7.14: startPeriod also ends the previous period
                chosen = period
        assert chosen is not None
        phases = min(3 if chosen.number_phases is None else chosen.number_phases, rating.phases)
        if sched.charging_rate_unit == "W":
            return chosen.limit / rating.voltage / phases, phases  # 7.12: P / (line voltage * phases)
        return chosen.limit, phases

    def prevailing(purpose: ChargingProfilePurpose) -> tuple[float, int] | None:
        best: tuple[int, int, tuple[float, int]] | None = None
        for entry in installed:
            if entry.profile.charging_profile_purpose != purpose:
                continue
            if purpose == MAX and entry.connector_id != 0:
                continue
            if purpose == DEFAULT and entry.connector_id not in (0, connector):
                continue
            if purpose == TX:
                if entry.connector_id != connector or tx is None or t < tx_start:
                    continue
                if entry.profile.transaction_id not in (None, tx.transaction_id):
                    continue
            value = allows(entry)
            if value is None:
                continue
            # 3.13.2: the highest stackLevel among those valid; 3.13.1: a connector's own default
            # replaces connector 0's.
            key = (entry.profile.stack_level, 1 if entry.connector_id == connector else 0)
            if best is None or key > best[:2]:
                best = (*key, value)
        return None if best is None else best[2]

    found: list[tuple[float, int]] = [(rating.max_current, rating.phases)]
    if connector > 0:
        tx_level = prevailing(TX) or prevailing(DEFAULT)  # 3.13.1: TxProfile overrules TxDefaultProfile
        if tx_level is not None:
            found.append(tx_level)
    box = prevailing(MAX)
    if box is not None:
        found.append((box[0] * share, box[1]))  # 3.13.3: all connectors combined
    return min(amps for amps, _ in found), min(phases for _, phases in found)


def in_unit(amps: float, phases: int, unit: ChargingRateUnit, rating: Rating) -> float:
    return amps if unit == "A" else amps * rating.voltage * phases


def period_at(schedule: ChargingSchedule, second: int) -> ChargingSchedulePeriod:
    return [p for p in schedule.charging_schedule_period if p.start_period <= second][-1]


# --- strategies -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    installed: tuple[InstalledProfile, ...]
    connector: int
    tx: Transaction | None
    start: datetime
    duration: int
    unit: ChargingRateUnit | None
    rating: Rating
    share: float


def at(seconds: int) -> datetime:
    return BASE + timedelta(seconds=seconds)


@st.composite
def schedules(draw: st.DrawFn, kind: ChargingProfileKind,
              recurrency: RecurrencyKind | None) -> ChargingSchedule:
    unit = draw(st.sampled_from([A, W]))
    steps = draw(st.lists(st.one_of(st.integers(1, HOUR), st.integers(DAY - 2 * HOUR, DAY + HOUR)),
                          max_size=4))
    starts = [0]
    for step in steps:
        starts.append(starts[-1] + step)
    top = 64 if unit == A else 44000
    periods = tuple(ChargingSchedulePeriod(start, draw(st.integers(0, top * 10)) / 10,
                                           draw(st.sampled_from([None, 1, 2, 3]))) for start in starts)
    duration = draw(st.one_of(st.none(), st.integers(0, 3 * HOUR), st.integers(DAY - HOUR, 8 * DAY)))
    start_schedule = None
    if kind is ChargingProfileKind.RECURRING:
        every = DAY if recurrency is RecurrencyKind.DAILY else 7 * DAY
        # The recurrence anchored some cycles back (or not yet begun), boundaries near the window.
        start_schedule = at(draw(st.integers(-3 * HOUR, 3 * HOUR)) - draw(st.integers(0, 3)) * every)
    elif kind is ChargingProfileKind.ABSOLUTE and draw(st.booleans()):
        start_schedule = at(draw(st.integers(-4 * HOUR, 3 * HOUR)))
    elif kind is ChargingProfileKind.RELATIVE and draw(st.booleans()):
        start_schedule = at(draw(st.integers(-4 * HOUR, 3 * HOUR)))  # ignored: 7.9 Relative
    return ChargingSchedule(unit, periods, duration=duration, start_schedule=start_schedule)


@st.composite
def profiles(draw: st.DrawFn, purposes: tuple[ChargingProfilePurpose, ...] = (MAX, DEFAULT, DEFAULT, TX, TX),
             ) -> tuple[int, ChargingProfile]:
    purpose = draw(st.sampled_from(purposes))
    connector = 0 if purpose == MAX else draw(st.sampled_from([0, 1, 2] if purpose == DEFAULT else [1, 2]))
    kind = draw(st.sampled_from(list(ChargingProfileKind)))
    recurring = kind is ChargingProfileKind.RECURRING
    recurrency = draw(st.sampled_from(list(RecurrencyKind))) if recurring else None
    bounds = st.one_of(st.none(), st.integers(-2 * HOUR, 4 * HOUR).map(at))
    valid_from, valid_to = draw(bounds), draw(bounds)
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        valid_to = None
    return connector, ChargingProfile(
        charging_profile_id=draw(st.integers(1, 30)), stack_level=draw(st.integers(0, 3)),
        charging_profile_purpose=purpose, charging_profile_kind=kind,
        charging_schedule=draw(schedules(kind, recurrency)),
        transaction_id=draw(st.sampled_from([None, 7, 8])) if purpose == TX else None,
        recurrency_kind=recurrency, valid_from=valid_from, valid_to=valid_to)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    connector = draw(st.sampled_from([0, 1, 1, 2]))
    # The transaction on each connector: before the window, starting within it, or none.
    txs = {c: draw(st.one_of(st.none(), st.builds(Transaction, st.integers(-3 * HOUR, 2 * HOUR).map(at),
                                                  st.sampled_from([None, 7, 8]))))
           for c in (1, 2)}
    installed: tuple[InstalledProfile, ...] = ()
    for target, profile in draw(st.lists(profiles(), max_size=7)):
        installed = set_profile(installed, target, profile, txs.get(target), PERMISSIVE).installed
    tx = txs.get(connector)
    if tx is not None and draw(st.booleans()):
        installed, tx = end_transaction(installed, connector), None  # the transaction ended
    phases = draw(st.integers(1, 3))
    rating = Rating(phases, draw(st.sampled_from([230.0, 120.0])), draw(st.integers(6, 80)))
    return Case(installed, connector, tx, at(draw(st.integers(-HOUR, HOUR))), draw(st.integers(0, 2 * HOUR)),
                draw(st.sampled_from([None, A, W])), rating,
                1.0 if connector == 0 else draw(st.sampled_from([1.0, 0.5, 0.3])))


# --- properties -----------------------------------------------------------------------------------------

def composite_of(case: Case) -> ChargingSchedule:
    return composite_schedule(case.installed, case.connector, case.tx, case.start, case.duration, case.unit,
                              case.rating, box_share=case.share)


def oracle_of(case: Case, second: int) -> tuple[float, int]:
    return oracle_limit(case.installed, case.connector, case.tx, second, case.rating, case.share)


def assert_matches_oracle(case: Case) -> None:
    schedule = composite_of(case)
    unit = case.unit or A
    assert schedule.charging_rate_unit == unit and schedule.duration == case.duration
    assert schedule.start_schedule is None  # errata 3.57
    starts = [p.start_period for p in schedule.charging_schedule_period]
    assert starts[0] == 0 and starts == sorted(set(starts))
    begin = epoch(case.start)
    for second in range(max(case.duration, 1)):  # duration 0: the instant itself (libocpp #1169)
        amps, phases = oracle_of(case, begin + second)
        period = period_at(schedule, second)
        assert (second, period.number_phases) == (second, phases)
        expected = in_unit(amps, phases, unit, case.rating)
        assert math.isclose(period.limit, expected, rel_tol=1e-9, abs_tol=1e-9), (second, period, expected)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_the_composite_equals_the_oracle_at_every_second(case: Case) -> None:
    assert_matches_oracle(case)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.data())
def test_limit_at_is_the_oracle_and_holds_until_next_change(case: Case, data: st.DataObject) -> None:
    begin = epoch(case.start)
    for second in data.draw(st.lists(st.integers(0, 2 * HOUR), min_size=1, max_size=8)):
        now = begin + second
        answer = limit_at(case.installed, case.connector, case.tx, datetime.fromtimestamp(now, UTC),
                          case.rating, box_share=case.share)
        expected = oracle_of(case, now)
        assert math.isclose(answer.limit.amps, expected[0], rel_tol=1e-9)
        assert answer.limit.phases == expected[1]
        if answer.next_change is None:
            continue
        change = epoch(answer.next_change)
        assert change > now
        # Nothing changes before next_change (looked at up to an hour ahead).
        for later in range(now + 1, min(change, now + HOUR)):
            assert oracle_of(case, later) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), profiles(purposes=(MAX,)), st.sampled_from([(0.5, 0.5), (0.7, 0.3), (1.0, 0.0)]))
def test_shares_of_the_box_limit_never_sum_above_it(case: Case, extra: tuple[int, ChargingProfile],
                                                     shares: tuple[float, float]) -> None:
    """3.13.3: the ChargePointMaxProfile is the limit of all connectors combined (MicroOcppSimulator #21)."""
    installed = set_profile(case.installed, *extra, None, PERMISSIVE).installed
    box = [p for p in installed if p.profile.charging_profile_purpose == MAX]
    assume(box)
    unbounded = Rating(3, case.rating.voltage, 1e6)  # neither the supply nor a connector limits here
    unit = box[0].profile.charging_schedule.charging_rate_unit
    whole = composite_schedule(installed, 0, None, case.start, case.duration, unit, unbounded, box_share=1.0)
    parts = [composite_schedule(installed, connector, None, case.start, case.duration, unit, unbounded,
                                box_share=share)
             for connector, share in zip((1, 2), shares)]
    checked = 0
    for second in range(max(case.duration, 1)):
        limit = period_at(whole, second)
        if limit.limit < in_unit(1e6, 3, unit, unbounded):  # a ChargePointMaxProfile is in force
            checked += 1
            assert sum(period_at(part, second).limit for part in parts) <= limit.limit * (1 + 1e-9)
    event(f"seconds under a box limit: {'some' if checked else 'none'}")


# --- the cases others got wrong, as examples ------------------------------------------------------------

RATING_3P = Rating(3, 230.0, 96.0)  # 3 x 230 V x 96 A = 66240 W, libocpp #1169's "hardware default"


def daily_default_6kw() -> ChargingProfile:
    """The 3.13.7 example: daily, 11 kW, 6 kW 08:00-20:00."""
    return ChargingProfile(100, 0, DEFAULT, ChargingProfileKind.RECURRING, ChargingSchedule(
        W, (ChargingSchedulePeriod(0, 11000, 3), ChargingSchedulePeriod(28800, 6000, 3),
            ChargingSchedulePeriod(72000, 11000, 3)),
        duration=86400, start_schedule=datetime(2024, 1, 1, tzinfo=UTC)),
        recurrency_kind=RecurrencyKind.DAILY)


def test_a_period_that_starts_after_the_window_start_is_applied_libocpp_609() -> None:
    """libocpp #609: a stacked profile starting at 18:00 was ignored when the window began earlier."""
    evening = ChargingProfile(1, 1, DEFAULT, ChargingProfileKind.ABSOLUTE, ChargingSchedule(
        W, (ChargingSchedulePeriod(0, 2000, 1),), duration=1080,
        start_schedule=datetime(2024, 1, 17, 18, 0, tzinfo=UTC)))
    installed = (InstalledProfile(0, daily_default_6kw()), InstalledProfile(0, evening))
    start = datetime(2024, 1, 17, 17, 50, tzinfo=UTC)
    schedule = composite_schedule(installed, 1, None, start, 3600, W, RATING_3P, box_share=1.0)
    assert [(p.start_period, p.limit, p.number_phases) for p in schedule.charging_schedule_period] == [
        (0, 6000, 3), (600, 2000, 1), (600 + 1080, 6000, 3)]
    case = Case(installed, 1, None, start, 3600, W, RATING_3P, 1.0)
    assert_matches_oracle(case)


def test_duration_0_answers_the_profile_in_force_libocpp_1169() -> None:
    """libocpp #1169: GetCompositeSchedule duration 0 answered the hardware default, not the profile."""
    box_max = ChargingProfile(0, 0, MAX, ChargingProfileKind.ABSOLUTE, ChargingSchedule(
        W, (ChargingSchedulePeriod(0, 50000),), start_schedule=BASE - timedelta(days=1)))
    installed = (InstalledProfile(0, box_max),)
    schedule = composite_schedule(installed, 0, None, BASE, 0, W, RATING_3P, box_share=1.0)
    assert [(p.start_period, p.limit) for p in schedule.charging_schedule_period] == [(0, 50000)]
    assert schedule.duration == 0
    answer = limit_at(installed, 0, None, BASE, RATING_3P, box_share=1.0)
    assert answer.limit.source == LimitSource(LimitSourceKind.PROFILE, 0, MAX)
    assert answer.next_change is None


def test_a_box_limit_of_5_kw_gives_5_kw_on_two_connectors_microocpp_21() -> None:
    """MicroOcppSimulator #21: a 5 kW ChargePointMaxProfile gave 10 kW on two connectors."""
    box_max = ChargingProfile(1, 0, MAX, ChargingProfileKind.ABSOLUTE, ChargingSchedule(
        W, (ChargingSchedulePeriod(0, 5000),), start_schedule=BASE))
    installed = (InstalledProfile(0, box_max),)
    limits = [composite_schedule(installed, connector, None, BASE, 60, W, RATING_3P, box_share=0.5)
              for connector in (1, 2)]
    assert sum(s.charging_schedule_period[0].limit for s in limits) == 5000


def test_recurring_daily_crosses_its_08_00_boundary() -> None:
    """A recurrence many days after its startSchedule, W to A with a one-phase connector (errata 3.34)."""
    case = Case((InstalledProfile(0, daily_default_6kw()),), 1, None, datetime(2024, 3, 1, 7, 30, tzinfo=UTC),
                2 * HOUR, A, Rating(1, 230.0, 32.0), 1.0)
    periods = composite_of(case).charging_schedule_period
    assert [(p.start_period, round(p.limit, 3), p.number_phases) for p in periods] == [
        (0, 32.0, 1), (1800, round(6000 / 230, 3), 1)]
    assert_matches_oracle(case)


def test_limit_at_names_its_source_and_the_next_boundary() -> None:
    """For `chargebox status` and the shell's timer: which profile (or max_current) limits, until when."""
    rating = Rating(3, 230.0, 32.0)
    tx = Transaction(BASE, 7)
    default = ChargingProfile(2, 0, DEFAULT, ChargingProfileKind.RELATIVE, ChargingSchedule(
        A, (ChargingSchedulePeriod(0, 40.0), ChargingSchedulePeriod(600, 20.0))))
    tx_profile = ChargingProfile(3, 1, TX, ChargingProfileKind.RELATIVE, ChargingSchedule(
        A, (ChargingSchedulePeriod(0, 10.0),), duration=300), transaction_id=7)
    box = ChargingProfile(1, 0, MAX, ChargingProfileKind.ABSOLUTE, ChargingSchedule(
        A, (ChargingSchedulePeriod(0, 30.0),), start_schedule=BASE + timedelta(seconds=900)))
    installed = (InstalledProfile(0, default), InstalledProfile(1, tx_profile), InstalledProfile(0, box))

    def answer(second: int) -> tuple[float, LimitSource, datetime | None]:
        found = limit_at(installed, 1, tx, BASE + timedelta(seconds=second), rating, box_share=0.5)
        return found.limit.amps, found.limit.source, found.next_change

    assert answer(0) == (10.0, LimitSource(LimitSourceKind.PROFILE, 3, TX), BASE + timedelta(seconds=300))
    assert answer(300) == (32.0, LimitSource(LimitSourceKind.MAX_CURRENT), BASE + timedelta(seconds=600))
    assert answer(600) == (20.0, LimitSource(LimitSourceKind.PROFILE, 2, DEFAULT),
                           BASE + timedelta(seconds=900))
    assert answer(900) == (15.0, LimitSource(LimitSourceKind.PROFILE, 1, MAX), None)
