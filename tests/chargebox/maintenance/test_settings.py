"""The [firmware] and [diagnostics] tables of the site config: defaults, and every mistake named."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargebox.config import load
from chargebox.errors import ConfigError
from tests.chargebox.site_samples import site_config

BASE = site_config()


def test_without_the_tables_diagnostics_has_defaults_and_firmware_no_installer(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(BASE)
    config = load(tmp_path / "site.toml")
    assert config.firmware.installer is None and config.diagnostics.log_files == ()
    assert (config.firmware.transfer.retries, config.firmware.after_install) == (3, "restart")


def test_the_tables_are_read_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(BASE + """
[firmware]
installer = ["sh", "-c", "exit 0"]
after_install = "reboot"
directory = "fw"
retries = 5
retry_interval = 30

[diagnostics]
log_files = ["logs/*.log", "/var/log/chargebox/chargebox.log"]
transactions = 10
""")
    config = load(tmp_path / "site.toml")
    assert config.firmware.installer == ("sh", "-c", "exit 0") and config.firmware.after_install == "reboot"
    assert config.firmware.directory == tmp_path / "fw"
    assert (config.firmware.transfer.retries, config.firmware.transfer.retry_interval) == (5, 30.0)
    assert config.diagnostics.log_files == (str(tmp_path / "logs/*.log"), "/var/log/chargebox/chargebox.log")


def test_every_mistake_is_named(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a key")
    (tmp_path / "site.toml").write_text(BASE + """
[firmware]
installer = ["/nonexistent/install"]
after_install = "shutdown"
public_key = "bad.pem"
retries = -1
max_size = 0
ca_file = "missing.pem"
colour = "red"

[diagnostics]
log_files = "chargebox.log"
timeout = 0
""")
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "site.toml")
    problems = {key: text for _, key, text in caught.value.problems}
    assert problems["firmware.installer"] == "no such command: /nonexistent/install (expected an executable file)"
    assert "expected \"restart\" (the daemon) or \"reboot\" (the board)" in problems["firmware.after_install"]
    assert problems["firmware.public_key"].startswith("cannot use the key")
    assert "0..1000" in problems["firmware.retries"] and "bytes > 0" in problems["firmware.max_size"]
    assert problems["firmware.ca_file"].startswith("no such file")
    assert problems["firmware.colour"].startswith("unknown key")
    assert "an array" in problems["diagnostics.log_files"] and "seconds > 0" in problems["diagnostics.timeout"]
