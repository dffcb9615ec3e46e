"""A card reader or modem that cannot be opened is in the daemon's log once, with its device path and
the reason, and once more when it is back; through the real processes (hwsim's reader and modem ptys)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from chargebox.site import SimulatedSite
from tests.system.sitetools import running, wait_until

pytestmark = pytest.mark.system


@pytest.fixture
def site() -> Iterator[SimulatedSite]:
    with running(SimulatedSite(mobile=True)) as site:
        yield site


def test_a_device_that_cannot_be_opened_is_logged_once_and_once_when_back(site: SimulatedSite) -> None:
    site.wait_cs("BootNotification")
    assert site.stop_daemon() == 0
    # The daemon starts again with its reader and modem at paths where nothing is yet, as a box whose
    # USB adapters are not plugged in (or not yet enumerated).
    reader, modem = site.workdir / "reader-later", site.workdir / "modem-later"
    config = site.config_path.read_text()
    site.config_path.write_text(config.replace(f'"{site.workdir / "reader"}"', f'"{reader}"')
                                .replace(f'"{site.workdir / "modem"}"', f'"{modem}"'))
    start = len(site.log("chargebox").splitlines())
    site.start_daemon()

    def lines(path: os.PathLike[str]) -> list[str]:
        # BootNotification's own line says why it goes without the SIM's ICCID and IMSI.
        return [line for line in site.log("chargebox").splitlines()[start:]
                if str(path) in line and "BootNotification" not in line]

    wait_until(lambda: bool(lines(reader)) and bool(lines(modem)))
    # Absent for several reopen attempts (reader every 1 s, modem every 0.5 s), then plugged in.
    time.sleep(2.5)
    reader.symlink_to(os.readlink(site.workdir / "reader"))
    modem.symlink_to(os.readlink(site.workdir / "modem"))
    wait_until(lambda: len(lines(reader)) == 2 and len(lines(modem)) == 2)

    for path in (reader, modem):
        failed, back = lines(path)
        assert " WARNING " in failed and "No such file or directory" in failed, failed
        assert " INFO " in back and "is back" in back, back
    time.sleep(1.5)  # nothing more once they are back
    assert len(lines(reader)) == 2 and len(lines(modem)) == 2, site.log("chargebox")
