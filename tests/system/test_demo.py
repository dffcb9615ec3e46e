"""``chargebox demo --protocol P``: the demo plays its session in each protocol, every message valid
against the reference Central System's schemas (the project's own: the demo runs without ../shared)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.system.sitetools import each_protocol

pytestmark = pytest.mark.system


@pytest.mark.parametrize("protocol", each_protocol())
def test_the_demo_plays_a_whole_session(protocol: str) -> None:
    done = subprocess.run([sys.executable, "-m", "chargebox.cli", "demo", "--protocol", protocol],
                          capture_output=True, text=True, timeout=120)
    print(done.stdout, done.stderr)
    assert done.returncode == 0
    assert f"chargebox demo ({protocol})" in done.stdout and "session complete" in done.stdout
    ocpp = [line.split("  ocpp  ", 1)[1] for line in done.stdout.splitlines() if "  ocpp  " in line]
    assert not [line for line in ocpp if line.endswith("INVALID")]
    actions = [line.split(".req")[0] for line in ocpp]
    assert [a for a in actions if a not in ("StatusNotification", "MeterValues", "Heartbeat")] == [
        "BootNotification", "Authorize", "StartTransaction", "StopTransaction"]
    # The meter registers are shown in either version's form of MeterValues.
    assert all("values=['" in line for line in ocpp if line.startswith("MeterValues"))
    assert actions.count("MeterValues") >= 2 and actions[-1] == "StatusNotification"
