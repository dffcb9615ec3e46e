"""Issue 19, row 1: card tap to relay closed, for a card in the box's local list (p50/p99).

    python bench/card_to_relay.py [--protocol ocpp1.5-soap] [--sessions N | --full]

Through the real processes: the reference Central System puts the card in the local list
(SendLocalList through the box's endpoint), then for each session the simulator plugs an EV and
presents the card; both instants come from the simulator's event log (its control interface
``/events``, ``/wait``): the ``card`` event is recorded as the reader's frame is written to its
pseudo-terminal, the ``relay`` event as the relay command reaches the simulated wire.
"""

from __future__ import annotations

import argparse
import time

from realpath import CARD, BenchSite, NotAvailable, Row, arguments, parse, percentile, run_alone, send_local_list

SIZES = {"sessions": (10, 100)}
MEASURE, GOAL = "card tap to relay closed, card in the local list", "p99 <= 10 ms"


def measure(site: BenchSite, options: argparse.Namespace) -> list[Row]:
    answer, _ = send_local_list(site, [CARD])
    if answer["payload"] is None or answer["payload"]["status"] != "Accepted":
        raise NotAvailable(f"the box did not take the card into its local list: {answer}")
    latencies = []
    for _ in range(options.sessions):
        mark = site.hw_seq()
        site.hw("POST", "/plug", {"connector": 1})
        site.hw("POST", "/card", {"uid": CARD, "hold": 0.2})
        card = site.wait_hw("card", after=mark)
        relay = site.wait_hw("relay", closed=True, after=mark)
        latencies.append((relay["time"] - card["time"]) * 1000)
        site.hw("POST", "/unplug", {"connector": 1})
        site.wait_hw("relay", closed=False, after=mark)
        site.wait_hw("card_removed", after=mark)
        time.sleep(0.5)  # the reader's hold window (0.4 s) passes: the next tap is a new one
    return [Row(MEASURE, GOAL, f"p99 {percentile(latencies, 99):.1f} ms, p50 {percentile(latencies, 50):.1f} ms "
                               f"(max {max(latencies):.1f}, n={len(latencies)})")]


if __name__ == "__main__":
    run_alone(MEASURE, measure, parse(arguments(__doc__.splitlines()[0], SIZES), SIZES))
