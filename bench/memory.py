"""Issue 19, row 5: the daemon's resident memory, running with all devices (reader, meter, pilot,
relay, lock, protection), idle, and after a burst (a SendLocalList Full and the endpoint load of
send_local_list.py and endpoint_rate.py): whether it comes back within 10 % of idle.

    python bench/memory.py [--protocol ocpp1.5-soap] [--entries N] [--seconds S] [--full]

VmRSS from /proc/PID/status once it has settled (two readings 1 s apart within 1 %, at most 10 s);
the peak is VmHWM. The peer is the minimal ``ocpp`` 1.6 JSON charge point idle (ocpp_peer.py).
"""

from __future__ import annotations

import argparse

import endpoint_rate
import send_local_list
from ocpp_peer import OcppPeer
from realpath import BenchSite, Row, arguments, memory_mb, parse, ratio, run_alone, settle

SIZES = {"entries": (2000, 50000), "seconds": (2, 10), "concurrency": (4, 4), "repeats": (1, 1)}
MEASURE, GOAL = "daemon resident memory, all devices: idle / after a burst", "<= 50 MB, back within 10 %"


def idle(site: BenchSite) -> float:
    return settle(site.pid)


def after_burst(site: BenchSite, idle_mb: float, peer_idle: float) -> Row:
    """The row, from the daemon's idle size before the burst and the peer's idle size."""
    after, peak = settle(site.pid), memory_mb(site.pid)["VmHWM"]
    back = after <= 1.1 * idle_mb
    return Row(MEASURE, GOAL, f"{idle_mb:.1f} MB idle, peak {peak:.1f}, {after:.1f} after "
                              f"({100 * (after / idle_mb - 1):+.0f} %: {'back' if back else 'NOT back'} within 10 %)",
               f"ocpp 1.6 JSON charge point {peer_idle:.1f} MB idle", ratio(idle_mb, peer_idle) + " (idle)")


def measure(site: BenchSite, options: argparse.Namespace) -> list[Row]:
    idle_mb = idle(site)
    with OcppPeer() as peer:
        peer_idle = settle(peer.charge_point.pid)
        send_local_list.measure(site, options, peer)
    endpoint_rate.measure(site, options)
    return [after_burst(site, idle_mb, peer_idle)]


if __name__ == "__main__":
    run_alone(MEASURE, measure, parse(arguments(__doc__.splitlines()[0], SIZES), SIZES))
