"""The site config's [modem] and [wakeup] tables and endpoint.public_interface (README, "Life on a
mobile network"): checked like the other device tables, every problem reported with its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargebox.config import Device, load
from chargebox.errors import ConfigError
from chargebox.mobile.policy import WakeUpPolicy
from tests.chargebox.site_samples import site_config


def write(tmp_path: Path, text: str, public_url: str = '"http://box.example.com/"') -> Path:
    path = tmp_path / "box.toml"
    path.write_text(site_config(endpoint=f"public_url = {public_url}\nallow_plain_http = true") + text,
                    encoding="utf-8")
    return path


def test_a_modem_wake_up_rules_and_an_interface_address(tmp_path: Path) -> None:
    config = load(write(tmp_path, '''
[modem]
backend = "at"
port = "/dev/ttyUSB2"
weak_signal_dbm = -105
[wakeup]
min_interval = 30
only_for_this_box = true
allowed_senders = ["+31612345678"]
''', public_url='"http://{address}:8180/"\npublic_interface = "wwan0"'))
    assert config.modem == Device("at", {"port": "/dev/ttyUSB2", "weak_signal_dbm": -105})
    assert config.wakeup == WakeUpPolicy(30.0, True, ("+31612345678",))
    assert (config.public_url, config.public_interface) == ("http://{address}:8180/", "wwan0")


def test_without_a_modem(tmp_path: Path) -> None:
    config = load(write(tmp_path, ""))
    assert config.modem is None and config.wakeup == WakeUpPolicy() and config.public_interface is None


def test_every_bad_key_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, '''
[modem]
backend = "at"
weak_signal_dbm = "low"
apn = "internet"
[wakeup]
min_interval = -1
allowed_senders = ["0612345678"]
only_for = true
''', public_url='"http://{address}:8180/"'))
    text = str(caught.value)
    for expected in ("modem.port: missing", "modem.weak_signal_dbm: expected an integer", "modem.apn: unknown option",
                     "wakeup.min_interval: expected seconds >= 0", "wakeup.allowed_senders: expected phone numbers",
                     "wakeup.only_for: unknown key", "endpoint.public_url: a URL with {address} needs"):
        assert expected in text, text


def test_wake_up_rules_need_a_modem_and_an_interface_needs_a_template(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, "[wakeup]\nmin_interval = 10\n", public_url='"http://box/"\npublic_interface = "wwan0"'))
    text = str(caught.value)
    assert "wakeup: needs a [modem]" in text and "endpoint.public_url: a URL with {address}" in text
