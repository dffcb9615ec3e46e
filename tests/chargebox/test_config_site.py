"""``[site]``, ``[site.grid_meter]`` and a connector's ``lines`` (issue 18: the supply the box shares among
its connectors), as ``load`` and so ``chargebox check-config`` read them: every problem one line,
``file: key: what was expected``."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargebox.config import Device, SiteConfig, load
from chargebox.errors import ConfigError
from tests.chargebox.site_samples import site_config
from tests.chargebox.test_command_line import command

GRID = '[site.grid_meter]\nbackend = "modbus"\nmodel = "sdm630"\nhost = "127.0.0.1"\nport = 1503\n'


def write(tmp_path: Path, text: str = "", *, connector: str = "") -> Path:
    path = tmp_path / "box.toml"
    path.write_text(site_config().replace("id = 1\n", "id = 1\n" + connector, 1) + text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path)
    return str(caught.value).splitlines()


def test_without_a_site_table_there_is_no_site_limit_and_connectors_use_three_lines(tmp_path: Path) -> None:
    config = load(write(tmp_path))
    assert config.site == SiteConfig(max_current=None, phases=3, nominal_voltage=230.0, grid_meter=None)
    assert config.connectors[0].lines == (1, 2, 3)


def test_a_site_with_a_grid_meter(tmp_path: Path) -> None:
    path = write(tmp_path, "\n[site]\nmax_current = 35\nnominal_voltage = 120\nfailsafe_current = 10\n"
                 "grid_meter_timeout = 5\n" + GRID, connector="lines = [2]\n")
    config = load(path)
    assert config.site == SiteConfig(
        max_current=35.0, phases=3, nominal_voltage=120.0, failsafe_current=10.0, grid_meter_timeout=5.0,
        grid_meter=Device("modbus", {"model": "sdm630", "host": "127.0.0.1", "port": 1503}))
    assert config.connectors[0].lines == (2,)


def test_a_single_phase_site(tmp_path: Path) -> None:
    config = load(write(tmp_path, "\n[site]\nphases = 1\nmax_current = 40\n"))
    assert (config.site.phases, config.connectors[0].lines) == (1, (1,))


@pytest.mark.parametrize(("text", "connector", "expected"), [
    ("[site]\nmax_current = 0\n", "",
     "site.max_current: expected amps per phase > 0 (the supply fuse), got 0.0"),
    ("[site]\nphases = 2\n", "", "site.phases: expected 1 or 3 (the supply's phases), got 2"),
    ("[site]\nnominal_voltage = 400\n", "",
     "site.nominal_voltage: expected volts 100..300, phase to neutral (like 230), got 400.0"),
    ("[site]\ngrid_meter_timeout = 0\n", "", "site.grid_meter_timeout: expected seconds > 0, got 0.0"),
    ("[site]\nmax_current = 25\nfuse = 25\n", "",
     "site.fuse: unknown key; expected one of: failsafe_current, grid_meter, grid_meter_timeout, max_current, "
     "nominal_voltage, phases"),
    ("[site]\nmax_current = 25\nfailsafe_current = 30\n" + GRID, "",
     "site.failsafe_current: expected amps per phase from 0 to site.max_current, used while the grid "
     "meter is quiet, got 30.0"),
    ("[site]\nmax_current = 25\n" + GRID, "",
     "site.failsafe_current: site.grid_meter and site.failsafe_current go together; expected both or "
     "neither"),
    ("[site]\nmax_current = 25\nfailsafe_current = 6\n", "",
     "site.grid_meter: site.grid_meter and site.failsafe_current go together; expected both or neither"),
    ("[site]\nfailsafe_current = 6\n" + GRID, "",
     "site.grid_meter: needs site.max_current (the supply the building's load is measured against)"),
    ("[site]\nmax_current = 25\nfailsafe_current = 6\n" + GRID + "device_id = 0\n", "",
     "site.grid_meter.device_id: expected 1..255, got 0"),
    ("[site]\nphases = 1\n", "lines = [2]\n", "connector[1].lines: expected the supply lines it is wired to, "
     "distinct, of [1], like [1, 2, 3] or [2], got [2]"),
    ("", "lines = [1, 1]\n", "connector[1].lines: expected the supply lines it is wired to, distinct, of "
     "[1, 2, 3], like [1, 2, 3] or [2], got [1, 1]"),
    ("", "lines = []\n", "connector[1].lines: expected the supply lines it is wired to, distinct, of "
     "[1, 2, 3], like [1, 2, 3] or [2], got []"),
    ("", 'lines = "L1"\n', "connector[1].lines: expected an array (the supply lines it is wired to, "
     "distinct, of [1, 2, 3], like [1, 2, 3] or [2]), got 'L1'"),
])
def test_a_bad_site_value_is_one_line_naming_file_and_key(tmp_path: Path, text: str, connector: str,
                                                           expected: str) -> None:
    path = write(tmp_path, "\n" + text, connector=connector)
    assert problems(path) == [f"{path}: {expected}"]


def test_the_grid_meter_cannot_be_a_connectors_meter(tmp_path: Path) -> None:
    path = write(tmp_path, "\n[site]\nmax_current = 25\nfailsafe_current = 6\n"
                 + GRID.replace("1503", "1502"))
    assert problems(path) == [f"{path}: connector[1].meter: the meter at 127.0.0.1:1502 unit 1 is already "
                              "used by site.grid_meter; expected one of its own"]


def test_check_config_reports_a_bad_grid_meter_without_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "\n[site]\nmax_current = 25\nfailsafe_current = 6\n" + GRID + "port = 0\n")
    path.write_text(path.read_text().replace("port = 1503\nport = 0\n", "port = 0\n"))
    result = command("check-config", str(path))
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert f"{path}: site.grid_meter.port: expected 1..65535, got 0" in output
    assert "Traceback" not in output
