"""bench/all.py runs every row of issue 19 through the real processes and prints one complete table, in
each protocol: a broken benchmark is noticed here. Nothing about the figures is checked (benchmarks, not tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chargebox.config import PROTOCOLS

ALL = Path(__file__).resolve().parents[2] / "bench" / "all.py"
#: Sizes that keep the run near 30 s: every row still goes through the daemon, the simulator and
#: the reference Central System, and both peers.
TINY = ["--sessions", "2", "--messages", "30", "--entries", "100", "--cpu-messages", "30", "--seconds", "1",
        "--list-limit-entries", "0"]
COLUMNS = 5


@pytest.mark.system
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_all_prints_a_complete_table(protocol: str) -> None:
    out = subprocess.run([sys.executable, str(ALL), "--quick", "--protocol", protocol, *TINY], capture_output=True,
                         text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and not line.startswith("| measure")]
    measures = [row.split(" | ")[0].removeprefix("| ") for row in rows]
    assert len(rows) == 7, out.stdout
    assert all(row.count(" | ") == COLUMNS - 1 for row in rows), out.stdout
    assert not [row for row in rows if "not measured" in row], out.stdout
    assert measures[0].startswith("card tap to relay") and measures[-1].startswith("endpoint requests"), measures
    # every row but the local list limit (quick: no 100,000 list sent) and the card and drain rows
    # (no peer in issue 19) has its peer measured in the same run
    assert all(row.split(" | ")[3] != "-" for row in rows[2:3] + rows[4:]), out.stdout
