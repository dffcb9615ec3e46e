"""Issue 19, row 3: SendLocalList Full through the box's endpoint, seconds, and the daemon's resident
memory before, at its peak and after.

    python bench/send_local_list.py [--protocol ocpp1.5-soap] [--entries N] [--repeats R | --full]

The reference Central System sends the list (its control interface ``/call``): over OCPP-J the time is
the Central System's round trip, from the CALL on the box's WebSocket to its answer (the box's parse,
validation, store commit and answer, and the wire); over SOAP the time runs from asking the Central
System to its answer record, or, for a list over 1 MiB, from a POST of it straight to the box's
endpoint to its answer (realpath.send_local_list). Memory is the daemon's VmRSS before, VmHWM (the peak
since it started) after the call, and VmRSS once it has settled (/proc/PID/status). The peer is the
minimal ``ocpp`` 1.6 JSON charge point (ocpp_peer.py) taking the same list from the reference
Central System speaking 1.6 JSON, timed by its round trip too.
"""

from __future__ import annotations

import argparse

from ocpp_peer import OcppPeer, ocpp_peer
from realpath import BenchSite, Row, arguments, memory_mb, parse, percentile, ratio, run_alone, send_local_list, settle, spread

SIZES = {"entries": (2000, 50000), "repeats": (1, 3)}
GOAL = "<= 2 s"


def measure_name(entries: int) -> str:
    return f"SendLocalList Full, {entries:,} entries, through the endpoint"


def id_tags(entries: int) -> list[str]:
    return [f"{n:08X}" for n in range(entries)]


def measure(site: BenchSite, options: argparse.Namespace, shared: OcppPeer | None = None) -> list[Row]:
    tags = id_tags(options.entries)
    before = memory_mb(site.pid)["VmRSS"]
    seconds, statuses, routes = [], set(), set()
    for _ in range(options.repeats):
        answer, elapsed = send_local_list(site, tags)
        seconds.append(elapsed)
        statuses.add(answer["payload"]["status"] if answer["payload"] else f"fault {answer['fault']}")
        routes.add(answer["route"])
    peak, after = memory_mb(site.pid)["VmHWM"], settle(site.pid)
    with ocpp_peer(shared) as peer:
        peer_before = peer.memory_mb()["VmRSS"]
        peer_seconds = [peer.send_local_list(tags) for _ in range(options.repeats)]
        peer_memory = peer.memory_mb()
    status = "" if statuses == {"Accepted"} else f" answered {', '.join(sorted(statuses))}!"
    via = "" if routes == {"/call"} else f" ({', '.join(sorted(routes))}: a SOAP list over 1 MiB)"
    return [Row(measure_name(options.entries), GOAL,
                f"{spread(seconds, 's', 2)}{status}{via}; RSS {before:.0f} MB before, peak {peak:.0f}, {after:.0f} after",
                f"ocpp 1.6 JSON charge point {spread(peer_seconds, 's', 2)}; RSS {peer_before:.0f} MB before, "
                f"peak {peer_memory['VmHWM']:.0f}, {peer_memory['VmRSS']:.0f} after",
                ratio(percentile(seconds, 50), percentile(peer_seconds, 50)))]


if __name__ == "__main__":
    options = parse(arguments(__doc__.splitlines()[0], SIZES), SIZES)
    run_alone(measure_name(options.entries), measure, options)
