"""Configuration keys: typed and validated, readonly where they must be, persisted, effective at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargebox.engine.configuration import KEYS, Configuration
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
    assert set(listed) == {key.name for key in KEYS.values()}
    assert listed["NumberOfConnectors"].value == "2" and listed["NumberOfConnectors"].readonly
    assert not listed["HeartBeatInterval"].readonly
    some = await cp.handle(GetConfigurationRequest(key=["connectiontimeout", "Nope"]))
    assert [kv.key for kv in some.configuration_key] == ["ConnectionTimeOut"]  # type: ignore[attr-defined]
    assert some.unknown_key == ["Nope"]  # type: ignore[attr-defined]
    conf = await cp.handle(ChangeConfigurationRequest(key="NumberOfConnectors", value="5"))
    assert conf.status is S.REJECTED  # type: ignore[attr-defined]


def test_the_readme_documents_every_key() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    missing = [key.name for key in KEYS.values() if f"| `{key.name}` |" not in readme]
    assert not missing, f"README.md, 'OCPP configuration keys': add {missing}"
