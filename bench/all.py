"""Issue 19's table, every row through the real processes on one simulated site (``hwsim run``,
``chargebox run`` from a generated site config, the reference Central System), each figure beside
its goal and the peer measured in the same run.

    python bench/all.py [--protocol ocpp1.5-soap|ocpp1.6-json] [--quick | --full] [--SIZE N ...]

The quick run (the default) finishes in under 2 minutes; ``--full`` runs issue 19's sizes
(100 sessions, 10,000 messages, 50,000 and 100,000 entries, 3 repeats). Any size can be set alone.
Benchmarks, not tests: nothing here passes or fails (tests/bench/ only checks the table is complete).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import card_to_relay
import client_cpu
import endpoint_rate
import local_list_limit
import memory
import outbox_drain
import send_local_list
from ocpp_peer import OcppPeer
from realpath import BenchSite, NotAvailable, Row, arguments, parse, print_table, settle, unavailable

#: Every row script's sizes (quick, full); a size two rows share (repeats, seconds, entries of
#: rows 3 and 5) is one option.
SIZES = {**card_to_relay.SIZES, **outbox_drain.SIZES, **send_local_list.SIZES, **endpoint_rate.SIZES,
         "cpu_messages": client_cpu.SIZES["messages"], "list_limit_entries": local_list_limit.SIZES["entries"]}
ROWS = [(card_to_relay.MEASURE, card_to_relay.GOAL), (outbox_drain.MEASURE, outbox_drain.GOAL),
        ("SendLocalList Full through the endpoint", send_local_list.GOAL),
        (local_list_limit.MEASURE, local_list_limit.GOAL), (memory.MEASURE, memory.GOAL),
        (client_cpu.MEASURE, client_cpu.GOAL), (endpoint_rate.MEASURE, endpoint_rate.GOAL)]


def attempt(row: int, measure: Callable[[], list[Row]]) -> list[Row]:
    """The row's figures, or the row saying why it could not be measured (the others still are)."""
    try:
        return measure()
    except NotAvailable as err:
        return [unavailable(*ROWS[row], str(err))]


def run(site: BenchSite, peer: OcppPeer, options: argparse.Namespace) -> list[Row]:
    site.booted()
    peer_idle = settle(peer.charge_point.pid)
    rows = attempt(0, lambda: card_to_relay.measure(site, options))
    rows += attempt(1, lambda: outbox_drain.measure(site, options))
    idle = memory.idle(site)  # after the drain's restart: the daemon as it runs, idle
    rows += attempt(2, lambda: send_local_list.measure(site, options, peer))
    burst = attempt(6, lambda: endpoint_rate.measure(site, options))
    # Issue 19's burst is the SendLocalList above and the endpoint load; the 100,000 list comes after.
    after_burst = attempt(4, lambda: [memory.after_burst(site, idle, peer_idle)])
    limit = argparse.Namespace(**{**vars(options), "entries": options.list_limit_entries})
    rows += attempt(3, lambda: local_list_limit.measure(site, limit)) + after_burst
    cpu = argparse.Namespace(**{**vars(options), "messages": options.cpu_messages})
    rows += attempt(5, lambda: client_cpu.measure(site, cpu, peer))
    return rows + burst


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__.splitlines()[0], SIZES)
    parser.add_argument("--quick", action="store_true", help="the quick sizes (the default)")
    options = parse(parser, SIZES, argv)
    start = time.monotonic()
    site = BenchSite(options.protocol)
    rows: list[Row] = []
    try:
        with site, OcppPeer() as peer:
            rows = run(site, peer, options)
    except NotAvailable as err:
        rows = [unavailable(measure, goal, str(err)) for measure, goal in ROWS]
    finally:
        site.remove()
    print_table(rows, f"issue 19, {options.protocol}, {'full' if options.full else 'quick'} sizes, "
                      f"{time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
