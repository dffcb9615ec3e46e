"""Configuration keys: typed and validated, readonly where they must be, persisted, effective at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargebox.engine.configuration import KEYS, SUPPORTED_FEATURE_PROFILES, Configuration, keys_of
from chargebox.ocpp.enums import ConfigurationStatus as S
from chargebox.ocpp.messages import ChangeConfigurationRequest, GetConfigurationRequest
from chargebox.store import Store
from tests.chargebox.engine.fakes import Box, FakeCentralSystem


@pytest.mark.parametrize(("key", "value", "status", "stored"), [
    ("HeartBeatInterval", "300", S.ACCEPTED, "300"),
    ("heartbeatinterval", " 42 ", S.ACCEPTED, "42"),  # key names are case-insensitive
    ("HeartBeatInterval", "0", S.REJECTED, "900"),  # below its minimum
    ("HeartBeatInterval", "ten", S.REJECTED, "900"),
    ("MeterValueSampleInterval", "0", S.ACCEPTED, "0"),  # 0 disables (6.9.1)
    ("MeterValueSampleInterval", "-5", S.REJECTED, "60"),
    ("LocalPreAuthorize", "TRUE", S.ACCEPTED, "true"),
    ("LocalPreAuthorize", "yes", S.REJECTED, "false"),
    ("MeterValuesSampledData", "energy.active.import.register, Voltage", S.ACCEPTED,
     "Energy.Active.Import.Register,Voltage"),
    ("MeterValuesSampledData", "Energy.Active.Import.Register,Bogus", S.REJECTED, "Energy.Active.Import.Register"),
    ("LocalAuthListMaxLength", "10", S.REJECTED, "50000"),  # readonly
    ("NoSuchKey", "1", S.NOT_SUPPORTED, None),
    ("BlinkRepeat", "9" * 501, S.REJECTED, "0"),  # over string[500]
])
def test_change_validates_each_key_by_its_type(key: str, value: str, status: S, stored: str | None) -> None:
    config = Configuration(Store.open(":memory:").settings)
    assert config.change(key, value) is status
    if stored is not None:
        assert config.text(key) == stored


def test_an_accepted_change_survives_a_restart_and_beats_the_site_default() -> None:
    store = Store.open(":memory:")
    config = Configuration(store.settings, {"HeartBeatInterval": "600"})
    assert config.integer("HeartBeatInterval") == 600
    config.change("HeartBeatInterval", "120")
    again = Configuration(store.settings, {"HeartBeatInterval": "600"})
    assert again.integer("HeartBeatInterval") == 120


def test_a_watcher_hears_each_accepted_change_only() -> None:
    config = Configuration(Store.open(":memory:").settings)
    heard: list[int] = []
    config.watch("ClockAlignedDataInterval", lambda: heard.append(config.integer("ClockAlignedDataInterval")))
    config.change("ClockAlignedDataInterval", "900")
    config.change("ClockAlignedDataInterval", "x")
    assert heard == [900]


async def test_get_configuration_lists_every_key_or_those_asked_for_with_unknown_ones_apart() -> None:
    box = Box(FakeCentralSystem(), connectors=2)
    cp = box.cp
    everything = await cp.handle(GetConfigurationRequest())
    listed = {kv.key: kv for kv in everything.configuration_key}  # type: ignore[attr-defined]
    assert set(listed) == {key.name for key in keys_of("1.5")}  # the 1.5 box's, unchanged by 1.6
    assert "SupportedFeatureProfiles" not in listed and "ProximityLockRetries" in listed
    assert listed["NumberOfConnectors"].value == "2" and listed["NumberOfConnectors"].readonly
    assert not listed["HeartBeatInterval"].readonly
    some = await cp.handle(GetConfigurationRequest(key=["connectiontimeout", "Nope"]))
    assert [kv.key for kv in some.configuration_key] == ["ConnectionTimeOut"]  # type: ignore[attr-defined]
    assert some.unknown_key == ["Nope"]  # type: ignore[attr-defined]
    conf = await cp.handle(ChangeConfigurationRequest(key="NumberOfConnectors", value="5"))
    assert conf.status is S.REJECTED  # type: ignore[attr-defined]


async def test_a_1_6_box_has_the_1_6_keys_spelled_as_1_6_spells_them() -> None:
    box = Box(FakeCentralSystem(), version="1.6", HeartBeatInterval="300")
    cp = box.cp
    everything = await cp.handle(GetConfigurationRequest())
    listed = {kv.key: kv for kv in everything.configuration_key}  # type: ignore[attr-defined]
    assert set(listed) == {key.name for key in keys_of("1.6") if not key.write_only}
    assert listed["HeartbeatInterval"].value == "300" and "HeartBeatInterval" not in listed  # 9.1.12
    assert listed["SupportedFeatureProfiles"].value == SUPPORTED_FEATURE_PROFILES
    assert set(SUPPORTED_FEATURE_PROFILES.split(",")) == {
        "Core", "FirmwareManagement", "LocalAuthListManagement", "Reservation", "SmartCharging", "RemoteTrigger"}
    assert listed["SupportedFeatureProfiles"].readonly and not listed["WebSocketPingInterval"].readonly
    assert "ChargePointId" not in listed and "ProximityLockRetries" not in listed  # 1.5's only
    # Either spelling reads and changes the one value.
    conf = await cp.handle(ChangeConfigurationRequest(key="HeartbeatInterval", value="120"))
    assert conf.status is S.ACCEPTED and cp.config.integer("HeartBeatInterval") == 120  # type: ignore[attr-defined]
    some = await cp.handle(GetConfigurationRequest(key=["heartbeatinterval", "ChargePointId"]))
    assert [(kv.key, kv.value) for kv in some.configuration_key] == [  # type: ignore[attr-defined]
        ("HeartbeatInterval", "120")]
    assert some.unknown_key == ["ChargePointId"]  # type: ignore[attr-defined]
    # The *MaxLength keys bound the measurand lists (9.1).
    too_many = ",".join(["Voltage"] * (int(listed["MeterValuesSampledDataMaxLength"].value or 0) + 1))
    refused = await cp.handle(ChangeConfigurationRequest(key="MeterValuesSampledData", value=too_many))
    assert refused.status is S.REJECTED  # type: ignore[attr-defined]


async def test_authorization_key_is_write_only_and_1_6_only() -> None:
    """Security whitepaper: never returned by GetConfiguration; 16 to 40 characters."""
    key = "0123456789abcdef0123"
    box = Box(FakeCentralSystem(), version="1.6")
    cp = box.cp
    for value, status in (("short", S.REJECTED), (key, S.ACCEPTED)):
        conf = await cp.handle(ChangeConfigurationRequest(key="AuthorizationKey", value=value))
        assert conf.status is status  # type: ignore[attr-defined]
    assert cp.config.text("AuthorizationKey") == key
    asked = await cp.handle(GetConfigurationRequest(key=["AuthorizationKey"]))
    everything = await cp.handle(GetConfigurationRequest())
    assert key not in repr(asked) and key not in repr(everything)
    assert asked.configuration_key == [] and asked.unknown_key == []  # type: ignore[attr-defined]
    in_15 = Box(FakeCentralSystem())
    conf = await in_15.cp.handle(ChangeConfigurationRequest(key="AuthorizationKey", value=key))
    assert conf.status is S.NOT_SUPPORTED  # type: ignore[attr-defined]


def test_the_readme_documents_every_key() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    missing = [key.name for key in KEYS.values() if f"| `{key.name}` |" not in readme]
    assert not missing, f"README.md, 'OCPP configuration keys': add {missing}"
