"""Reset across processes: the reference Central System resets the daemon; the test plays systemd
(it starts the daemon again after exit status 75, RestartForceExitStatus) and the board, whose
reboot command records each reboot or, told so, refuses it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from chargebox.service.reset import SOFT_RESET_EXIT_STATUS
from chargebox.site import SimulatedSite
from tests.system.test_remote_commands import CARD, booted_site, call, card, record, wait_status

pytestmark = pytest.mark.system

#: The board's reboot command, run in the site's folder: it fails while a file "refuse" exists,
#: else it records the reboot in "reboots".
REBOOT = [sys.executable, "-c",
          "import os, sys\nif os.path.exists('refuse'): sys.exit(3)\nopen('reboots', 'a').write('reboot\\n')"]


@pytest.fixture(scope="module")
def site() -> Iterator[SimulatedSite]:
    yield from booted_site(reboot_command=REBOOT)


def exits(site: SimulatedSite) -> int:
    return site.processes["chargebox"].wait(20)


def boots_again(site: SimulatedSite) -> None:
    """systemd's part: the daemon started again; until its BootNotification."""
    boots = len(record(site, "BootNotification"))
    site.start_daemon()
    site.wait_cs("BootNotification", boots + 1)


def reset(site: SimulatedSite, kind: str) -> dict[str, Any]:
    return call(site, "Reset", {"type": kind})


def test_a_soft_reset_stops_the_session_normally_and_the_box_boots_again(site: SimulatedSite) -> None:
    site.hw("POST", "/plug", {"connector": 1})
    card(site, CARD)
    site.wait_hw("relay", closed=True)
    assert reset(site, "Soft") == {"status": "Accepted"}
    (stop,) = site.wait_cs("StopTransaction")
    assert "idTag" not in stop["payload"] and stop["payload"]["transactionId"] == 1
    site.wait_hw("relay", closed=False)
    assert exits(site) == SOFT_RESET_EXIT_STATUS
    boots_again(site)
    wait_status(site, 1, "Occupied")  # the cable is still in; no session
    assert len(record(site, "StopTransaction")) == 1 and len(record(site, "StartTransaction")) == 1
    assert not site.hw("GET", "/state")["connectors"]["1"]["relay_closed"]
    site.hw("POST", "/unplug", {"connector": 1})
    wait_status(site, 1, "Available")


def test_a_hard_reset_the_board_refuses_is_retried_then_reported_as_reset_failure(site: SimulatedSite) -> None:
    assert call(site, "ChangeConfiguration", {"key": "ResetRetries", "value": "1"}) == {"status": "Accepted"}
    (site.workdir / "refuse").touch()
    assert reset(site, "Hard") == {"status": "Accepted"}
    assert exits(site) == SOFT_RESET_EXIT_STATUS  # the reboot was refused: the service restarts the daemon
    boots_again(site)  # ... which finds it did not reboot, and tries once more (ResetRetries 1)
    assert exits(site) == SOFT_RESET_EXIT_STATUS
    boots_again(site)
    wait_status(site, 0, "Available", "ResetFailure")
    assert not (site.workdir / "reboots").exists()
    assert "did not reboot after 2 attempt(s)" in site.log("chargebox")


def test_a_hard_reset_reboots_the_board_with_the_configured_command(site: SimulatedSite) -> None:
    (site.workdir / "refuse").unlink()
    assert reset(site, "Hard") == {"status": "Accepted"}
    assert exits(site) == 0  # the board goes down
    assert (site.workdir / "reboots").read_text() == "reboot\n"
