"""The site config's [service] and [log] keys the service reads: defaults, paths, and every mistake
reported with its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargebox.config import DEFAULT_CONTROL_SOCKET, DEFAULT_REBOOT_COMMAND, load
from chargebox.errors import ConfigError
from chargebox.site import CONFIG, CONFIG_DEFAULTS, ENDPOINT


def write(tmp_path: Path, extra: str) -> Path:
    """The simulated site's config (a valid one), with the [service] and [log] tables replaced."""
    base = CONFIG.format(**CONFIG_DEFAULTS, identity="CB-1", protocol="ocpp1.5-soap",
                         cs_url="http://127.0.0.1:9000/", reader="/dev/null", meter_port=502,
                         endpoint=ENDPOINT.format(**CONFIG_DEFAULTS, box_port=9001),
                         gpio_port=7701, heartbeat_interval=300, sample_interval=60, max_current=16)
    base = base.replace('[service]\ncontrol_socket = "control.sock"', "")
    path = tmp_path / "site.toml"
    path.write_text(base + "\n" + extra)
    return path


def problems(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load(path)
    return [(key, text) for _, key, text in caught.value.problems]


def test_defaults_fit_the_unit(tmp_path: Path) -> None:
    config = load(write(tmp_path, ""))
    assert config.control_socket == Path(DEFAULT_CONTROL_SOCKET) == Path("/run/chargebox/control.sock")
    assert config.reboot_command == DEFAULT_REBOOT_COMMAND == ("systemctl", "reboot")
    assert config.mask_id_tags is True


def test_keys_are_read_and_a_relative_socket_is_beside_the_config(tmp_path: Path) -> None:
    config = load(write(tmp_path, '[service]\ncontrol_socket = "run/cb.sock"\nreboot_command = ["/sbin/reboot"]\n'
                                  '[log]\nlevel = "DEBUG"\nmask_id_tags = false\n'))
    assert config.control_socket == (tmp_path / "run" / "cb.sock").resolve()
    assert config.reboot_command == ("/sbin/reboot",)
    assert (config.log_level, config.mask_id_tags) == ("DEBUG", False)


def test_every_mistake_is_reported_with_its_key(tmp_path: Path) -> None:
    found = problems(write(tmp_path, '[service]\ncontrol_socket = "' + "s" * 120 + '"\nreboot_command = []\n'
                                     'watchdog = 10\n[log]\nmask_id_tags = "yes"\n'))
    assert ("service.watchdog", "unknown key; expected one of: control_socket, reboot_command") in found
    assert ("service.control_socket",
            f"expected a socket path of at most 107 bytes (AF_UNIX), got {'s' * 120!r}") in found
    assert ("service.reboot_command",
            'expected the command and its arguments, like ["systemctl", "reboot"], got []') in found
    assert ("log.mask_id_tags", "expected true or false, got 'yes'") in found


def test_a_reboot_command_must_be_words(tmp_path: Path) -> None:
    found = problems(write(tmp_path, '[service]\nreboot_command = ["systemctl", 1]\n'))
    assert [key for key, _ in found] == ["service.reboot_command"]
    assert problems(write(tmp_path, '[service]\nreboot_command = "systemctl reboot"\n')) == [
        ("service.reboot_command", ("expected an array (the command and its arguments, like [\"systemctl\", "
                                    "\"reboot\"]), got 'systemctl reboot'"))]
