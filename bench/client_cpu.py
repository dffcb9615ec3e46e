"""Issue 19, row 6: the box's client CPU per request against a bare aiohttp POST of the same bytes (over
OCPP-J, a bare aiohttp WebSocket sending the same CALL), and against a minimal OCPP 1.6 JSON charge
point on the ``ocpp`` package (ocpp_peer.py).

    python bench/client_cpu.py [--protocol ocpp1.5-soap] [--messages N] [--repeats R | --full]

The daemon's figure is its process CPU time (/proc/PID/stat) over an outbox drain of N transaction
MeterValues (outbox_drain.py) divided by N: it holds the whole path of a request as the box makes
it (outbox read, render, schema validation, envelope, HTTP, parse, validation of the answer, and the
outbox commit), since the daemon has no way to send N requests without its outbox. The bare peer
POSTs the bytes of the same MeterValues request (rendered by the box's own binding) N times to the
same reference Central System from its own process (http_peer.py ``post``); over OCPP-J the bare peer
sends the payload the box's binding writes for that MeterValues as N CALLs on its own WebSocket to the
site's Central System, each once the last is answered (http_peer.py ``call``). The ``ocpp`` peer sends N
MeterValues over its WebSocket to the reference Central System speaking 1.6 JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from ocpp_peer import OcppPeer, ocpp_peer
from outbox_drain import drain
from realpath import BenchSite, Row, arguments, http_peer, parse, percentile, ratio, run_alone, soap, spread

from chargebox.binding.soap import envelope
from chargebox.binding.soap.client import CentralSystemClient
from chargebox.binding.soap.service import central_system_service
from chargebox.config import JSON
from chargebox.ocpp import schemas
from chargebox.ocpp.datatypes import MeterValue, SampledValue
from chargebox.ocpp.messages import MeterValuesRequest

SIZES = {"messages": (200, 2000), "repeats": (1, 3)}
MEASURE, GOAL = "box client CPU per request vs a bare aiohttp POST of the same bytes", "<= 1.5x"


def meter_values() -> MeterValuesRequest:
    """One of the drain's MeterValues."""
    return MeterValuesRequest(connector_id=1, transaction_id=1, values=[
        MeterValue(datetime.now(timezone.utc), [SampledValue("1000")])])


def meter_values_envelope(site: BenchSite) -> bytes:
    """The bytes of one of the drain's MeterValues as the box's binding of the site's SOAP version renders them."""
    client = CentralSystemClient(f"http://127.0.0.1:{site.central_system_port}/", site.identity,
                                 lambda: f"http://127.0.0.1:{site.box_port}/", allow_plain_http=True,
                                 service=central_system_service(soap(site)))
    body, _ = client.encode(meter_values())
    return body


def bare(site: BenchSite, n: int) -> tuple[float, str]:
    """The bare peer's CPU milliseconds per request for n of them, and what it is."""
    with tempfile.TemporaryDirectory() as folder:
        if site.protocol == JSON:
            payload = Path(folder) / "MeterValues.json"
            payload.write_text(json.dumps(schemas.write("MeterValues", meter_values())))
            url = f"{site.cs('GET', '/health')['url']}/BARE-1"
            return http_peer("call", url, str(payload), "MeterValues", str(n))["cpu"] / n * 1000, "bare aiohttp CALL"
        body = Path(folder) / "MeterValues.xml"
        body.write_bytes(meter_values_envelope(site))
        return (http_peer("post", f"http://127.0.0.1:{site.central_system_port}/", str(body), envelope.CONTENT_TYPE,
                          str(n))["cpu"] / n * 1000, "bare aiohttp POST")


def measure(site: BenchSite, options: argparse.Namespace, shared: OcppPeer | None = None) -> list[Row]:
    n = options.messages
    box = [drain(site, n).daemon_cpu / n * 1000 for _ in range(options.repeats)]
    with ocpp_peer(shared) as peer:
        ocpp = [peer.meter_values(n)["cpu"] / n * 1000 for _ in range(options.repeats)]
    runs = [bare(site, n) for _ in range(options.repeats)]
    plain, what = [cpu for cpu, _ in runs], runs[0][1]
    return [Row(MEASURE, GOAL, f"{spread(box, 'ms', 3)} (daemon, outbox drain of {n})",
                f"{what} {spread(plain, 'ms', 3)}; ocpp 1.6 JSON charge point {spread(ocpp, 'ms', 3)}",
                f"{ratio(percentile(box, 50), percentile(plain, 50))} (ocpp peer: "
                f"{ratio(percentile(box, 50), percentile(ocpp, 50))})")]


if __name__ == "__main__":
    run_alone(MEASURE, measure, parse(arguments(__doc__.splitlines()[0], SIZES), SIZES))
