"""The Local Authorization List and the Authorization Cache in SQLite, and the commands that
manage them (SendLocalList, GetLocalListVersion, ClearCache)."""

from __future__ import annotations

import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chargebox.engine.commands import Commands
from chargebox.ocpp.datatypes import AuthorisationData, IdTagInfo
from chargebox.ocpp.enums import AuthorizationStatus, ClearCacheStatus, UpdateStatus, UpdateType
from chargebox.ocpp.messages import (
    ClearCacheRequest,
    GetLocalListVersionRequest,
    SendLocalListRequest,
)
from chargebox.store import Store
from tests.chargebox.engine.fakes import Box, FakeCentralSystem

A = IdTagInfo(AuthorizationStatus.ACCEPTED)


def entry(tag: str, status: AuthorizationStatus | None = AuthorizationStatus.ACCEPTED) -> AuthorisationData:
    return AuthorisationData(tag, IdTagInfo(status) if status else None)


@pytest.fixture
def commands() -> Commands:
    return Box(FakeCentralSystem()).management.commands


async def send(commands: Commands, kind: UpdateType, version: int, *entries: AuthorisationData,
               hash: str | None = None) -> tuple[UpdateStatus, str | None]:
    conf = await commands.send_local_list(SendLocalListRequest(
        update_type=kind, list_version=version, local_authorisation_list=list(entries), hash=hash))
    return conf.status, conf.hash  # type: ignore[attr-defined]


async def version(commands: Commands) -> int:
    return (await commands.get_local_list_version(GetLocalListVersionRequest())).list_version  # type: ignore[attr-defined]


async def test_full_and_differential_updates_follow_the_version_rules(commands: Commands) -> None:
    local_list = commands.local_list
    assert await version(commands) == 0  # empty
    assert (await send(commands, UpdateType.FULL, 5, entry("AA"), entry("BB")))[0] is UpdateStatus.ACCEPTED
    assert await version(commands) == 5
    assert (await send(commands, UpdateType.DIFFERENTIAL, 5, entry("CC")))[0] is UpdateStatus.VERSION_MISMATCH
    assert (await send(commands, UpdateType.DIFFERENTIAL, 4, entry("CC")))[0] is UpdateStatus.VERSION_MISMATCH
    status, digest = await send(commands, UpdateType.DIFFERENTIAL, 6, entry("cc", AuthorizationStatus.BLOCKED),
                                entry("aa", None))  # BLOCKED added, AA removed (no idTagInfo)
    assert status is UpdateStatus.ACCEPTED and await version(commands) == 6
    assert local_list.get("AA") is None and local_list.get("CC").status is AuthorizationStatus.BLOCKED  # type: ignore[union-attr]
    assert digest is not None and len(digest) <= 64
    assert (await send(commands, UpdateType.FULL, 2, entry("ZZ")))[0] is UpdateStatus.ACCEPTED  # Full: any version
    assert local_list.size == 1 and await version(commands) == 2
    assert (await send(commands, UpdateType.FULL, 9))[0] is UpdateStatus.ACCEPTED
    assert await version(commands) == 0  # an empty list has version 0 (5.9)


async def test_the_hash_changes_with_the_content_and_not_with_the_order(commands: Commands) -> None:
    _, one = await send(commands, UpdateType.FULL, 1, entry("AA"), entry("BB"))
    _, two = await send(commands, UpdateType.FULL, 2, entry("BB"), entry("AA"))
    _, three = await send(commands, UpdateType.FULL, 3, entry("BB"), entry("AA", AuthorizationStatus.BLOCKED))
    assert one == two != three


async def test_concurrent_tx_is_stored_as_accepted() -> None:
    commands = Box(FakeCentralSystem()).management.commands
    await send(commands, UpdateType.FULL, 1, entry("AA", AuthorizationStatus.CONCURRENT_TX))
    assert commands.local_list.get("aa").status is AuthorizationStatus.ACCEPTED  # type: ignore[union-attr]


def test_a_full_list_is_written_without_a_copy_of_its_rows(tmp_path: Path) -> None:
    """The rows go to SQLite one at a time: a list of all of them (12.5 MB for 50,000 entries) filled
    the heap beside what outlives the update, and kept it resident (issue 19)."""
    store = Store.open(tmp_path / "box.db")
    entries = [entry(f"{n:08X}", AuthorizationStatus.ACCEPTED if n % 2 else AuthorizationStatus.CONCURRENT_TX)
               for n in range(50_000)]
    tracemalloc.start()
    try:
        store.local_list.replace(2, entries)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
    assert store.local_list.size == 50_000 and store.local_list.version == 2
    assert store.local_list.get("00000000").status is AuthorizationStatus.ACCEPTED  # type: ignore[union-attr]


async def test_the_list_never_grows_past_its_maximum_and_duplicates_fail() -> None:
    box = Box(FakeCentralSystem())
    box.cp.config.set_fixed("LocalAuthListMaxLength", "2")
    commands = box.management.commands
    assert (await send(commands, UpdateType.FULL, 1, entry("A"), entry("B"), entry("C")))[0] is UpdateStatus.FAILED
    assert (await send(commands, UpdateType.FULL, 1, entry("A"), entry("a")))[0] is UpdateStatus.FAILED
    assert (await send(commands, UpdateType.FULL, 1, entry("A"), entry("B")))[0] is UpdateStatus.ACCEPTED
    assert (await send(commands, UpdateType.DIFFERENTIAL, 2, entry("C")))[0] is UpdateStatus.FAILED
    # Replacing one and removing another stays within bounds.
    assert (await send(commands, UpdateType.DIFFERENTIAL, 2, entry("C"), entry("A", None)))[0] is UpdateStatus.ACCEPTED
    assert box.store.local_list.size == 2 and await version(commands) == 2


async def test_clear_cache_empties_the_cache_and_leaves_the_list() -> None:
    box = Box(FakeCentralSystem())
    commands, store = box.management.commands, box.store
    await send(commands, UpdateType.FULL, 1, entry("LISTED"))
    store.cache.put("CACHED", A, max_entries=10)
    assert (await commands.clear_cache(ClearCacheRequest())).status is ClearCacheStatus.ACCEPTED  # type: ignore[attr-defined]
    assert store.cache.get("CACHED") is None and store.local_list.get("LISTED") is not None


def test_the_cache_evicts_entries_that_are_not_valid_first_then_the_oldest() -> None:
    cache = Store.open(":memory:").cache
    cache.put("OLD", A, max_entries=3)
    cache.put("BLOCKED", IdTagInfo(AuthorizationStatus.BLOCKED), max_entries=3)
    cache.put("MID", A, max_entries=3)
    cache.put("NEW", A, max_entries=3)  # full: the blocked one goes first
    assert cache.get("BLOCKED") is None and cache.size == 3
    cache.put("OLD", A, max_entries=3)  # refreshed: now the newest
    cache.put("NEWEST", A, max_entries=3)  # the oldest update (MID) goes
    assert cache.get("MID") is None and cache.get("OLD") is not None and cache.get("old") is not None


async def test_list_entries_take_priority_over_the_cache_and_expiry_counts() -> None:
    box = Box(FakeCentralSystem())
    store, authorizer = box.store, box.cp.authorizer
    store.cache.put("TAG", IdTagInfo(AuthorizationStatus.BLOCKED), max_entries=10)
    await send(box.management.commands, UpdateType.FULL, 1, entry("tag"))
    decision = authorizer.local("TAG")
    assert decision is not None and decision.accepted and decision.source.value == "local list"
    past = datetime(2020, 1, 1, tzinfo=timezone.utc)
    store.cache.put("EXPIRED", IdTagInfo(AuthorizationStatus.ACCEPTED, past), max_entries=10)
    expired = authorizer.local("EXPIRED")
    assert expired is not None and expired.info.status is AuthorizationStatus.EXPIRED
    box.cp.config.change("LocalAuthListEnabled", "false")
    blocked = authorizer.local("TAG")
    assert blocked is not None and blocked.info.status is AuthorizationStatus.BLOCKED  # the cache speaks now
    box.cp.config.change("AuthorizationCacheEnabled", "false")
    assert authorizer.local("TAG") is None
    authorizer.remember("NEWTAG", A)
    assert store.cache.get("NEWTAG") is None  # the cache is off: nothing is remembered
