"""Soft and hard reset as the service does them: the exit status systemd acts on, and a reboot
that falls back to a restart when it is refused."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from chargebox.service.reset import SOFT_RESET_EXIT_STATUS, Restarter


class Stop:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


async def test_a_plain_stop_exits_zero() -> None:
    assert await Restarter(Stop(), ["false"]).finish() == 0


async def test_a_soft_reset_stops_and_exits_with_the_restart_status() -> None:
    stop = Stop()
    restarter = Restarter(stop, ["false"])
    restarter.soft()
    assert stop.calls == 1
    assert await restarter.finish() == SOFT_RESET_EXIT_STATUS == 75


async def test_a_hard_reset_runs_the_reboot_command_and_exits_zero(tmp_path: Path) -> None:
    stop = Stop()
    marker = tmp_path / "rebooted"
    restarter = Restarter(stop, [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"])
    restarter.hard()
    assert stop.calls == 1
    assert await restarter.finish() == 0
    assert marker.exists()


async def test_a_refused_reboot_falls_back_to_a_restart(caplog: pytest.LogCaptureFixture) -> None:
    restarter = Restarter(Stop(), [sys.executable, "-c", "import sys; print('Access denied'); sys.exit(1)"])
    restarter.hard()
    assert await restarter.finish() == SOFT_RESET_EXIT_STATUS
    assert "failed with 1: Access denied; restarting the daemon instead" in caplog.text


async def test_a_missing_reboot_command_falls_back_to_a_restart(caplog: pytest.LogCaptureFixture) -> None:
    restarter = Restarter(Stop(), ["/nonexistent/systemctl", "reboot"])
    restarter.hard()
    assert await restarter.finish() == SOFT_RESET_EXIT_STATUS
    assert "cannot run /nonexistent/systemctl reboot" in caplog.text


async def test_the_reboot_command_cannot_speak_for_the_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """systemd's notify socket and watchdog are the main process's (sd_notify(3)); a child that
    inherited them could report READY or keep a hung daemon alive."""
    for key, value in (("NOTIFY_SOCKET", "/run/systemd/notify"), ("WATCHDOG_USEC", "30000000"),
                       ("WATCHDOG_PID", "1"), ("CHARGEBOX_TEST_KEPT", "yes")):
        monkeypatch.setenv(key, value)
    seen = tmp_path / "environment"
    restarter = Restarter(Stop(), [sys.executable, "-c", f"import os, json; open({str(seen)!r}, 'w').write("
                                                         "json.dumps(dict(os.environ)))"])
    restarter.hard()
    assert await restarter.finish() == 0
    environment = json.loads(seen.read_text())
    assert environment["CHARGEBOX_TEST_KEPT"] == "yes"
    assert not {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"} & environment.keys()
