"""Issue 19, row 6: the box's client CPU per request against a bare aiohttp POST of the same bytes,
and against a minimal OCPP 1.6 JSON charge point on the ``ocpp`` package (ocpp_peer.py).

    python bench/client_cpu.py [--protocol ocpp1.5-soap] [--messages N] [--repeats R | --full]

The daemon's figure is its process CPU time (/proc/PID/stat) over an outbox drain of N transaction
MeterValues (outbox_drain.py) divided by N: it holds the whole path of a request as the box makes
it (outbox read, render, schema validation, envelope, HTTP, parse, validation of the answer, and the
outbox commit), since the daemon has no way to send N requests without its outbox. The bare peer
POSTs the bytes of the same MeterValues request (rendered by the box's own binding) N times to the
same reference Central System from its own process (http_peer.py); the ``ocpp`` peer sends N
MeterValues over its WebSocket to the reference Central System speaking 1.6 JSON.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from ocpp_peer import OcppPeer, ocpp_peer
from outbox_drain import drain
from realpath import BenchSite, Row, arguments, http_peer, parse, percentile, ratio, run_alone, spread

from chargebox.binding.soap import envelope
from chargebox.binding.soap.client import CentralSystemClient
from chargebox.ocpp.datatypes import MeterValue, SampledValue
from chargebox.ocpp.messages import MeterValuesRequest

SIZES = {"messages": (200, 2000), "repeats": (1, 3)}
MEASURE, GOAL = "box client CPU per request vs a bare aiohttp POST of the same bytes", "<= 1.5x"


def meter_values_envelope(site: BenchSite) -> bytes:
    """The bytes of one of the drain's MeterValues as the box's binding renders them."""
    client = CentralSystemClient(f"http://127.0.0.1:{site.central_system_port}/", site.identity,
                                 lambda: f"http://127.0.0.1:{site.box_port}/", allow_plain_http=True)
    body, _ = client.encode(MeterValuesRequest(connector_id=1, transaction_id=1, values=[
        MeterValue(datetime.now(timezone.utc), [SampledValue("1000")])]))
    return body


def measure(site: BenchSite, options: argparse.Namespace, shared: OcppPeer | None = None) -> list[Row]:
    n = options.messages
    box = [drain(site, n).daemon_cpu / n * 1000 for _ in range(options.repeats)]
    with ocpp_peer(shared) as peer:
        ocpp = [peer.meter_values(n)["cpu"] / n * 1000 for _ in range(options.repeats)]
    if site.protocol != "ocpp1.5-soap":
        return [Row(MEASURE, GOAL, spread(box, "ms", 3), f"ocpp 1.6 JSON charge point {spread(ocpp, 'ms', 3)}",
                    ratio(percentile(box, 50), percentile(ocpp, 50)) + " (vs ocpp)")]
    with tempfile.TemporaryDirectory() as folder:
        body = Path(folder) / "MeterValues.xml"
        body.write_bytes(meter_values_envelope(site))
        bare = [http_peer("post", f"http://127.0.0.1:{site.central_system_port}/", str(body),
                          envelope.CONTENT_TYPE, str(n))["cpu"] / n * 1000 for _ in range(options.repeats)]
    return [Row(MEASURE, GOAL, f"{spread(box, 'ms', 3)} (daemon, outbox drain of {n})",
                f"bare aiohttp POST {spread(bare, 'ms', 3)}; ocpp 1.6 JSON charge point {spread(ocpp, 'ms', 3)}",
                f"{ratio(percentile(box, 50), percentile(bare, 50))} (ocpp peer: "
                f"{ratio(percentile(box, 50), percentile(ocpp, 50))})")]


if __name__ == "__main__":
    run_alone(MEASURE, measure, parse(arguments(__doc__.splitlines()[0], SIZES), SIZES))
