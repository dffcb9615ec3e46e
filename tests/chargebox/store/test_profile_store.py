"""Installed charging profiles survive a restart and a power cut (issue 18, errata 3.37).

The store keeps what the engine's rules decide: after any series of SetChargingProfile and
ClearChargingProfile, a reopened database loads the set chargebox.engine.charging computed. A process
killed in the middle of an install leaves the old set or the new one, never half of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chargebox.engine.charging import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    InstalledProfile,
    ProfileLimits,
    RecurrencyKind,
    Transaction,
    clear_profiles,
    from_plain,
    set_profile,
    to_plain,
)
from chargebox.store import Store
from chargebox.store.profiles import ProfileStore

MAX = ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE
DEFAULT = ChargingProfilePurpose.TX_DEFAULT_PROFILE
TX = ChargingProfilePurpose.TX_PROFILE
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
LIMITS = ProfileLimits(connectors=2, charge_profile_max_stack_level=8,
                       charging_schedule_allowed_charging_rate_unit=frozenset(ChargingRateUnit),
                       charging_schedule_max_periods=10, max_charging_profiles_installed=20)


def profile(pid: int, purpose: ChargingProfilePurpose = DEFAULT, level: int = 0, amps: float = 16.0,
            **fields: object) -> ChargingProfile:
    schedule = ChargingSchedule(ChargingRateUnit.A, [ChargingSchedulePeriod(0, amps)])
    return ChargingProfile(pid, level, purpose, ChargingProfileKind.ABSOLUTE, schedule,
                           **fields)  # type: ignore[arg-type]


#: Every field of 7.8, 7.13 and 7.14 set somewhere.
FULL = ChargingProfile(
    charging_profile_id=7, stack_level=3, charging_profile_purpose=DEFAULT,
    charging_profile_kind=ChargingProfileKind.RECURRING, recurrency_kind=RecurrencyKind.WEEKLY,
    valid_from=T0, valid_to=datetime(2027, 1, 1, tzinfo=UTC),
    charging_schedule=ChargingSchedule(
        ChargingRateUnit.W, [ChargingSchedulePeriod(0, 11000.0, 3), ChargingSchedulePeriod(3600, 3680.5, 1)],
        duration=7200, start_schedule=T0, min_charging_rate=1380.0))
TX_FULL = profile(9, TX, 1, transaction_id=42)


def save(store: ProfileStore, installed: tuple[InstalledProfile, ...]) -> None:
    for entry in installed:
        store.install(entry.connector_id, to_plain(entry.profile))


def loaded(store: ProfileStore) -> tuple[InstalledProfile, ...]:
    return tuple(InstalledProfile(connector, from_plain(plain)) for connector, plain in store.load())


@pytest.mark.parametrize("original", [FULL, TX_FULL, profile(1, MAX, 0, 32.5)])
def test_the_neutral_form_gives_the_same_profile_back(original: ChargingProfile) -> None:
    plain = to_plain(original)
    assert from_plain(plain) == original
    assert "chargingProfileId" in plain and "charging_profile_id" not in plain  # the spec's names


def test_profiles_survive_a_reopen(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "box.db")
    installed = (InstalledProfile(0, profile(1, MAX, amps=32)), InstalledProfile(1, FULL),
                 InstalledProfile(2, TX_FULL))
    save(store.profiles, installed)
    store.db.close()
    assert loaded(Store.open(tmp_path / "box.db").profiles) == installed


def test_the_store_keeps_what_the_rules_decide(tmp_path: Path) -> None:
    """A series of SetChargingProfile and ClearChargingProfile through the engine's rules, each result
    stored as the shell will: by install for a set, by remove or clear for a clear."""
    store = Store.open(tmp_path / "box.db").profiles
    installed: tuple[InstalledProfile, ...] = ()
    tx = Transaction(T0, 42)

    def put(connector: int, new: ChargingProfile) -> None:
        nonlocal installed
        decision = set_profile(installed, connector, new, tx, LIMITS)
        assert decision.accepted, decision.reason
        installed = decision.installed
        store.install(connector, to_plain(new))
        assert loaded(store) == installed

    put(0, profile(1, MAX, amps=32))
    put(1, profile(2, DEFAULT, 0, 16))
    put(1, profile(3, DEFAULT, 0, 10))  # the same purpose and level on connector 1: replaces 2
    put(2, profile(3, DEFAULT, 1, 12))  # the same id elsewhere: replaces it there
    put(2, profile(4, TX, 1, transaction_id=42))
    put(1, profile(5, DEFAULT, 2, 8))
    assert [entry.profile.charging_profile_id for entry in installed] == [1, 3, 4, 5]

    by_id = clear_profiles(installed, id=4)
    assert store.remove(4) and not store.remove(4)
    installed = by_id.installed
    assert loaded(store) == installed

    by_filter = clear_profiles(installed, purpose=DEFAULT, stack_level=1)
    assert store.clear(purpose=DEFAULT.value, stack_level=1) == 1
    installed = by_filter.installed
    assert loaded(store) == installed

    assert store.clear(connector_id=2, purpose=TX.value) == 0  # nothing matches: ClearChargingProfile Unknown
    assert store.clear() == len(installed) == 2
    assert loaded(store) == ()


KILLER = textwrap.dedent("""
    import os, signal, sys
    from chargebox.engine.charging import to_plain, ChargingProfile
    from chargebox.store import Store
    sys.path.insert(0, {tests!r})
    from test_profile_store import profile, DEFAULT

    store = Store.open({path!r})
    store.profiles.install(1, to_plain(profile(1, DEFAULT, 0, 16)))
    # The second install replaces the first (same purpose and level); the process dies when SQLite starts
    # the INSERT, after the DELETE ran: a power cut in the middle of the change.
    def die(statement: str) -> None:
        if {when!r} in statement:
            os.kill(os.getpid(), signal.SIGKILL)
    store.db.set_trace_callback(die)
    store.profiles.install(1, to_plain(profile(2, DEFAULT, 0, 10)))
""")


@pytest.mark.parametrize(("when", "survivor"), [("INSERT INTO charging_profiles", 1), ("COMMIT", 1),
                                                 ("never", 2)])
def test_a_kill_during_an_install_keeps_the_old_profile_or_the_new_one(tmp_path: Path, when: str,
                                                                       survivor: int) -> None:
    path = tmp_path / "box.db"
    script = KILLER.format(tests=str(Path(__file__).parent), path=str(path), when=when)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == (0 if when == "never" else -signal.SIGKILL), result.stderr
    assert os.path.exists(path)
    assert [entry.profile.charging_profile_id for entry in loaded(Store.open(path).profiles)] == [survivor]
