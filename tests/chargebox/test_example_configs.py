"""The example site configs in config/ stay valid as the config grows (an installer starts from them)."""

from __future__ import annotations

import pytest

from chargebox.config import load
from chargebox.errors import ConfigError
from tests.conftest import ROOT


def test_the_desktop_simulator_config_loads() -> None:
    config = load(ROOT / "config" / "desktop-sim.toml")
    assert config.connectors and config.ocpp["ConnectionTimeOut"] == "60"


def test_the_desktop_simulator_has_a_control_socket_of_its_own() -> None:
    """Not the service's /run/chargebox, which only systemd makes: chargebox status works on a desktop."""
    config = load(ROOT / "config" / "desktop-sim.toml")
    assert config.control_socket == ROOT / "config" / "desktop-sim.sock"


def test_the_raspberry_pi_config_lacks_only_the_boards_certificates() -> None:
    with pytest.raises(ConfigError) as caught:
        load(ROOT / "config" / "raspberry-pi.toml")
    problems = str(caught.value).splitlines()
    assert problems and all("no such file: /etc/chargebox/tls/" in line for line in problems), problems
