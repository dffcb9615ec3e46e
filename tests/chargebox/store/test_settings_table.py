"""The settings table: small durable values, and no write when nothing changes (an idle box writes
nothing to its flash, issue 4)."""

from __future__ import annotations

from pathlib import Path

from chargebox.store import Store


def test_values_survive_reopening_the_database(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "box.db")
    store.settings.put("ocpp:HeartBeatInterval", "600")
    store.settings.save("reservations", [{"reservation_id": 7, "expiry": "2026-11-21T12:00:00+00:00"}])
    store.db.close()

    again = Store.open(tmp_path / "box.db")
    assert again.settings.get("ocpp:HeartBeatInterval") == "600"
    assert again.settings.load("reservations") == [{"reservation_id": 7, "expiry": "2026-11-21T12:00:00+00:00"}]
    assert again.settings.get("absent") is None and again.settings.load("absent") is None


def test_keys_are_read_by_prefix_without_it() -> None:
    settings = Store.open(":memory:").settings
    settings.put("ocpp:HeartBeatInterval", "600")
    settings.put("ocpp:MeterValueSampleInterval", "60")
    settings.put("ocpp_other", "x")  # shares the letters but not the prefix
    settings.put("availability", "{}")
    assert settings.with_prefix("ocpp:") == {"HeartBeatInterval": "600", "MeterValueSampleInterval": "60"}


def test_saving_what_is_held_or_deleting_what_is_absent_writes_nothing() -> None:
    store = Store.open(":memory:")
    store.settings.save("availability", {"1": False, "0": True})
    written = store.db.total_changes
    store.settings.save("availability", {"0": True, "1": False})  # the same value, keys in another order
    store.settings.delete("never-there")
    assert store.db.total_changes == written

    store.settings.save("availability", {"0": True, "1": True})
    store.settings.delete("availability")
    assert store.db.total_changes == written + 2
    assert store.settings.load("availability") is None
