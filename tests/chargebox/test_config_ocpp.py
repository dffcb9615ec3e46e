"""The site config's [ocpp] table: configuration keys by their OCPP names, checked like
ChangeConfiguration checks them, every problem reported with its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargebox.config import load
from chargebox.engine.configuration import Configuration
from chargebox.errors import ConfigError
from chargebox.ocpp.enums import ConfigurationStatus
from chargebox.store import Store
from tests.chargebox.site_samples import site_config


def write(tmp_path: Path, ocpp: str) -> Path:
    path = tmp_path / "box.toml"
    path.write_text(site_config() + "[ocpp]\n" + ocpp, encoding="utf-8")
    return path


def test_keys_become_the_boxs_defaults_in_wire_form(tmp_path: Path) -> None:
    config = load(write(tmp_path, 'HeartBeatInterval = 300\nLocalPreAuthorize = true\n'
                                  'meterValuesSampledData = "Energy.Active.Import.Register, Voltage"\n'))
    assert config.ocpp == {"HeartBeatInterval": "300", "LocalPreAuthorize": "true",
                           "MeterValuesSampledData": "Energy.Active.Import.Register,Voltage"}


def test_every_bad_key_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, 'HeartBeatInterval = 0\nLocalPreAuthorize = "maybe"\nNoSuchKey = 1\n'
                             'NumberOfConnectors = 4\nMeterValuesSampledData = "Bogus"\n'))
    text = str(caught.value)
    for key in ("ocpp.HeartBeatInterval", "ocpp.LocalPreAuthorize", "ocpp.NoSuchKey", "ocpp.NumberOfConnectors",
                "ocpp.MeterValuesSampledData"):
        assert key in text
    assert "an integer >= 1 (seconds), got 0" in text and "readonly" in text


def test_the_site_sets_how_long_a_local_list_may_be_and_the_central_system_cannot(tmp_path: Path) -> None:
    config = load(write(tmp_path, "LocalAuthListMaxLength = 100000\nSendLocalListMaxLength = 100000\n"))
    keys = Configuration(Store.open(":memory:").settings, config.ocpp)
    assert keys.integer("LocalAuthListMaxLength") == 100_000 and keys.integer("SendLocalListMaxLength") == 100_000
    assert keys.change("LocalAuthListMaxLength", "10") is ConfigurationStatus.REJECTED  # readonly to it (6.9.1)
    with pytest.raises(ConfigError, match="ocpp.LocalAuthListMaxLength"):
        load(write(tmp_path, "LocalAuthListMaxLength = -1\n"))
